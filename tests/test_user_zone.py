"""The user's time zone setting, not the computer's, in quick add, the agenda, the home
numbers and a note's dates (issue 25): a rep whose setting is New York on a laptop set to
Shanghai types "10:00" and means 10:00 New York; "today" is the rep's today."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from desktop import cli, rep_cli
from desktop.errors import ValidationError
from desktop.followup.clock import user_zone
from desktop.followup.settings import FollowupSettings, save_settings
from desktop.store import Store
from desktop.timezones import now_in, system_zone, wall, zone

NY, BJ = zone("America/New_York"), zone("Asia/Shanghai")
assert NY is not None and BJ is not None


@pytest.fixture
def ny_rep_on_a_shanghai_laptop(profile: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    assert system_zone(fresh=True).utcoffset(dt.datetime(2026, 7, 1)) == dt.timedelta(hours=8)
    with Store.open(profile) as store:
        save_settings(store, FollowupSettings(time_zone="America/New_York"))
        store.repo("account").create({"name": "华东精密机械"})
        assert user_zone(store) == NY
    return profile


def _run(capsys: pytest.CaptureFixture[str], profile: Path, *argv: str) -> Any:
    assert cli.main(["--profile", str(profile), *argv]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out.splitlines()[-1])


def _set_now(monkeypatch: pytest.MonkeyPatch, utc: str) -> None:
    moment = dt.datetime.fromisoformat(utc)
    monkeypatch.setattr(rep_cli, "_now", lambda: moment)


def test_a_wall_time_is_read_in_the_given_zone_and_a_skipped_hour_is_refused() -> None:
    ten = dt.datetime(2026, 7, 16, 10, 0)
    assert wall(ten, NY) == dt.datetime(2026, 7, 16, 14, 0, tzinfo=dt.UTC)
    assert wall(ten, BJ) == dt.datetime(2026, 7, 16, 2, 0, tzinfo=dt.UTC)
    assert wall(dt.datetime(2026, 11, 2, 10, 0), NY).hour == 15  # winter: UTC-5
    with pytest.raises(ValidationError, match="skip"):  # 2026-03-08 02:30 never happens in NY
        wall(dt.datetime(2026, 3, 8, 2, 30), NY)
    assert wall(dt.datetime(2026, 11, 1, 1, 30), NY).hour == 5  # twice: the first (EDT)
    assert now_in(NY, dt.datetime(2026, 7, 16, 2, 0, tzinfo=dt.UTC)).date() == dt.date(2026, 7, 15)


def test_quick_add_reads_10_00_in_the_users_zone_not_the_laptops(
        ny_rep_on_a_shanghai_laptop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = ny_rep_on_a_shanghai_laptop
    for when, utc in (("2026-07-16T10:00", "2026-07-16T14:00:00Z"),   # EDT
                      ("2026-11-02T10:00", "2026-11-02T15:00:00Z"),   # EST, after the change
                      ("2026-07-16T10:00+08:00", "2026-07-16T02:00:00Z")):  # an offset wins
        out = _run(capsys, profile, "quick-add", "task", "--account", "华东", "--subject",
                   "报价", "--when", when, "--json")
        with Store.open(profile) as store:
            assert store.repo("activity").get(out["id"])["due_at"] == utc, when
    assert cli.main(["--profile", str(profile), "quick-add", "task", "--account", "华东",
                     "--subject", "x", "--when", "2026-03-08T02:30", "--json"]) == 2
    assert "skip" in capsys.readouterr().err


def test_the_agenda_and_home_count_the_users_today_across_the_change_of_clocks(
        ny_rep_on_a_shanghai_laptop: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """1 Nov 2026 is 25 hours long in New York. At 07:00 New York (19:00 in Shanghai) a
    task due 23:30 New York (2 Nov 04:30 UTC, 12:30 in Shanghai tomorrow) is today's."""
    profile = ny_rep_on_a_shanghai_laptop
    _set_now(monkeypatch, "2026-11-01T12:00:00+00:00")
    out = _run(capsys, profile, "quick-add", "task", "--account", "华东", "--subject",
               "晚间电话", "--when", "2026-11-01T23:30", "--json")
    agenda = _run(capsys, profile, "agenda", "--json")
    assert [i["id"] for i in agenda["today"]] == [out["id"]]
    assert agenda["today"][0]["due_at"] == "2026-11-02T04:30:00Z"
    assert _run(capsys, profile, "home", "--json")["due_today"] == 1
    with Store.open(profile) as store:  # the laptop's zone would call it tomorrow's
        save_settings(store, FollowupSettings(time_zone=""))
    assert _run(capsys, profile, "agenda", "--json")["today"] == []
    assert _run(capsys, profile, "home", "--json")["due_today"] == 0


def test_a_notes_tomorrow_10_is_the_users_tomorrow_at_10_there(
        ny_rep_on_a_shanghai_laptop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Saturday 7 March 2026, 20:00 in New York (Sunday 09:00 in Shanghai): "明天10点" is
    Sunday 8 March 10:00 New York, the first day of summer time: 14:00 UTC, not 15:00."""
    profile = ny_rep_on_a_shanghai_laptop
    out = _run(capsys, profile, "capture", "note", "明天10点给张总打电话", "--now",
               "2026-03-07T20:00", "--apply", "--json")
    assert out["due"] == "2026-03-08T10:00"
    with Store.open(profile) as store:
        task = store.repo("activity").get(out["applied"]["task_id"])
    assert task["due_at"] == "2026-03-08T14:00:00Z"


def test_a_note_with_no_profile_yet_reads_dates_in_the_laptops_zone(
        profile: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    out = _run(capsys, profile, "capture", "note", "明天10点给张总打电话", "--now",
               "2026-03-07T20:00", "--json")
    assert out["due"] == "2026-03-08T10:00"  # Shanghai's tomorrow; nothing written
    assert not profile.exists()
