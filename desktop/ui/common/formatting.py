"""Display helpers (no widgets): local times, amounts, record titles, field errors."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from desktop.errors import ValidationError
from desktop.schema import Check, Entity, Field, FieldType
from desktop.ui.common.i18n import Translator

LOCAL_FORMAT = "%Y-%m-%d %H:%M"


def local_time(utc_iso: str | None) -> str:
    """A stored UTC ISO time shown in the computer's time zone ("2026-11-22 12:15")."""
    if not utc_iso:
        return ""
    try:
        moment = dt.datetime.fromisoformat(utc_iso.replace("Z", "+00:00"))
    except ValueError:
        return utc_iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone().strftime(LOCAL_FORMAT)


def parse_local_time(text: str) -> str | None:
    """"2026-11-22 12:15" typed in local time -> UTC ISO for the store; None if empty.
    Raises ValueError when it is not a date and time."""
    text = text.strip()
    if not text:
        return None
    for fmt in (LOCAL_FORMAT, "%Y-%m-%d"):
        try:
            naive = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return naive.astimezone().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    raise ValueError(text)


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
    if f.type is FieldType.DATETIME:
        return tr.tr("{label}: not a date and time (YYYY-MM-DD HH:MM)", label=label)
    return text
