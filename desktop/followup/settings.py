"""Follow-up settings: what is personal is a setting of this laptop, what counts is not.

They live in the store's `meta` table under `followup_settings` (JSON), so the app and
the CLI read the same values. What is personal stays per device (not synced): quiet
hours, the time zone, notification choices, lead times, stalled days, the manager who
gets the review task. What counts as a valid follow-up (the criteria, how many of them,
the golden rule's warning and overdue hours: RULE_FIELDS) is the admin's synced rule
(desktop.followup.rule, the `followup_rule` record): `load_settings` puts the active
rule's values in, else the built-in ones below, and `save_settings` never keeps them
here. Every default is a named constant below.

"Valid follow-up" is a rule: a list of criteria, each matched against the activities
linked to a record, and how many distinct criteria must be met. The built-in criteria
map onto the activity fields of desktop.schema like this:

* ``call_90s``      kind == "call" and duration_s >= 90
* ``visit_photo``   kind == "visit" and attachments is not empty
* ``customer_reply`` outcome starts with one of REPLY_OUTCOMES (any kind)
* ``quote_sent``    outcome starts with one of QUOTE_OUTCOMES (any kind)

Only activities that are done (done_at set), or calls and visits (logged after the
fact), count; a planned task does not.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from desktop.errors import ValidationError

if TYPE_CHECKING:
    from desktop.store import Store

SETTINGS_KEY = "followup_settings"

GOLDEN_WARN_HOURS = 48
GOLDEN_OVERDUE_HOURS = 72
REQUIRED_CRITERIA = 2  # kinds of evidence a valid follow-up needs (the built-in rule)
GOLDEN_WINDOW_DAYS = 14  # records older than this leave the golden-72 rule
TASK_LEAD_MINUTES = 15  # default reminder lead time before a task is due
QUIET_START = "22:00"
QUIET_END = "07:00"
GROUP_AFTER = 3  # more than this many reminders at once become one grouped notice
SLEEP_GAP_MINUTES = 5  # a tick later than this after the previous one means sleep/closed
MISSED_LOOKBACK_HOURS = 24  # on first start, reminders missed this far back are delivered
HORIZON_HOURS = 36  # task reminders are scheduled this far ahead
LEGAL_REVIEW_AMOUNT = 1_000_000.0
STALLED_DAYS = {"lead": 14, "qualified": 14, "proposal": 10, "negotiation": 14,
                "legal_review": 7}
REPLY_OUTCOMES = ("customer_reply", "replied", "客户回复", "已回复")
QUOTE_OUTCOMES = ("quote_sent", "quoted", "已报价", "报价已发送")
URGENT_KINDS = ("golden_overdue",)


@dataclass(frozen=True)
class Criterion:
    """One kind of evidence that a record was followed up."""

    name: str
    kind: str = ""  # activity kind it must have; "" = any
    min_duration_s: int = 0
    needs_attachment: bool = False
    outcomes: tuple[str, ...] = ()  # outcome must start with one of these (case-insensitive)

    def matches(self, act: dict[str, Any]) -> bool:
        if self.kind and act.get("kind") != self.kind:
            return False
        if self.min_duration_s and int(act.get("duration_s") or 0) < self.min_duration_s:
            return False
        if self.needs_attachment and not act.get("attachments"):
            return False
        if self.outcomes:
            out = str(act.get("outcome") or "").strip().lower()
            return any(out.startswith(o.lower()) for o in self.outcomes)
        return True


DEFAULT_CRITERIA = (
    Criterion("call_90s", kind="call", min_duration_s=90),
    Criterion("visit_photo", kind="visit", needs_attachment=True),
    Criterion("customer_reply", outcomes=REPLY_OUTCOMES),
    Criterion("quote_sent", outcomes=QUOTE_OUTCOMES),
)


@dataclass(frozen=True)
class FollowupSettings:
    golden_warn_hours: float = GOLDEN_WARN_HOURS
    golden_overdue_hours: float = GOLDEN_OVERDUE_HOURS
    golden_window_days: float = GOLDEN_WINDOW_DAYS
    task_lead_minutes: int = TASK_LEAD_MINUTES
    quiet_start: str = QUIET_START
    quiet_end: str = QUIET_END
    group_after: int = GROUP_AFTER
    sleep_gap_minutes: float = SLEEP_GAP_MINUTES
    missed_lookback_hours: float = MISSED_LOOKBACK_HOURS
    horizon_hours: float = HORIZON_HOURS
    legal_review_amount: float = LEGAL_REVIEW_AMOUNT
    stalled_days: dict[str, float] = field(default_factory=lambda: dict(STALLED_DAYS))
    criteria: tuple[Criterion, ...] = DEFAULT_CRITERIA
    required_criteria: int = REQUIRED_CRITERIA
    urgent_kinds: tuple[str, ...] = URGENT_KINDS
    manager: str = ""  # who receives the review task when a golden-72 is missed
    time_zone: str = ""  # IANA name; "" follows the system

    def is_valid_followup(self, activities: list[dict[str, Any]]) -> bool:
        met = {c.name for c in self.criteria for a in activities
               if _counts(a) and c.matches(a)}
        return len(met) >= self.required_criteria

    def met_criteria(self, activities: list[dict[str, Any]]) -> list[str]:
        return sorted({c.name for c in self.criteria for a in activities
                       if _counts(a) and c.matches(a)})

    def validate(self) -> FollowupSettings:
        """Raises ValidationError naming the setting that does not make sense."""
        if not 0 < self.golden_warn_hours < self.golden_overdue_hours:
            raise ValidationError("The follow-up warning must come before the overdue time "
                                  f"({self.golden_warn_hours:g} h is not before "
                                  f"{self.golden_overdue_hours:g} h).")
        if not 1 <= self.required_criteria <= max(1, len(self.criteria)):
            raise ValidationError(f"A valid follow-up can need 1 to {len(self.criteria)} kinds "
                                  "of evidence.")
        if self.time_zone:
            from desktop.timezones import zone

            if zone(self.time_zone) is None:
                raise ValidationError(f"Time zone: '{self.time_zone}' is not a time zone (an "
                                      "IANA name such as Asia/Shanghai or America/New_York).")
        for text in (self.quiet_start, self.quiet_end):
            try:
                _hhmm(text)
            except ValueError as exc:
                raise ValidationError(f"Quiet hours: {exc}.") from exc
        return self

    # ------------------------------------------------------------ persistence
    def to_json(self) -> str:
        raw = asdict(self)
        return json.dumps(raw, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FollowupSettings:
        """Raises ValidationError when the text is not follow-up settings."""
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict):
                raise TypeError("not an object")
            known = set(cls.__dataclass_fields__)
            values = {k: v for k, v in raw.items() if k in known}
            if "criteria" in values:
                values["criteria"] = tuple(
                    Criterion(c["name"], c.get("kind", ""), int(c.get("min_duration_s", 0)),
                              bool(c.get("needs_attachment", False)),
                              tuple(c.get("outcomes", ())))
                    for c in values["criteria"])
            if "urgent_kinds" in values:
                values["urgent_kinds"] = tuple(values["urgent_kinds"])
            return cls(**values).validate()
        except (ValueError, TypeError, KeyError) as exc:
            raise ValidationError(f"The follow-up settings are not valid ({exc}).") from exc


def _counts(act: dict[str, Any]) -> bool:
    """Done activities count; calls and visits are logged after the fact, so they count."""
    return bool(act.get("done_at")) or act.get("kind") in ("call", "visit")


def _hhmm(text: str) -> tuple[int, int]:
    hh, mm = text.split(":")
    h, m = int(hh), int(mm)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"'{text}' is not a time of day (HH:MM)")
    return h, m


# what the admin's rule decides (desktop.followup.rule), never kept in the local settings
RULE_FIELDS = ("criteria", "required_criteria", "golden_warn_hours", "golden_overdue_hours")


def local_settings(store: Store) -> FollowupSettings:
    """This laptop's own settings, the rule's fields at their built-in values."""
    text = store.meta_get(SETTINGS_KEY)
    if not text:
        return FollowupSettings()
    try:
        raw = json.loads(text)
    except ValueError:
        raw = None  # from_json says what is wrong
    if isinstance(raw, dict):  # before m020 the rule's fields were local: no longer read
        text = json.dumps({k: v for k, v in raw.items() if k not in RULE_FIELDS})
    return FollowupSettings.from_json(text)


def load_settings(store: Store) -> FollowupSettings:
    """The settings every follow-up rule uses: this laptop's own, with the admin's active
    follow-up rule (desktop.followup.rule.read_rule), else the built-in one."""
    from desktop.followup.rule import read_rule

    return read_rule(store.conn).apply(local_settings(store))


def save_settings(store: Store, settings: FollowupSettings) -> None:
    """Keeps the personal settings (RULE_FIELDS are the admin's rule's: not kept).
    Raises ValidationError (nothing saved) when the settings do not make sense."""
    from desktop.followup.rule import read_rule

    read_rule(store.conn).apply(settings).validate()
    raw = json.loads(settings.to_json())
    store.meta_set(SETTINGS_KEY, json.dumps({k: v for k, v in raw.items()
                                             if k not in RULE_FIELDS},
                                            ensure_ascii=False, sort_keys=True))
