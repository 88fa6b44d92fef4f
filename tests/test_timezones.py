"""Every time zone (issue 25): instants stored in UTC, shown in the viewer's zone and the
activity's own; a local time that does not exist is refused; reminders across a change
of clocks fire at the right UTC instant; a travelling laptop shows its new zone."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from desktop.errors import ValidationError
from desktop.followup.reminders import task_reminder
from desktop.followup.settings import FollowupSettings
from desktop.store import Store
from desktop.timezones import show, system_zone, to_utc, zone

NY, BJ = zone("America/New_York"), zone("Asia/Shanghai")


def test_a_new_york_meeting_shows_in_beijing_at_the_right_hour_summer_and_winter() -> None:
    assert NY is not None and BJ is not None
    summer = to_utc("2026-07-15 10:00", NY)
    winter = to_utc("2026-01-15 10:00", NY)
    assert (summer, winter) == ("2026-07-15T14:00:00Z", "2026-01-15T15:00:00Z")
    assert show(summer, BJ, "America/New_York") == "2026-07-15 22:00 (10:00 New York)"
    assert show(winter, BJ, "America/New_York", "zh") == "2026-01-15 23:00 (10:00 纽约)"
    # the New York user sees it as typed, once
    assert show(summer, NY, "America/New_York") == "2026-07-15 10:00"
    # a date on the other side of midnight says so
    late = to_utc("2026-07-15 20:00", NY)
    assert show(late, BJ, "America/New_York") == "2026-07-16 08:00 (07-15 20:00 New York)"


def test_a_time_the_clocks_skip_is_refused_and_a_repeated_one_is_the_first() -> None:
    assert NY is not None
    with pytest.raises(ValidationError, match="does not exist in New York"):
        to_utc("2026-03-08 02:30", NY)
    assert to_utc("2026-11-01 01:30", NY) == "2026-11-01T05:30:00Z"  # EDT, the first 01:30
    with pytest.raises(ValidationError, match="not a date and time"):
        to_utc("next tuesday", NY)
    assert to_utc("  ", NY) is None


def test_a_reminder_across_the_us_change_of_clocks_fires_at_the_right_instant() -> None:
    assert NY is not None
    s = FollowupSettings()  # 15 minutes before
    before = {"id": "a", "deleted": 0, "kind": "task", "done_at": None, "subject": "call",
              "owner": "amy", "due_at": to_utc("2026-03-06 09:00", NY)}
    after = {**before, "id": "b", "due_at": to_utc("2026-03-09 09:00", NY)}
    r1, r2 = task_reminder(before, s), task_reminder(after, s)
    assert r1 is not None and r2 is not None
    assert (r1.fire_at, r2.fire_at) == ("2026-03-06T13:45:00Z", "2026-03-09T12:45:00Z")


def test_a_travelling_laptop_shows_its_new_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(time, "tzset"):
        pytest.fail("this test needs time.tzset (Unix)")
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    assert show("2026-07-15T14:00:00Z", system_zone(fresh=True)) == "2026-07-15 22:00"
    monkeypatch.setenv("TZ", "America/New_York")
    # in December, a summer instant: New York's summer offset, not today's
    assert show("2026-07-15T14:00:00Z", system_zone(fresh=True)) == "2026-07-15 10:00"
    monkeypatch.delenv("TZ")
    system_zone(fresh=True)
    assert os.environ.get("TZ") is None


def test_an_activity_keeps_a_real_zone_only(profile: Path) -> None:
    with Store.open(profile) as store:
        a = store.repo("activity").create({"kind": "visit", "subject": "拜访",
                                           "due_at": "2026-07-15T14:00:00Z",
                                           "time_zone": "America/New_York"})
        assert a["time_zone"] == "America/New_York"
        with pytest.raises(ValidationError, match="not a time zone"):
            store.repo("activity").create({"kind": "visit", "subject": "x",
                                           "time_zone": "Mars/Olympus"})


def test_follow_up_settings_refuse_an_unknown_zone() -> None:
    with pytest.raises(ValidationError, match="not a time zone"):
        FollowupSettings(time_zone="Beijing").validate()
    assert FollowupSettings(time_zone="Asia/Shanghai").validate().time_zone == "Asia/Shanghai"
