"""Field definitions: custom fields an admin makes as data (issue 24, docs/fields.md),
checked, turned into Fields and installed into ENTITIES in place."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace as dataclass_replace
from typing import Any

from desktop.errors import ValidationError
from desktop.schema.admin_rules import CUSTOM_FIELD_ENTITIES, CUSTOM_FIELD_TYPES
from desktop.schema.core_entities import STAGES
from desktop.schema.entity_type import Entity
from desktop.schema.fields import DELETED, Field, FieldType
from desktop.schema.registry import BUILTIN_ENTITIES, DEFAULT_CUSTOM_FIELDS, ENTITIES

# Custom fields an admin makes (issue 24) are `field_def` records: synced like the
# pipeline rules, written only by admins (the server checks each change with
# `check_field_def`). Every replica turns the definitions it holds into Fields with
# `install_field_defs`, which changes the Entity objects of ENTITIES in place, so every
# holder of an Entity (repositories, views, the server's push) sees the new fields.
# Fields are never taken away while the process runs (a definition that disappears
# stays, retired): a store column, once there, is kept.
MAX_CUSTOM_FIELDS = 200  # per entity, retired ones included (their values are kept)
FIELD_NAME_RE = re.compile(r"^cf_[a-z][a-z0-9_]{0,39}$")
MAX_CHOICES = 500
RESERVED_FIELD_NAMES = frozenset({"id", "rid", DELETED, "created_at", "updated_at", "_clocks",
                                  "owner", "cf_", "cf_id", "cf_deleted"})
_FIELD_DEF_NS = uuid.UUID("0190f1a2-0000-7000-8000-f1e1dde0f000")
_generation = 0
_lock = threading.Lock()


class FieldDefError(ValidationError):
    """A custom field definition that cannot be accepted (the message says why)."""


def field_def_id(entity_name: str, name: str) -> str:
    """The record id of a definition: one per (entity, name) on every replica, so two
    admins adding the same field at once make one record, not two."""
    return str(uuid.uuid5(_FIELD_DEF_NS, f"{entity_name}.{name}"))


def normalize_field_name(name: str) -> str:
    """`Lead source` -> `cf_lead_source`: lower case, spaces as _, the cf_ prefix added."""
    cleaned = re.sub(r"[\s\-]+", "_", str(name).strip().lower())
    return cleaned if cleaned.startswith("cf_") else "cf_" + cleaned


def _names_taken(entity_name: str) -> set[str]:
    builtin = next(e for e in BUILTIN_ENTITIES if e.name == entity_name)
    return ({f.name for f in builtin.fields}
            | {f.name for f in DEFAULT_CUSTOM_FIELDS.get(entity_name, ())})


def check_field_def(defn: Mapping[str, Any], others: Iterable[Mapping[str, Any]],
                    before: Mapping[str, Any] | None = None) -> None:
    """Raise FieldDefError when `defn` (a field_def record's values, with its "id") cannot
    be accepted next to the `others` (the other definitions) or as a change of `before`
    (its values until now; None for a new definition)."""
    ent_name = defn.get("entity")
    if ent_name not in CUSTOM_FIELD_ENTITIES:
        raise FieldDefError(f"Custom fields can be added to {', '.join(CUSTOM_FIELD_ENTITIES)}, "
                            f"not to '{ent_name}'.", field="entity")
    name = defn.get("name")
    if not isinstance(name, str) or name in RESERVED_FIELD_NAMES or (
            name in _names_taken(ent_name)):
        raise FieldDefError(f"'{name}' is a reserved name: pick another.", field="name")
    if not FIELD_NAME_RE.match(name):
        raise FieldDefError(f"'{name}' is not a valid field name: cf_ then a lower-case letter, "
                            "then up to 39 lower-case letters, digits or _.", field="name")
    ftype = defn.get("type")
    if ftype not in CUSTOM_FIELD_TYPES:
        raise FieldDefError(f"Type '{ftype}' is not one of {', '.join(CUSTOM_FIELD_TYPES)}.",
                            field="type")
    choices = list(defn.get("choices") or [])
    if ftype == "choice" and not choices:
        raise FieldDefError("A choice field needs at least one choice.", field="choices")
    if len(choices) != len(set(choices)):
        raise FieldDefError("The choices repeat a value: each choice must be different.",
                            field="choices")
    if len(choices) > MAX_CHOICES or any(not isinstance(c, str) or not c.strip() or len(c) > 100
                                         for c in choices):
        raise FieldDefError(f"Choices are 1 to {MAX_CHOICES} non-empty texts of at most 100 "
                            "characters each.", field="choices")
    bad_stages = [s for s in defn.get("stages") or () if s not in STAGES]
    if bad_stages:
        raise FieldDefError(f"Unknown stage '{bad_stages[0]}'.", field="stages")
    same = [o for o in others if o.get("entity") == ent_name and o.get("id") != defn.get("id")]
    if any(str(o.get("name", "")).lower() == name.lower() for o in same):
        raise FieldDefError(f"{ent_name} already has a field named '{name}'.", field="name")
    if before is None and len(same) + len(DEFAULT_CUSTOM_FIELDS.get(ent_name, ())) >= (
            MAX_CUSTOM_FIELDS):
        raise FieldDefError(f"{ent_name} already has {MAX_CUSTOM_FIELDS} custom fields, the "
                            "limit: retire none, restore or reuse one instead.", field="name")
    if before is not None:
        for key in ("entity", "name"):
            if before.get(key) != defn.get(key):
                raise FieldDefError(f"A field's {key} cannot change: add a new field (the "
                                    "labels are what users see).", field=key)
        if before.get("type") != ftype and defn.get("type_change") == before.get("type_change"):
            raise FieldDefError("A type is changed with `fieldcrm-server fields change-type` "
                                "(after `preview-type-change`), never by an update.",
                                field="type")
        if ftype == "choice" and before.get("type") == "choice":
            dropped = [c for c in before.get("choices") or () if c not in choices]
            if dropped:
                raise FieldDefError(f"Choice '{dropped[0]}' may be in use and cannot be "
                                    "removed; add the new choices instead.", field="choices")


def field_from_def(defn: Mapping[str, Any]) -> Field:
    """The Field a definition describes (labels default to its name)."""
    name = str(defn["name"])
    label_en = str(defn.get("label_en") or defn.get("label_zh") or name)
    ftype = FieldType(str(defn["type"]))
    return Field(name, ftype, label_en, str(defn.get("label_zh") or label_en),
                 choices=tuple(defn.get("choices") or ()),
                 searchable=bool(defn.get("searchable")), custom=True, from_def=True,
                 retired=bool(defn.get("retired")), section=str(defn.get("section") or ""),
                 position=int(defn.get("position") or 0),
                 form_required=bool(defn.get("required")),
                 stages=tuple(defn.get("stages") or ()),
                 type_change=str(defn.get("type_change") or ""))


def _usable(defn: Mapping[str, Any]) -> bool:
    return (defn.get("entity") in CUSTOM_FIELD_ENTITIES and isinstance(defn.get("name"), str)
            and bool(FIELD_NAME_RE.match(defn["name"]))
            and defn["name"] not in _names_taken(defn["entity"])
            and defn.get("type") in CUSTOM_FIELD_TYPES and not defn.get(DELETED))


def _set_fields(ent: Entity, fields: tuple[Field, ...]) -> None:
    # New dicts swapped in whole: a reader on another thread sees the old set or the new.
    object.__setattr__(ent, "_by_name", {f.name: f for f in fields})
    object.__setattr__(ent, "_checkers", {})
    object.__setattr__(ent, "fields", fields)


def install_field_defs(defs: Iterable[Mapping[str, Any]]) -> bool:
    """Make the fields the definitions describe part of ENTITIES (in place). A field that
    was installed and has no definition now stays, retired. Returns whether anything
    changed (then `schema_generation()` is higher)."""
    global _generation
    made: dict[str, dict[str, Field]] = {}
    for d in defs:
        if _usable(d):
            made.setdefault(d["entity"], {})[d["name"]] = field_from_def(d)
    changed = False
    with _lock:
        for e in BUILTIN_ENTITIES:
            live = ENTITIES.get(e.name)
            if live is None or e.name not in CUSTOM_FIELD_ENTITIES:
                continue
            base = e.fields + DEFAULT_CUSTOM_FIELDS.get(e.name, ())
            fields = dict(made.get(e.name, {}))
            for f in live.fields[len(base):]:  # installed before: kept, retired if gone
                if f.name not in fields:
                    fields[f.name] = f if f.retired else dataclass_replace(f, retired=True)
            extra = sorted(fields.values(), key=lambda f: (f.position, f.name))
            new = base + tuple(extra)
            if new != live.fields:
                _set_fields(live, new)
                changed = True
        if changed:
            _generation += 1
    return changed


def reset_field_defs() -> None:
    """Back to the fields declared in code (tests: one process, many replicas)."""
    global _generation
    with _lock:
        for e in BUILTIN_ENTITIES:
            live = ENTITIES.get(e.name)
            base = e.fields + DEFAULT_CUSTOM_FIELDS.get(e.name, ())
            if live is not None and live.fields != base:
                _set_fields(live, base)
        _generation += 1


def schema_generation() -> int:
    """Bumped by every change `install_field_defs` makes: a store compares it to know
    when to add columns for new fields."""
    return _generation


def visible_fields(ent: Entity) -> tuple[Field, ...]:
    """The fields the app shows: all but retired custom fields."""
    return tuple(f for f in ent.fields if not f.retired)
