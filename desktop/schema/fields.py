"""The field model: what a field can be (type, check by meaning, who may write it) and
`Field`, one declared field. Pure data: nothing here checks a value (desktop.schema.checks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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
    NAMED_LIST = "named_list"  # JSON text: a list of objects, each with a "name"


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


# Fields the server alone writes (no device, whatever its role): `writable_by` is empty,
# so may_write is false for every role. A device's change to one is refused for that
# field only (server.push), the rest of the change applies.
SERVER_ONLY: tuple[Role, ...] = ()

# A record's ids in other systems (an ERP's customer number), which the API for systems
# keeps (server.integrations) and writes here so they reach the laptops through the
# ordinary pull. One "system:id" text per system: a list of text is a type every replica
# already stores, syncs, shows and searches; system names never contain ":"
# (server.integrations.NAME_RE), so the first ":" splits the pair.
EXTERNAL_IDS = "external_ids"
EXTERNAL_IDS_FIELD = Field(EXTERNAL_IDS, FieldType.LIST, "Ids in other systems", "外部系统编号",
                           writable_by=SERVER_ONLY)


def may_write(f: Field | None, role: Role) -> bool:
    return f is None or f.writable_by is None or role in f.writable_by


def is_server_only(f: Field | None) -> bool:
    return f is not None and f.writable_by == SERVER_ONLY


def external_ids_value(ids: Mapping[str, str]) -> list[str] | None:
    """The field's value for {system: id}, in system order (None when there are none)."""
    return [f"{system}:{ext}" for system, ext in sorted(ids.items())] or None


def external_ids_of(value: Any) -> dict[str, str]:
    """{system: id} from the field's value (the inverse of external_ids_value)."""
    out: dict[str, str] = {}
    for item in value or ():
        system, sep, ext = str(item).partition(":")
        if sep:
            out[system] = ext
    return out
