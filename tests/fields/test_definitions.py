"""Field definitions as data (desktop.schema): the checks an admin's change passes, and
installing definitions into the schema."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.schema import (
    ENTITIES,
    MAX_CUSTOM_FIELDS,
    FieldDefError,
    check_field_def,
    field_def_id,
    install_field_defs,
    normalize_field_name,
    schema_generation,
    visible_fields,
)


def d(name: str, ftype: str = "text", entity: str = "account", **more: Any) -> dict[str, Any]:
    return {"id": field_def_id(entity, name), "entity": entity, "name": name, "type": ftype,
            **more}


def test_names_are_normalised_and_ids_are_one_per_entity_and_name() -> None:
    assert normalize_field_name("Lead Source") == "cf_lead_source"
    assert normalize_field_name("cf_rank") == "cf_rank"
    assert field_def_id("account", "cf_x") == field_def_id("account", "cf_x")
    assert field_def_id("account", "cf_x") != field_def_id("deal", "cf_x")


@pytest.mark.parametrize(("defn", "others", "message"), [
    (d("cf_rank"), [d("cf_rank") | {"id": "other"}], "already has a field named 'cf_rank'"),
    (d("cf_rank"), [d("cf_RANK") | {"id": "other"}], "already has a field named"),
    (d("cf_employees"), [], "reserved name"),  # declared in code
    (d("owner"), [], "reserved name"),
    (d("cf_客户"), [], "not a valid field name"),
    (d("cf_x", "choice"), [], "at least one choice"),
    (d("cf_x", "choice", choices=["a", "a"]), [], "repeat a value"),
    (d("cf_x", "choice", choices=["a", " "]), [], "non-empty texts"),
    (d("cf_x", "money"), [], "Type 'money' is not one of"),
    (d("cf_x", entity="contract"), [], "Custom fields can be added to"),
    (d("cf_x", entity="deal", stages=["nope"]), [], "Unknown stage 'nope'"),
])
def test_a_bad_definition_is_refused_with_a_clear_reason(
        defn: dict[str, Any], others: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(FieldDefError, match=message):
        check_field_def(defn, others)


def test_the_limit_is_200_custom_fields_per_entity() -> None:
    declared = 2  # cf_employees, cf_source (desktop.schema.DEFAULT_CUSTOM_FIELDS)
    others = [d(f"cf_f{i}") for i in range(MAX_CUSTOM_FIELDS - declared - 1)]
    check_field_def(d("cf_last"), others)  # the 200th
    with pytest.raises(FieldDefError, match="already has 200 custom fields"):
        check_field_def(d("cf_one_more"), [*others, d("cf_last")])
    check_field_def(d("cf_f1", label_en="Renamed"), others, before=d("cf_f1"))  # updates pass
    check_field_def(d("cf_other", entity="deal"), [*others, d("cf_last")])  # per entity


def test_changes_that_would_lose_data_are_refused() -> None:
    before = d("cf_lvl", "choice", choices=["a", "b"])
    check_field_def(d("cf_lvl", "choice", choices=["a", "b", "c"]), [], before)
    with pytest.raises(FieldDefError, match="Choice 'b' may be in use"):
        check_field_def(d("cf_lvl", "choice", choices=["a"]), [], before)
    with pytest.raises(FieldDefError, match="change-type"):
        check_field_def(d("cf_lvl", "text"), [], before)
    with pytest.raises(FieldDefError, match="cannot change"):
        check_field_def(d("cf_lvl", "choice", choices=["a", "b"]) | {"entity": "deal"}, [],
                        before)


def test_installing_adds_fields_and_keeps_a_vanished_one_retired() -> None:
    acc = ENTITIES["account"]
    gen = schema_generation()
    assert install_field_defs([d("cf_rank", label_zh="对接人职级", position=2),
                               d("cf_tier", "choice", choices=["A", "B"], position=1)])
    assert schema_generation() > gen
    assert [f.name for f in acc.fields][-2:] == ["cf_tier", "cf_rank"]  # by position
    assert acc.field("cf_rank").label("zh") == "对接人职级"
    assert not install_field_defs([d("cf_rank", label_zh="对接人职级", position=2),
                                   d("cf_tier", "choice", choices=["A", "B"], position=1)])
    install_field_defs([d("cf_rank", label_zh="对接人职级", position=2, retired=True)])
    assert acc.field("cf_rank").retired and acc.field("cf_tier").retired
    assert "cf_rank" not in [f.name for f in visible_fields(acc)]
    install_field_defs([d("cf_rank", position=2)])  # restored
    assert not acc.field("cf_rank").retired
    bad = d("owner") | {"name": "owner"}  # never installed, whatever arrives
    install_field_defs([bad])
    assert acc.field("owner").from_def is False


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from desktop.schema import Field, FieldType, coerce_value  # noqa: E402

TARGETS = [Field("cf_t", FieldType(t), "T", "T", custom=True, from_def=True,
                 choices=("A", "B") if t in ("choice", "list") else ())
           for t in ("text", "number", "date", "choice", "list")]
VALUES = st.one_of(st.none(), st.text(max_size=30), st.integers(-10**9, 10**9),
                   st.floats(allow_nan=False, allow_infinity=False),
                   st.lists(st.text(max_size=8), max_size=4),
                   st.dates().map(lambda d: d.strftime("%Y/%m/%d")), st.sampled_from(["A", "B"]))


@settings(max_examples=300, deadline=None)
@given(value=VALUES, target=st.sampled_from(TARGETS))
def test_a_conversion_is_idempotent_and_says_why_when_it_fails(value: Any, target: Any) -> None:
    ok, new, reason = coerce_value(target, value)
    if ok:
        assert coerce_value(target, new) == (True, new, "")  # every replica, any order
    else:
        assert new is None and reason
