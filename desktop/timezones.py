"""Time zones (issue 25), Qt-free: the viewer's zone, instants shown in it and in an
activity's own zone where that differs ("2026-07-15 22:00 (10:00 New York)"), local
times typed by the user turned into UTC instants, refusing a wall time that does not
exist (the hour skipped when clocks go forward).

Instants are stored in UTC (`...Z`); a date that is a date (a due day, a birthday) is
never shifted. The viewer's zone is the user's setting (IANA name), else the system's,
re-read each time: a laptop that travels shows the new zone at once.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from desktop.errors import ValidationError

LOCAL_FORMAT = "%Y-%m-%d %H:%M"
_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
CITY_ZH = {
    "America/New_York": "纽约", "America/Los_Angeles": "洛杉矶", "America/Chicago": "芝加哥",
    "America/Toronto": "多伦多", "America/Sao_Paulo": "圣保罗", "Europe/London": "伦敦",
    "Europe/Paris": "巴黎", "Europe/Berlin": "柏林", "Europe/Moscow": "莫斯科",
    "Asia/Shanghai": "北京", "Asia/Hong_Kong": "香港", "Asia/Taipei": "台北",
    "Asia/Tokyo": "东京", "Asia/Seoul": "首尔", "Asia/Singapore": "新加坡",
    "Asia/Dubai": "迪拜", "Asia/Kolkata": "印度", "Australia/Sydney": "悉尼",
    "UTC": "UTC",
}


def zone(name: str | None) -> dt.tzinfo | None:
    """The zone of an IANA name, or None when there is no such zone."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


_SYSTEM_TTL_S = 30.0
_system: dict[str, object] = {}


def system_zone(*, fresh: bool = False) -> dt.tzinfo:
    """The computer's zone as an IANA zone (tzlocal: TZ, /etc/localtime, the Windows
    registry), never the fixed offset of today, which is an hour off for half the year
    in a zone with summer time. Re-read every 30 s: a laptop that travels follows."""
    now, env = time.monotonic(), os.environ.get("TZ")
    if (fresh or not _system or _system["env"] != env
            or now - float(_system["at"]) > _SYSTEM_TTL_S):  # type: ignore[arg-type]
        import tzlocal

        if hasattr(time, "tzset"):
            time.tzset()
        try:
            tz: dt.tzinfo = tzlocal.reload_localzone()
        except Exception:  # a broken local setting: the offset of today, as before
            tz = dt.datetime.now().astimezone().tzinfo or dt.UTC
        _system.update(zone=tz, at=now, env=env)
    return _system["zone"]  # type: ignore[return-value]


def viewer_zone(setting: str = "") -> dt.tzinfo:
    """The user's zone: the setting's IANA name, else the system's."""
    return zone(setting) or system_zone()


def zone_name(tz: dt.tzinfo) -> str:
    """An IANA name for a zone where one is known ("" for a bare system offset)."""
    return getattr(tz, "key", "") or ""


def city(name: str, lang: str = "en") -> str:
    if lang == "zh" and name in CITY_ZH:
        return CITY_ZH[name]
    return name.rsplit("/", 1)[-1].replace("_", " ")


def parse_utc(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def show(utc_iso: str | None, viewer: dt.tzinfo, own: str | None = None,
         lang: str = "en") -> str:
    """An instant in the viewer's zone; with the record's own zone when its wall time
    there differs: "2026-07-15 22:00 (10:00 New York)"."""
    if not utc_iso:
        return ""
    moment = parse_utc(utc_iso)
    if moment is None:
        return utc_iso
    here = moment.astimezone(viewer)
    text = here.strftime(LOCAL_FORMAT)
    there_tz = zone(own)
    if there_tz is None:
        return text
    there = moment.astimezone(there_tz)
    if there.utcoffset() == here.utcoffset():
        return text
    day = "" if there.date() == here.date() else there.strftime("%m-%d ")
    return f"{text} ({day}{there.strftime('%H:%M')} {city(own or '', lang)})"


def now_in(tz: dt.tzinfo, now: dt.datetime | None = None) -> dt.datetime:
    """Now (or `now`, aware) as a wall-clock time in `tz`: the user's "today" and the
    default of a date-time editor come from it, never from the computer's zone."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(tz)


def wall(naive: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A wall-clock time in zone `tz` (typed by the user, or a date-time editor's naive
    value) -> the aware UTC instant. Raises ValidationError for a wall time the zone
    skips (clocks going forward); a time that occurs twice (clocks going back) is the
    first of the two. An aware value is only converted."""
    if naive.tzinfo is not None and naive.utcoffset() is not None:
        return naive.astimezone(dt.UTC)
    naive = naive.replace(tzinfo=None, fold=0)
    local = naive.replace(tzinfo=tz)
    if local.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) != naive:
        shown = naive.strftime(LOCAL_FORMAT)
        raise ValidationError(f"{shown} does not exist in {city(zone_name(tz)) or 'this zone'}"
                              ": the clocks skip that hour", field="time")
    return local.astimezone(dt.UTC)


def to_utc(text: str, tz: dt.tzinfo) -> str | None:
    """"2026-07-15 10:00" (or a date) typed in zone `tz` -> UTC text; None when empty.
    Raises ValidationError for text that is not a date and time, and for a wall time the
    zone skips (clocks going forward). A time that occurs twice (clocks going back)
    is the first of the two."""
    text = text.strip()
    if not text:
        return None
    for fmt in (LOCAL_FORMAT, "%Y-%m-%d"):
        try:
            naive = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        try:
            return wall(naive, tz).strftime(_UTC_FORMAT)
        except ValidationError:
            raise ValidationError(f"{text} does not exist in "
                                  f"{city(zone_name(tz)) or 'this zone'}: the clocks skip "
                                  "that hour", field="time") from None
    raise ValidationError(f"'{text}' is not a date and time (YYYY-MM-DD HH:MM)", field="time")
