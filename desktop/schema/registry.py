"""The registry: every built-in entity in its order, the custom fields declared in code,
and ENTITIES, the live map every holder of an Entity shares."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from desktop.errors import ValidationError
from desktop.schema.admin_rules import (
    DEDUPE_RULE,
    EXPORT_SETTING,
    FIELD_DEF,
    FOLLOWUP_RULE,
    PIPELINE_RULE,
)
from desktop.schema.audit import ERASURE, EXPORT_LOG, MERGE_LOG
from desktop.schema.core_entities import ACCOUNT, ACTIVITY, ATTACHMENT, CONTACT, CONTRACT, DEAL
from desktop.schema.entity_type import Entity
from desktop.schema.fields import Field, FieldType
from desktop.schema.finance import FX_RATE, PAYMENT
from desktop.schema.leads import LEAD, LEAD_CLAIM, LEAD_POLICY, LEAD_REP, LEAD_RULE

F = Field
T = FieldType

# Every built-in entity, in the order it was declared in (ENTITIES keeps this order).
BUILTIN_ENTITIES: tuple[Entity, ...] = (
    ACCOUNT, CONTACT, DEAL, ACTIVITY, ATTACHMENT, CONTRACT,
    PIPELINE_RULE, MERGE_LOG, DEDUPE_RULE, FIELD_DEF,
    EXPORT_LOG, EXPORT_SETTING,
    LEAD, LEAD_CLAIM, LEAD_RULE, LEAD_REP, LEAD_POLICY,
    ERASURE,
    PAYMENT, FX_RATE,
    FOLLOWUP_RULE,
)

# Custom fields are declared here (or in a JSON file with the same shape, see
# `load_custom_fields`) and treated exactly like built-in ones. Their names start
# with `cf_` so they can never collide with a later built-in field.
DEFAULT_CUSTOM_FIELDS: dict[str, tuple[Field, ...]] = {
    "account": (
        F("cf_employees", T.NUMBER, "Employees", "员工人数", custom=True),
        F("cf_source", T.CHOICE, "Lead source", "线索来源", custom=True,
          choices=("referral", "exhibition", "web", "cold_call")),
    ),
    "deal": (
        F("cf_competitor", T.TEXT, "Competitor", "竞争对手", custom=True, searchable=True,
          max_length=200),
        F("cf_next_review", T.DATE, "Next review", "下次评审", custom=True),
    ),
}


def build_entities(custom: Mapping[str, Iterable[Field]] | None = None) -> dict[str, Entity]:
    custom = DEFAULT_CUSTOM_FIELDS if custom is None else custom
    out: dict[str, Entity] = {}
    for e in BUILTIN_ENTITIES:
        extra = tuple(custom.get(e.name, ()))
        for f in extra:
            if not f.name.startswith("cf_") or not f.custom:
                raise ValidationError(f"custom field '{f.name}' must start with cf_", field=f.name)
            if f.type not in (T.TEXT, T.NUMBER, T.DATE, T.CHOICE):
                raise ValidationError(f"custom field '{f.name}' has unsupported type {f.type}")
        out[e.name] = Entity(e.name, e.label_en, e.label_zh, e.fields + extra, e.title_field,
                             e.owned, e.parent_field, e.change_times)
    return out


def load_custom_fields(path: Path) -> dict[str, tuple[Field, ...]]:
    """Read custom field declarations: {"account": [{"name": "cf_x", "type": "text",
    "label_en": ..., "label_zh": ..., "choices": [...]}]}.

    Raises ValidationError with the file name when the file is malformed.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {
            entity: tuple(
                F(d["name"], FieldType(d["type"]), d.get("label_en", d["name"]),
                  d.get("label_zh", d.get("label_en", d["name"])), custom=True,
                  choices=tuple(d.get("choices", ())), searchable=bool(d.get("searchable")))
                for d in decls
            )
            for entity, decls in raw.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValidationError(f"{path}: custom field declarations are malformed ({exc})") from exc


ENTITIES: dict[str, Entity] = build_entities()


def entity(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError:
        raise ValidationError(f"unknown entity '{name}'") from None
