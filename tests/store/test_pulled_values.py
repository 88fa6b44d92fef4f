"""Values pulled from the server are taken as they are only when checking them again
could not change or refuse them (desktop.store.remote._validator): every value, in the
normal form or not, comes out of the pull's checker as validate_value has it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.errors import ValidationError
from desktop.schema import ENTITIES, validate_value
from desktop.store.remote import _validator

_FIELDS = (("activity", "due_at"), ("activity", "done_at"), ("deal", "close_date"),
           ("account", "phone"), ("contact", "email"), ("contact", "account_id"))


def _outcome(check: Any, value: Any) -> tuple[str, Any]:
    try:
        return ("ok", check(value))
    except ValidationError:
        return ("refused", None)


def _same(value: Any) -> None:
    for entity, name in _FIELDS:
        ent = ENTITIES[entity]
        fast = _outcome(_validator(ent, name), value)
        slow = _outcome(lambda v, e=ent, n=name: validate_value(e, n, v), value)
        assert fast == slow, (entity, name, value)


_moments = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 30),
                        timezones=st.just(dt.UTC))


@settings(max_examples=400, deadline=None)
@given(_moments, st.sampled_from(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S+08:00",
                                  "%Y-%m-%d %H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", " %Y-%m-%d"]))
def test_a_moment_in_any_form_comes_out_as_validate_value_gives_it(moment: dt.datetime,
                                                                   form: str) -> None:
    _same(moment.strftime(form))


def test_calendar_edges_and_lookalikes_are_judged_like_validate_value() -> None:
    for text in ["2026-02-29", "2024-02-29", "2026-02-30", "2026-04-31", "2026-12-31",
                 "0000-01-01", "0001-01-01", "2026-13-01", "2026-00-10", "2026-1-5",
                 "２０２６-０１-０５", "2026-01-05T24:00:00Z", "2026-01-05T23:59:60Z",
                 "2026-02-30T10:00:00Z", "2026-12-31T23:59:59Z", "0000-01-01T00:00:00Z",
                 "2026-01-05T10:00:00z", "2026-01-05T10:00:00Z\n", "", None, 20260105,
                 ["2026-01-05"]]:
        _same(text)


def test_a_line_break_after_a_phone_an_email_or_an_id_is_not_taken_as_it_is() -> None:
    for text in ["+8613912345678", "+8613912345678\n", "li.wei@example.cn",
                 "li.wei@example.cn\n", "Li.Wei@example.cn", "0b6c2f1e-4d1a-4c7e-9a51-3f2d8e9b7a10",
                 "0b6c2f1e-4d1a-4c7e-9a51-3f2d8e9b7a10\n", ["+8613912345678\n"]]:
        _same(text)
