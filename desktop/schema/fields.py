"""The field model: what a field can be (type, check by meaning, who may write it) and
`Field`, one declared field. Pure data: nothing here checks a value (desktop.schema.checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SCHEMA_VERSION = 1


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    INTEGER = "integer"
    DATE = "date"  # YYYY-MM-DD
    DATETIME = "datetime"  # UTC ISO-8601, e.g. 2026-11-22T04:15:08Z
    CHOICE = "choice"
    REF = "ref"  # id of a record of `ref` entity
    BOOL = "bool"
    LIST = "list"  # list of strings (tags, phones, blob hashes)


class Check(StrEnum):
    """Extra checks beyond the type, by meaning."""

    NONE = ""
    PHONE = "phone"
    EMAIL = "email"
    USCC = "uscc"
    CURRENCY = "currency"
    SHA256 = "sha256"
    TIME_ZONE = "time_zone"  # an IANA name (desktop.timezones)


class Role(StrEnum):
    REP = "rep"
    MANAGER = "manager"
    ADMIN = "admin"
    FINANCE = "finance"
    DIRECTOR = "director"  # a regional director: a manager's scope, reads what rules reserve


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    label_en: str
    label_zh: str
    required: bool = False
    choices: tuple[str, ...] = ()
    ref: str | None = None
    check: Check = Check.NONE
    searchable: bool = False
    max_length: int = 2000
    # Roles allowed to write this field; None means anyone who may write the record.
    writable_by: tuple[Role, ...] | None = None
    custom: bool = False
    # Fields an admin defined as data (a `field_def` record, desktop.schema.field_defs):
    retired: bool = False  # hidden everywhere, values kept (restorable)
    from_def: bool = False  # made from a field_def record (its store column is untyped)
    section: str = ""  # the form section it shows in ("" = the main one)
    position: int = 0  # its order on the form and in the list's columns
    form_required: bool = False  # the form asks for it (never enforced on sync)
    stages: tuple[str, ...] = ()  # deals: the stages in which the form shows it (() = all)
    type_change: str = ""  # its last type change (JSON), "" if none: see coerce_value

    def label(self, lang: str) -> str:
        return self.label_zh if lang.startswith("zh") else self.label_en


# Sync-level field every entity has: a tombstone with its own clock.
DELETED = "deleted"
ADMIN_ONLY = (Role.ADMIN,)  # fields of shared admin data: only admins write them


def may_write(f: Field | None, role: Role) -> bool:
    return f is None or f.writable_by is None or role in f.writable_by
