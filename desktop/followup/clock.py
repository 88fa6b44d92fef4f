"""The clock the follow-up rules read: injectable, so tests can jump hours, change the
time zone or cross a daylight-saving change without waiting.

All instants are aware UTC datetimes; the zone is only used to show times and to decide
what local wall-clock hour it is (quiet hours, the heat map, "today").
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from desktop.store import Store

UTC = dt.UTC


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, aware, in UTC."""
        ...

    def zone(self) -> dt.tzinfo:
        """The user's current time zone."""
        ...


def local_zone() -> dt.tzinfo:
    """The system's zone as an IANA zone (desktop.timezones: re-read every 30 s and when
    TZ changes, a laptop may cross time zones; never today's fixed offset, which is an
    hour off across a change of clocks)."""
    from desktop.timezones import system_zone

    return system_zone()


def user_zone(store: Store) -> dt.tzinfo:
    """The user's zone: the follow-up settings' "Time zone" (an IANA name), else the
    system's. What "today", a typed "tomorrow 10:00" and the agenda are read in."""
    from desktop.followup.settings import load_settings
    from desktop.timezones import viewer_zone

    return viewer_zone(load_settings(store).time_zone)


class SystemClock:
    """The real clock; `zone_name` (an IANA name from the settings) overrides the system zone."""

    def __init__(self, zone_name: str = "") -> None:
        self.zone_name = zone_name

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)

    def zone(self) -> dt.tzinfo:
        if self.zone_name:
            try:
                return ZoneInfo(self.zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return local_zone()


class FakeClock:
    """A clock for tests: set or advance the instant, change the zone."""

    def __init__(self, start: dt.datetime, zone: str = "Asia/Shanghai") -> None:
        self.instant = start.astimezone(UTC)
        self.tz: dt.tzinfo = ZoneInfo(zone)

    def now(self) -> dt.datetime:
        return self.instant

    def zone(self) -> dt.tzinfo:
        return self.tz

    def advance(self, **delta: float) -> None:
        self.instant += dt.timedelta(**delta)

    def set_zone(self, name: str) -> None:
        self.tz = ZoneInfo(name)


def parse_iso(text: str | None) -> dt.datetime | None:
    """A stored UTC ISO-8601 text (with Z or an offset) as an aware datetime, or None."""
    if not text:
        return None
    try:
        out = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return out if out.tzinfo else out.replace(tzinfo=UTC)


def iso(moment: dt.datetime) -> str:
    """The fixed-width UTC text the store uses, so string order is time order."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
