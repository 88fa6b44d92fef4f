"""Who may read which field (issue 24): visibility rules as data, pure (no I/O, no Qt).

An admin loads rules on the server (`fieldcrm-server visibility load FILE`, server.
visibility). A rule names one field of one record type, the roles that may read it, and
how everyone else sees it: `hidden` (the field never reaches their device) or `masked`
(only a masked copy does, 138****5678). A rule may also carry temporary grants: more
roles that may read the field until a moment (the service desk's note readable by reps
for 72 hours after a complaint).

The server turns the rules into one `Policy` per caller (`policy_for`): record type ->
field -> "hidden" | "masked", for the fields the caller may not read. It filters every
record it sends with `filter_fields` and refuses writes to those fields. Each pull page
carries the caller's policy; the device compares it with the one it holds and purges
what it may no longer read (desktop.store.visibility).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from desktop.errors import ValidationError
from desktop.schema import DELETED, ENTITIES, KEPT, MERGED_INTO, FieldType, Role

HIDDEN = "hidden"
MASKED = "masked"
OTHERS = (HIDDEN, MASKED)
MASK = "****"
# Record types whose fields rules may restrict: the owned business records (the shared
# admin records, rules and definitions, are read by everyone).
RULE_ENTITIES = ("account", "contact", "deal", "activity", "attachment", "contract", "lead")
# Fields no rule may hide: who owns a record decides who sees it, the tombstone and the
# merge redirect keep replicas converging.
UNRULABLE = frozenset({"owner", DELETED, MERGED_INTO})
MAX_RULES = 1000

Policy = dict[str, dict[str, str]]  # entity -> field -> HIDDEN | MASKED


class VisibilityRuleError(ValidationError):
    """A visibility rule that cannot be accepted (the message says why)."""


@dataclass(frozen=True)
class Grant:
    """More roles that may read the field until a moment (UTC ISO-8601)."""

    roles: tuple[str, ...]
    until: str

    def as_json(self) -> dict[str, Any]:
        return {"roles": list(self.roles), "until": self.until}


@dataclass(frozen=True)
class Rule:
    entity: str
    field: str
    readable_by: tuple[str, ...]
    others: str = HIDDEN
    grants: tuple[Grant, ...] = ()

    def may_read(self, role: str, now: str) -> bool:
        return role in self.readable_by or any(
            role in g.roles and g.until > now for g in self.grants)

    def as_json(self) -> dict[str, Any]:
        return {"entity": self.entity, "field": self.field, "readable_by": list(self.readable_by),
                "others": self.others, "grants": [g.as_json() for g in self.grants]}


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _roles(raw: Any, where: str) -> tuple[str, ...]:
    known = {r.value for r in Role}
    if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
        raise VisibilityRuleError(f"{where}: roles must be a list of role names "
                                  f"({', '.join(sorted(known))}).")
    bad = [r for r in raw if r not in known]
    if bad:
        raise VisibilityRuleError(f"{where}: '{bad[0]}' is not a role "
                                  f"(one of {', '.join(sorted(known))}).")
    return tuple(dict.fromkeys(raw))


def _moment(raw: Any, where: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise VisibilityRuleError(f"{where}: '{raw}' is not a date and time "
                                  "(e.g. 2026-12-08T10:00:00Z).") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rule(raw: Any, where: str = "rule") -> Rule:
    """One rule from its JSON form; raises VisibilityRuleError with a clear reason."""
    if not isinstance(raw, Mapping):
        raise VisibilityRuleError(f"{where}: a rule is an object with entity, field, "
                                  "readable_by and others.")
    unknown = set(raw) - {"entity", "field", "readable_by", "others", "grants"}
    if unknown:
        raise VisibilityRuleError(f"{where}: unknown key '{sorted(unknown)[0]}'.")
    entity, name = raw.get("entity"), raw.get("field")
    if entity not in RULE_ENTITIES:
        raise VisibilityRuleError(f"{where}: record type '{entity}' is not one of "
                                  f"{', '.join(RULE_ENTITIES)}.")
    where = f"{where} ({entity}.{name})"
    if not isinstance(name, str) or not ENTITIES[entity].has_field(name):
        raise VisibilityRuleError(f"{where}: {entity} has no field '{name}'.")
    if name in UNRULABLE:
        raise VisibilityRuleError(f"{where}: '{name}' decides who sees the record and "
                                  "cannot be hidden.")
    others = raw.get("others", HIDDEN)
    if others not in OTHERS:
        raise VisibilityRuleError(f"{where}: others must be 'hidden' or 'masked', "
                                  f"not '{others}'.")
    grants_raw = raw.get("grants") or []
    if not isinstance(grants_raw, list):
        raise VisibilityRuleError(f"{where}: grants must be a list.")
    grants: list[Grant] = []
    for g in grants_raw:
        if not isinstance(g, Mapping) or set(g) != {"roles", "until"}:
            raise VisibilityRuleError(f"{where}: a grant is {{\"roles\": [...], \"until\": "
                                      "\"2026-12-08T10:00:00Z\"}.")
        grants.append(Grant(_roles(g["roles"], where), _moment(g["until"], where)))
    return Rule(entity, name, _roles(raw.get("readable_by"), where), others, tuple(grants))


def parse_rules(doc: Any) -> list[Rule]:
    """The rules of a file ({"rules": [...]} or a bare list); one rule per field."""
    raw = doc.get("rules") if isinstance(doc, Mapping) else doc
    if not isinstance(raw, list):
        raise VisibilityRuleError('The file must hold {"rules": [...]} (a list of rules).')
    if len(raw) > MAX_RULES:
        raise VisibilityRuleError(f"At most {MAX_RULES} rules.")
    rules = [parse_rule(r, f"rule {i + 1}") for i, r in enumerate(raw)]
    seen: set[tuple[str, str]] = set()
    for r in rules:
        if (r.entity, r.field) in seen:
            raise VisibilityRuleError(f"Two rules for {r.entity}.{r.field}: keep one.")
        seen.add((r.entity, r.field))
    return rules


def policy_for(rules: Iterable[Rule], role: str, now: str | None = None) -> Policy:
    """What a user of `role` may not read at `now`: entity -> field -> hidden | masked."""
    now = now or now_iso()
    out: Policy = {}
    for r in rules:
        if not r.may_read(role, now):
            out.setdefault(r.entity, {})[r.field] = r.others
    return out


def mask_text(text: str) -> str:
    """138****5678: the first three and last four characters of a long value, the first
    one of a short value, stars between."""
    if len(text) >= 9:
        return text[:3] + MASK + text[-4:]
    return text[:1] + MASK if len(text) >= 3 else MASK


def mask_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    return MASK


def _maskable(entity: str, name: str) -> bool:
    """Text (and lists of text) is masked to a few characters around stars; any other
    type (a number, a date, a choice, a reference) is sent empty, so sums, dates and
    links on the device never meet a value that is not one."""
    ent = ENTITIES.get(entity)
    f = ent.field(name) if ent is not None and ent.has_field(name) else None
    return f is not None and f.type in (FieldType.TEXT, FieldType.LIST) and not f.choices


def masked(entity: str, name: str, value: Any) -> Any:
    """The masked form of a field's value (see `_maskable`)."""
    return mask_value(value) if _maskable(entity, name) else None


class FieldFilter:
    """One record type's share of a policy, made once and run on many records (the pull's
    hot path): hidden fields left out, masked ones with a masked value and their stamp,
    values kept aside by a type change (KEPT) filtered the same way."""

    def __init__(self, entity: str, rules: Mapping[str, str]) -> None:
        self.entity = entity
        self.rules = dict(rules)
        self.hidden = tuple(n for n, how in rules.items() if how != MASKED)
        self.masks = tuple((n, _maskable(entity, n)) for n, how in rules.items()
                           if how == MASKED)
        self.probes = tuple(f'"{n}"' for n in rules)

    def touches(self, text: str) -> bool:
        """Might this stored document hold a restricted field? (False: send it as is.)"""
        return any(p in text for p in self.probes)

    def apply(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The field map (a fresh dict of it, the caller's may be changed) as allowed."""
        for n in self.hidden:
            fields.pop(n, None)
        for n, textlike in self.masks:
            w = fields.get(n)
            if type(w) is dict:
                fields[n] = {"value": mask_value(w.get("value")) if textlike else None,
                             "hlc": w.get("hlc")}
        kept = fields.get(KEPT)
        if type(kept) is dict and isinstance(kept.get("value"), list):
            items = []
            for k in kept["value"]:
                how = self.rules.get(str(k.get("field"))) if isinstance(k, dict) else None
                if how is None:
                    items.append(k)
                elif how == MASKED:
                    items.append({**k, "value": masked(self.entity, str(k.get("field")),
                                                       k.get("value"))})
            fields[KEPT] = {**kept, "value": items}
        return fields


def filter_fields(fields: Mapping[str, Any], rules: Mapping[str, str],
                  entity: str = "") -> dict[str, Any]:
    """A record's wire field map ({name: {"value", "hlc", ...}}) as a caller with the
    entity's `rules` (field -> hidden | masked) may receive it (FieldFilter)."""
    return FieldFilter(entity, rules).apply(dict(fields))


def changed_fields(old: Policy, new: Policy) -> dict[str, set[str]]:
    """Entity -> the fields whose treatment differs between two policies."""
    out: dict[str, set[str]] = {}
    for entity in set(old) | set(new):
        a, b = old.get(entity, {}), new.get(entity, {})
        diff = {f for f in set(a) | set(b) if a.get(f) != b.get(f)}
        if diff:
            out[entity] = diff
    return out


def refusal(entity: str, name: str, rules: Iterable[Rule]) -> str:
    """The reason a write to a field its writer may not read is refused."""
    ent = ENTITIES.get(entity)
    label = ent.field(name).label_en if ent is not None and ent.has_field(name) else name
    roles = next((r.readable_by for r in rules if (r.entity, r.field) == (entity, name)), ())
    who = ", ".join(roles) or "no role"
    return f"{label} ({name}) was not saved: only {who} may read it."
