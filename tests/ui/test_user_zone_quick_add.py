"""Quick add on a Shanghai laptop for a rep whose time zone setting is New York (issue 25):
the time editor starts at New York's now, and the time picked is New York time."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from PySide6.QtCore import QDate, QDateTime, QTime

from desktop.timezones import now_in, zone
from desktop.ui.common.formatting import set_viewer_zone
from desktop.ui.quickadd import QuickAddDialog

NY = zone("America/New_York")
assert NY is not None


def test_quick_add_reads_the_picked_time_in_the_users_zone(
        qtbot: Any, ctx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    set_viewer_zone("America/New_York")
    try:
        dlg = QuickAddDialog(ctx, kind="call")
        qtbot.addWidget(dlg)
        start = dlg.when.dateTime().toPython()
        ny_now = now_in(NY).replace(tzinfo=None)
        assert abs(start - ny_now) < dt.timedelta(minutes=2), (start, ny_now)
        for day, utc_hour in ((QDate(2026, 7, 16), 14), (QDate(2026, 11, 2), 15)):
            dlg.when.setDateTime(QDateTime(day, QTime(10, 0)))
            when = dlg.entry().when
            assert when is not None
            assert when == dt.datetime(day.year(), day.month(), day.day(), utc_hour,
                                       tzinfo=dt.UTC)
    finally:
        set_viewer_zone("")
