"""Lead assignment as data, decided by the server only (server.leads calls these).

Rules (`lead_rule` records) are tried in order: the first active rule whose conditions
all hold (region, source, product in its lists; budget within its range; an empty
condition holds for every lead) names the candidates, a team or named reps. Among them
a weighted round-robin picks the rep whose share is furthest behind their weight
(`pick`): after n leads every rep holds within one lead of n * weight / total weight,
whatever the order. Disabled reps, reps away at the moment and reps at their open-lead
limit are skipped. Pure: no database, no clock of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_WEIGHT = 1.0
DEFAULT_OPEN_LIMIT = 200
DEFAULT_FIRST_CONTACT_MIN = 15
DEFAULT_REASSIGN_MIN = 60
DEFAULT_MAX_REASSIGN = 3
DEFAULT_RETRY_MIN = (30, 120, 1440)
DEFAULT_RECLAIM_DAYS = 7
DEFAULT_DAILY_CLAIMS = 20
FALLBACK_RULE = "(no rule matched)"


def _texts(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    return tuple(str(v).strip().lower() for v in items if str(v).strip())


def _number(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Rule:
    name: str
    position: int = 0
    regions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    min_budget: float | None = None
    max_budget: float | None = None
    team: str = ""
    reps: tuple[str, ...] = ()
    active: bool = True

    @classmethod
    def from_values(cls, v: Mapping[str, Any]) -> Rule:
        return cls(name=str(v.get("name") or ""), position=int(v.get("position") or 0),
                   regions=_texts(v.get("regions")), sources=_texts(v.get("sources")),
                   products=_texts(v.get("products")), min_budget=_number(v.get("min_budget")),
                   max_budget=_number(v.get("max_budget")), team=str(v.get("team") or ""),
                   reps=tuple(str(r) for r in v.get("reps") or ()),
                   active=v.get("active") is not False and not v.get("deleted"))

    @property
    def pool_key(self) -> str:
        """The round-robin's memory: one per set of candidates, not per rule, so two rules
        sending leads to one team share its fairness."""
        return ("reps:" + ",".join(sorted(self.reps))) if self.reps else f"team:{self.team}"

    def matches(self, lead: Mapping[str, Any]) -> bool:
        if not self.active:
            return False
        for wanted, value in ((self.regions, lead.get("region")),
                              (self.sources, lead.get("source")),
                              (self.products, lead.get("product"))):
            if wanted and str(value or "").strip().lower() not in wanted:
                return False
        budget = _number(lead.get("budget"))
        if self.min_budget is not None and (budget is None or budget < self.min_budget):
            return False
        return not (self.max_budget is not None and (budget is None or
                                                      budget >= self.max_budget))


def ordered(rules: Iterable[Rule]) -> list[Rule]:
    return sorted((r for r in rules if r.active), key=lambda r: (r.position, r.name))


def first_match(rules: Sequence[Rule], lead: Mapping[str, Any]) -> Rule | None:
    """The first active rule (by position, then name) the lead satisfies."""
    return next((r for r in ordered(rules) if r.matches(lead)), None)


@dataclass(frozen=True)
class Rep:
    username: str
    weight: float = DEFAULT_WEIGHT
    open_limit: int = DEFAULT_OPEN_LIMIT
    away_from: str | None = None
    away_until: str | None = None
    enabled: bool = True

    @classmethod
    def from_values(cls, v: Mapping[str, Any]) -> Rep:
        weight = _number(v.get("weight"))
        limit = v.get("open_limit")
        return cls(username=str(v.get("username") or ""),
                   weight=DEFAULT_WEIGHT if weight is None or weight <= 0 else weight,
                   open_limit=DEFAULT_OPEN_LIMIT if limit in (None, "") else int(limit),
                   away_from=v.get("away_from") or None, away_until=v.get("away_until") or None,
                   enabled=v.get("enabled") is not False and not v.get("deleted"))

    def away(self, now: dt.datetime) -> bool:
        if not self.away_from and not self.away_until:
            return False
        start = parse_time(self.away_from) if self.away_from else None
        end = parse_time(self.away_until) if self.away_until else None
        return (start is None or start <= now) and (end is None or now < end)


def parse_time(text: str) -> dt.datetime:
    """A stored UTC ISO-8601 moment (trailing Z, optional fraction)."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pick(candidates: Sequence[str], reps: Mapping[str, Rep], assigned: Mapping[str, int],
         open_leads: Mapping[str, int], now: dt.datetime,
         exclude: Iterable[str] = ()) -> str | None:
    """The rep who gets the next lead among `candidates`, or None when nobody can take it.

    `assigned`: leads each candidate got from this round-robin so far; `open_leads`: the
    open leads each holds now. A rep without a `lead_rep` record has weight 1 and the
    default limit. The chosen rep minimises (assigned + 1) / weight, ties broken by name:
    the largest-remainder order, so every prefix of the sequence is fair within one lead.
    """
    skip = set(exclude)
    best: tuple[float, str] | None = None
    for name in dict.fromkeys(candidates):
        rep = reps.get(name) or Rep(name)
        if name in skip or not rep.enabled or rep.away(now):
            continue
        if open_leads.get(name, 0) >= rep.open_limit:
            continue
        key = ((assigned.get(name, 0) + 1) / rep.weight, name)
        if best is None or key < best:
            best = key
    return None if best is None else best[1]


@dataclass(frozen=True)
class Policy:
    """The escalation policy (a `lead_policy` record; the defaults without one)."""

    first_contact_min: int = DEFAULT_FIRST_CONTACT_MIN
    reassign_min: int = DEFAULT_REASSIGN_MIN
    max_reassign: int = DEFAULT_MAX_REASSIGN
    retry_min: tuple[int, ...] = DEFAULT_RETRY_MIN
    reclaim_days: int = DEFAULT_RECLAIM_DAYS
    daily_claim_limit: int = DEFAULT_DAILY_CLAIMS
    mask_in_pool: bool = False

    @classmethod
    def from_values(cls, v: Mapping[str, Any] | None) -> Policy:
        if not v:
            return cls()
        d = cls()

        def num(key: str, default: int) -> int:
            x = v.get(key)
            return default if x in (None, "") else max(0, int(x))

        retry = v.get("retry_min")
        return cls(first_contact_min=num("first_contact_min", d.first_contact_min),
                   reassign_min=num("reassign_min", d.reassign_min),
                   max_reassign=num("max_reassign", d.max_reassign),
                   retry_min=d.retry_min if retry is None else tuple(
                       int(float(x)) for x in retry if str(x).strip()),
                   reclaim_days=num("reclaim_days", d.reclaim_days),
                   daily_claim_limit=num("daily_claim_limit", d.daily_claim_limit),
                   mask_in_pool=bool(v.get("mask_in_pool")))
