"""Display helpers (no widgets): local times, amounts, record titles, field errors."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from desktop import timezones
from desktop.errors import ValidationError
from desktop.schema import Check, Entity, Field, FieldType
from desktop.ui.common.i18n import Translator

LOCAL_FORMAT = timezones.LOCAL_FORMAT
_viewer = {"zone": ""}  # the user's zone setting (IANA; "" = the system's), see set_viewer_zone


def set_viewer_zone(name: str) -> None:
    """Times are shown and typed in this zone from now on (the user's setting)."""
    _viewer["zone"] = name or ""


def viewer_zone() -> dt.tzinfo:
    return timezones.viewer_zone(_viewer["zone"])


def local_time(utc_iso: str | None, own_zone: str | None = None, lang: str = "en") -> str:
    """A stored UTC ISO time in the viewer's zone ("2026-11-22 12:15"); with the record's
    own zone where its wall time differs ("2026-07-15 22:00 (10:00 New York)")."""
    return timezones.show(utc_iso, viewer_zone(), own_zone, lang)


def parse_local_time(text: str) -> str | None:
    """"2026-11-22 12:15" typed in the viewer's zone -> UTC ISO for the store; None if
    empty. Raises ValidationError when it is not a date and time, or a time the zone
    skips when its clocks go forward."""
    return timezones.to_utc(text, viewer_zone())


def amount(value: Any, currency: str | None = None) -> str:
    if value is None or value == "":
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    text = f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}"
    return f"{currency or ''} {text}".strip()


def display_value(f: Field, value: Any, tr: Translator) -> str:
    """A field value as the rep reads it."""
    if value is None or value == "" or value == []:
        return ""
    if f.type is FieldType.DATETIME:
        return local_time(value)
    if f.type is FieldType.CHOICE:
        return tr.choice(value)
    if f.check is Check.PHONE:
        items = value if isinstance(value, list) else [value]
        return ", ".join(pretty_phone(str(v)) for v in items)
    if f.type is FieldType.LIST:
        return ", ".join(str(v) for v in value)
    if f.type is FieldType.NUMBER:
        return amount(value)
    if f.type is FieldType.BOOL:
        return tr.tr("Yes") if value else tr.tr("No")
    return str(value)


@lru_cache(maxsize=4096)
def pretty_phone(e164: str) -> str:
    """+8613912345678 -> +86 139 1234 5678 (as stored if it does not parse, or masked:
    +86****5678, desktop.visibility)."""
    import phonenumbers

    if "*" in e164:
        return e164

    try:
        num = phonenumbers.parse(e164, "CN")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def record_title(ent: Entity, rec: dict[str, Any]) -> str:
    return str(rec.get(ent.title_field) or "")


def field_error(f: Field, exc: ValidationError, tr: Translator) -> str:
    """The inline message for a bad value, in the UI language."""
    label = f.label(tr.lang)
    text = str(exc)
    if "required" in text:
        return tr.tr("{label} is required", label=label)
    if f.check is Check.PHONE:
        return tr.tr("Not a valid phone number")
    if f.check is Check.EMAIL:
        return tr.tr("Not an email address")
    if f.check is Check.USCC:
        return tr.tr("Not a valid credit code (18 characters, check digit per GB 32100)")
    if f.check is Check.CURRENCY:
        return tr.tr("Not a currency code (e.g. CNY)")
    if "longer than" in text:
        return tr.tr("{label} is too long (at most {n} characters)", label=label, n=f.max_length)
    if f.type in (FieldType.NUMBER, FieldType.INTEGER):
        return tr.tr("{label} must be a number", label=label)
    if f.type is FieldType.DATE:
        return tr.tr("{label}: not a date (YYYY-MM-DD)", label=label)
    if f.type is FieldType.DATETIME and "clocks skip" in text:
        return tr.tr("{label}: {time} does not exist in {zone}: the clocks skip that hour",
                     label=label, time=text.split(" does not exist", 1)[0].rsplit(": ", 1)[-1],
                     zone=timezones.city(timezones.zone_name(viewer_zone()), tr.lang))
    if f.type is FieldType.DATETIME:
        return tr.tr("{label}: not a date and time (YYYY-MM-DD HH:MM)", label=label)
    if f.check is Check.TIME_ZONE:
        return tr.tr("Not a time zone (e.g. Asia/Shanghai)")
    return text
