"""What erasing a person writes over their values (PIPL / GDPR, desktop.store.erasure;
the `erasure` record itself is desktop.schema.audit.ERASURE)."""

from __future__ import annotations

from typing import Any

from desktop.schema.fields import FieldType
from desktop.schema.registry import ENTITIES

ERASED_TEXT = "(erased)"
_ERASED_CONTACT_FIELDS = ("title", "phones", "email", "wechat")
_ERASED_ACTIVITY_VALUES = {"subject": ERASED_TEXT, "body": None, "outcome": None,
                           "attachments": None}


def erasure_blanks(entity_name: str) -> dict[str, Any]:
    """What an erasure writes over a person's values: a contact's identifying fields
    (its name, title, phones, email, WeChat and custom text and list fields), a lead's
    (name, phone, email, note) and the text of an activity linked to the person.
    Amounts, dates and links are kept."""
    if entity_name == "activity":
        return dict(_ERASED_ACTIVITY_VALUES)
    if entity_name == "lead":
        return {"name": ERASED_TEXT, "phone": None, "email": None, "note": None}
    values: dict[str, Any] = {"name": ERASED_TEXT}
    for f in ENTITIES["contact"].fields:
        if f.name in _ERASED_CONTACT_FIELDS or (
                f.custom and f.type in (FieldType.TEXT, FieldType.LIST)):
            values[f.name] = None
    return values


def is_erased_value(value: Any, blank: Any) -> bool:
    return value == blank or (blank is None and value in (None, "", []))
