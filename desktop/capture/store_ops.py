"""Store operations of the capture windows. Each runs on the store worker (`ctx.run`)
and returns plain data; none touches Qt."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from desktop.capture.note_mentions import Candidates

if TYPE_CHECKING:
    from desktop.store import Store

CLOSED_STAGES = ("won", "lost")
MAX_DEALS = 2000


@dataclass
class DealChoice:
    id: str
    title: str
    account_id: str | None
    account_name: str
    stage: str | None

    @property
    def label(self) -> str:
        return f"{self.title} · {self.account_name}" if self.account_name else self.title

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.label, "account_id": self.account_id,
                "stage": self.stage}


def deal_choices(store: Store, limit: int = MAX_DEALS) -> list[DealChoice]:
    """Deals to attach a capture to: open ones first, most recently changed first."""
    deals = list(store.repo("deal").iter_all())
    deals.sort(key=lambda d: d.get("updated_at") or "", reverse=True)
    deals.sort(key=lambda d: d.get("stage") in CLOSED_STAGES)
    names: dict[str, str] = {}
    accounts = store.repo("account")
    out = []
    for d in deals[:limit]:
        acc = d.get("account_id")
        if acc and acc not in names:
            try:
                names[acc] = accounts.get(acc).get("name") or ""
            except Exception:  # the account was deleted: show the deal without it
                names[acc] = ""
        out.append(DealChoice(d["id"], d.get("title") or "", acc,
                              names.get(acc, "") if acc else "", d.get("stage")))
    return out


@dataclass
class NoteContext:
    """What parsing a note needs from the store: the records it may mention, and the
    deals it may update."""

    candidates: Candidates
    deals: list[dict[str, Any]] = field(default_factory=list)


def note_context(store: Store, current_account_id: str | None = None) -> NoteContext:
    from desktop.capture.note_apply import load_candidates

    cands = load_candidates(store, current_account_id)
    return NoteContext(cands, [d.record() for d in deal_choices(store)])


def local_now(zone: dt.tzinfo | None = None) -> dt.datetime:
    """Now, in the user's zone `zone` (the time zone setting; default the system's):
    a note's "tomorrow 10:00" is the user's tomorrow, 10:00 where the user is."""
    from desktop.timezones import now_in, system_zone

    return now_in(zone or system_zone())
