"""Python dates and wall times as Qt's, field by field (PySide6 6.11's signatures take no
Python datetime, and a naive wall time must not be read in the system's zone)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QDateTime, QTime


def qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def wall_qdatetime(moment: dt.datetime) -> QDateTime:
    """The wall time of `moment` (its own zone's, if it has one) for a QDateTimeEdit."""
    return QDateTime(qdate(moment.date()), QTime(moment.hour, moment.minute, moment.second))
