"""The valid follow-up rule an admin sets: one reader for every place that counts.

What counts as a valid follow-up (the criteria, how many of them, the golden rule's
hours) is a record of the shared, admin-only `followup_rule` entity
(desktop.schema.FOLLOWUP_RULE), synced like the pipeline and duplicate rules; the server
alone decides who may write it. The reminders and the agenda (through
`desktop.followup.settings.load_settings`), the laptop's reports and the server's
`/v1/reports` all read it with `read_rule` from a connection in the store's layout
(a laptop's store, or the server's in-memory team book, desktop.reports.book): the
active rule whose newest field stamp is the newest, the same choice on every replica;
without one, the built-in rule (desktop.followup.settings.DEFAULT_CRITERIA, 2 of them,
48 and 72 hours).

A rule that arrives malformed (written by a newer app, or by hand through the API) is
read leniently: criteria that do not parse are left out, and without any the built-in
ones apply; `set_rule`, the admin's edit, refuses what does not make sense.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.errors import ValidationError
from desktop.followup.settings import (
    DEFAULT_CRITERIA,
    GOLDEN_OVERDUE_HOURS,
    GOLDEN_WARN_HOURS,
    REQUIRED_CRITERIA,
    Criterion,
    FollowupSettings,
)
from desktop.schema import ACTIVITY_KINDS

if TYPE_CHECKING:
    from desktop.store import Store

ENTITY = "followup_rule"
MAX_CRITERIA = 20
MAX_GOLDEN_HOURS = 24 * 30.0
KINDS = ("", *ACTIVITY_KINDS)  # "" = any kind


@dataclass(frozen=True)
class FollowupRule:
    """What counts as a valid follow-up; `id` None: the built-in rule."""

    criteria: tuple[Criterion, ...] = DEFAULT_CRITERIA
    required_criteria: int = REQUIRED_CRITERIA
    golden_warn_hours: float = GOLDEN_WARN_HOURS
    golden_overdue_hours: float = GOLDEN_OVERDUE_HOURS
    id: str | None = None
    name: str = ""

    def apply(self, s: FollowupSettings) -> FollowupSettings:
        """The rep's personal settings with this rule's criteria and hours."""
        return dataclasses.replace(
            s, criteria=self.criteria, required_criteria=self.required_criteria,
            golden_warn_hours=self.golden_warn_hours,
            golden_overdue_hours=self.golden_overdue_hours)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "builtin": self.id is None,
                "criteria": [criterion_json(c) for c in self.criteria],
                "required_criteria": self.required_criteria,
                "golden_warn_hours": self.golden_warn_hours,
                "golden_overdue_hours": self.golden_overdue_hours}


def criterion_json(c: Criterion) -> dict[str, Any]:
    return {"name": c.name, "kind": c.kind, "min_duration_s": c.min_duration_s,
            "needs_attachment": c.needs_attachment, "outcomes": list(c.outcomes)}


def criteria_text(criteria: Sequence[Criterion]) -> str:
    """The `criteria` field's JSON text."""
    return json.dumps([criterion_json(c) for c in criteria], ensure_ascii=False,
                      separators=(",", ":"))


def parse_criterion(raw: Any) -> Criterion:
    """Raises ValidationError naming what is wrong with one criterion."""
    if not isinstance(raw, Mapping):
        raise ValidationError("A criterion is an object with a name.", field="criteria")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise ValidationError("A criterion needs a name (up to 64 characters).",
                              field="criteria")
    kind = raw.get("kind") or ""
    if kind not in KINDS:
        raise ValidationError(f"Criterion '{name}': the activity kind '{kind}' is not one of "
                              f"{', '.join(k for k in KINDS if k)}.", field="criteria")
    duration = raw.get("min_duration_s") or 0
    if isinstance(duration, bool) or not isinstance(duration, int | float) or not (
            0 <= duration <= 86_400):
        raise ValidationError(f"Criterion '{name}': the minimum duration is 0 to 86400 "
                              "seconds.", field="criteria")
    attach = raw.get("needs_attachment", False)
    outcomes = raw.get("outcomes") or ()
    if not isinstance(attach, bool) or not isinstance(outcomes, list | tuple) or not all(
            isinstance(o, str) and o.strip() and len(o) <= 100 for o in outcomes):
        raise ValidationError(f"Criterion '{name}': needs_attachment is true or false and "
                              "outcomes a list of texts.", field="criteria")
    c = Criterion(name.strip(), kind, int(duration), attach,
                  tuple(o.strip() for o in outcomes))
    if c == Criterion(c.name):
        raise ValidationError(f"Criterion '{name}' asks for nothing: every activity would "
                              "meet it.", field="criteria")
    return c


def parse_criteria(raw: Any) -> tuple[Criterion, ...]:
    """Criteria from JSON text or a list. Raises ValidationError."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ValidationError(f"The criteria are not JSON ({exc}).",
                                  field="criteria") from exc
    if not isinstance(raw, list | tuple) or not 1 <= len(raw) <= MAX_CRITERIA:
        raise ValidationError(f"A follow-up rule has 1 to {MAX_CRITERIA} criteria.",
                              field="criteria")
    out = tuple(parse_criterion(c) for c in raw)
    if len({c.name for c in out}) != len(out):
        raise ValidationError("Two criteria have the same name.", field="criteria")
    return out


def rule_from_values(values: Mapping[str, Any], record_id: str | None = None) -> FollowupRule:
    """A rule record's values as a rule, leniently (see the module's note)."""
    criteria: tuple[Criterion, ...] = DEFAULT_CRITERIA
    text = values.get("criteria")
    if text:
        try:
            raw = json.loads(text) if isinstance(text, str) else text
            parsed = []
            for c in raw if isinstance(raw, list) else ():
                try:
                    parsed.append(parse_criterion(c))
                except ValidationError:
                    continue
            first: dict[str, Criterion] = {}
            for c in parsed:  # a name twice: the first counts
                first.setdefault(c.name, c)
            criteria = tuple(first.values()) or DEFAULT_CRITERIA
        except ValueError:
            criteria = DEFAULT_CRITERIA
    required = _number(values.get("required_criteria"), REQUIRED_CRITERIA)
    overdue = _number(values.get("golden_hours"), GOLDEN_OVERDUE_HOURS)
    overdue = min(MAX_GOLDEN_HOURS, overdue) if overdue > 0 else GOLDEN_OVERDUE_HOURS
    warn = _number(values.get("warn_hours"), overdue * GOLDEN_WARN_HOURS / GOLDEN_OVERDUE_HOURS)
    if not 0 < warn < overdue:
        warn = overdue * GOLDEN_WARN_HOURS / GOLDEN_OVERDUE_HOURS
    return FollowupRule(criteria, max(1, min(len(criteria), int(required))), float(warn),
                        float(overdue), record_id, str(values.get("name") or ""))


def _number(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return float(default)
    return float(value)


_COLUMNS = ("name", "criteria", "required_criteria", "golden_hours", "warn_hours")


def read_rule(conn: sqlite3.Connection) -> FollowupRule:
    """The active rule in a connection in the store's layout (one small query), else the
    built-in one. Several active rules (two admins, offline): the one whose newest field
    stamp is newest, then the greatest id: every replica that holds the same records
    chooses the same."""
    try:
        found = conn.execute(
            f"SELECT id, _clocks, {', '.join(_COLUMNS)} FROM {ENTITY} "
            "WHERE deleted = 0 AND coalesce(active, 1) = 1").fetchall()
    except sqlite3.OperationalError:  # a connection without the table (an old team book)
        return FollowupRule()
    if not found:
        return FollowupRule()
    best = max(found, key=lambda row: (_newest_stamp(row[1]), row[0]))
    return rule_from_values(dict(zip(_COLUMNS, best[2:], strict=True)), best[0])


def _newest_stamp(clocks: str | None) -> str:
    try:
        value = json.loads(clocks or "{}")
    except ValueError:
        return ""
    if isinstance(value, str):
        return value
    return max((str(v) for v in value.values()), default="") if isinstance(value, dict) else ""


def current_rule(store: Store) -> FollowupRule:
    return read_rule(store.conn)


def set_rule(store: Store, *, criteria: Sequence[Criterion] | str | list[Any] | None = None,
             required_criteria: int | None = None, golden_overdue_hours: float | None = None,
             golden_warn_hours: float | None = None, name: str | None = None,
             active: bool = True) -> FollowupRule:
    """Create or change the rule (an admin's edit: the server refuses it from anyone else,
    like any admin-only field); what is not given stays as in the rule in force (the
    built-in one when none is on). `active=False` turns
    the rule off (the built-in rule applies again). Raises ValidationError (nothing is
    written) when the rule would not make sense."""
    now = current_rule(store)
    crit = now.criteria
    if criteria is not None:
        crit = (tuple(criteria) if isinstance(criteria, Sequence) and not isinstance(
            criteria, str) and all(isinstance(c, Criterion) for c in criteria)
            else parse_criteria(criteria))
        parse_criteria([criterion_json(c) for c in crit])
    required = now.required_criteria if required_criteria is None else required_criteria
    if not 1 <= required <= len(crit):
        raise ValidationError(f"A valid follow-up can need 1 to {len(crit)} kinds of "
                              "evidence.", field="required_criteria")
    overdue = now.golden_overdue_hours if golden_overdue_hours is None else golden_overdue_hours
    warn = now.golden_warn_hours if golden_warn_hours is None else golden_warn_hours
    if golden_overdue_hours is not None and golden_warn_hours is None and warn >= overdue:
        warn = overdue * GOLDEN_WARN_HOURS / GOLDEN_OVERDUE_HOURS
    if not 0 < overdue <= MAX_GOLDEN_HOURS:
        raise ValidationError(f"The golden rule's window is more than 0 and at most "
                              f"{MAX_GOLDEN_HOURS:g} hours.", field="golden_hours")
    if not 0 < warn < overdue:
        raise ValidationError("The follow-up warning must come before the overdue time "
                              f"({warn:g} h is not before {overdue:g} h).", field="warn_hours")
    values: dict[str, Any] = {
        "criteria": criteria_text(crit), "required_criteria": int(required),
        "golden_hours": float(overdue), "warn_hours": float(warn), "active": active}
    if name is not None:
        values["name"] = name.strip()[:200]
    repo = store.repo(ENTITY)
    if now.id is not None:
        repo.update(now.id, values)
    elif active:  # turned on again: the rule record there is (one record, not one a time)
        existing = repo.find()
        if existing:
            repo.update(existing[-1]["id"], values)
        else:
            repo.create({"name": "", **values})
    return current_rule(store)
