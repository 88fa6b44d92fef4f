"""Parse a spoken note into a proposed task, due time, amount and linked records.

`parse_note(text, now, candidates)` is pure: it reads only its arguments (the local
contacts and accounts come in as plain data), so it runs anywhere and fast. Dates are
parsed before amounts, and the amount parser skips the date spans, so "3月20日" or
"下周二" never become money (cn2an.transform would have rewritten 下周二 to 下周2).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from desktop.capture.note_amounts import find_amounts, pick_amount
from desktop.capture.note_dates import find_due
from desktop.capture.note_mentions import (
    Candidates,
    Mention,
    find_action,
    find_mentions,
    task_subject,
)
from desktop.capture.note_numbers import normalize

# A task with a due date but no time of day is due at this local time.
DEFAULT_DUE_TIME = dt.time(9, 0)
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class NoteParse:
    """What a note says, ready for the review card. All fields may be edited there."""

    text: str
    now: dt.datetime
    due_date: dt.date | None
    due_time: dt.time | None
    amount: float | None
    currency: str | None  # said, or CNY assumed for a Chinese note (`currency_said` False)
    action: str | None
    subject: str | None
    mentions: tuple[Mention, ...]
    chinese: bool
    amount_high: float | None = None  # a range's upper end ("50–60万")
    currency_said: bool = False

    @property
    def due_iso(self) -> str | None:
        """`YYYY-MM-DD` when no time of day was said, `YYYY-MM-DDTHH:MM` (local) when one
        was, None when the note names no due date."""
        if self.due_date is None:
            return None
        if self.due_time is None:
            return self.due_date.isoformat()
        return f"{self.due_date.isoformat()}T{self.due_time.strftime('%H:%M')}"

    def due_at(self) -> dt.datetime | None:
        """The due moment in the time zone of `now` (DEFAULT_DUE_TIME when no time was said)."""
        if self.due_date is None:
            return None
        return dt.datetime.combine(self.due_date, self.due_time or DEFAULT_DUE_TIME,
                                   tzinfo=self.now.tzinfo)

    @property
    def contact(self) -> Mention | None:
        return next((m for m in self.mentions if m.kind == "contact"), None)

    @property
    def account_id(self) -> str | None:
        for m in self.mentions:
            if m.account_id:
                return m.account_id
        return None

    def to_json(self) -> dict[str, Any]:
        amount: float | int | None = self.amount
        if amount is not None and float(amount).is_integer():
            amount = int(amount)
        task = None if self.action is None else {"action": self.action, "subject": self.subject}
        high: float | int | None = self.amount_high
        if high is not None and float(high).is_integer():
            high = int(high)
        return {"due": self.due_iso, "amount": amount, "amount_max": high,
                "currency": self.currency, "currency_said": self.currency_said, "task": task,
                "mentions": [m.to_json() for m in self.mentions], "note": self.text}


def parse_note(text: str, now: dt.datetime,
               candidates: Candidates | Mapping[str, Any] | None = None) -> NoteParse:
    """Read a note. `now` must be time-zone aware: relative dates ("明天", "next Tuesday")
    are resolved from it, in its time zone.

    Raises ValueError for a naive `now` (a programming error, not a user one).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("parse_note needs a time-zone aware `now`")
    cands = candidates if isinstance(candidates, Candidates) else Candidates.from_data(candidates)
    clean = " ".join(text.split())
    norm = normalize(clean)
    due = find_due(norm, now)
    amount = pick_amount(find_amounts(norm, due.spans if due else ()))
    mentions = tuple(find_mentions(norm, cands))
    chinese = bool(_CJK_RE.search(norm))
    action = find_action(norm)
    if action is None and due is not None:
        action = "follow_up"
    subject = None
    if action is not None:
        person = next((m for m in mentions if m.kind == "contact"), None)
        company = next((m for m in mentions if m.kind == "account"), None)
        target = (person.said if chinese else person.name) if person else (
            company.said if company else None)
        subject = task_subject(action, target, chinese)
    return NoteParse(
        text=clean, now=now,
        due_date=due.date if due else None, due_time=due.time if due else None,
        amount=amount.value if amount else None, currency=amount.currency if amount else None,
        action=action, subject=subject, mentions=mentions, chinese=chinese,
        amount_high=amount.high if amount else None,
        currency_said=bool(amount and amount.said))
