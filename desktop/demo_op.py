"""The "Add demo data" background op (no Qt): accounts with contacts, deals and a few
activities around today, in chunks that report progress and stop when cancelled."""

from __future__ import annotations

import datetime as dt
import random
from typing import Protocol

from desktop.demo import DemoData
from desktop.schema import ACTIVITY_KINDS, to_utc_iso
from desktop.store import Store

CHUNK = 50
_SUBJECTS = ["拜访采购部", "电话跟进报价", "Demo for the IT team", "合同条款沟通", "回款确认",
             "Quarterly review", "技术交流会", "送样品"]


class Progress(Protocol):
    def report(self, done: int, total: int = 0, text: str = "") -> None: ...


def add_demo(store: Store, progress: Progress, accounts: int, seed: int = 11) -> dict[str, int]:
    """Create `accounts` demo accounts with their contacts, deals and activities.
    Each chunk commits on its own; a cancel keeps what was committed."""
    data = DemoData(seed, pool=400)
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    counts = {"accounts": 0, "contacts": 0, "deals": 0, "activities": 0}
    for start in range(0, accounts, CHUNK):
        progress.report(start, accounts)
        with store.write():
            for i in range(start, min(start + CHUNK, accounts)):
                acc = store.repo("account").create(data.account(i))
                counts["accounts"] += 1
                for _ in range(rng.randrange(1, 4)):
                    store.repo("contact").create(data.contact(acc["id"]))
                    counts["contacts"] += 1
                if rng.random() < 0.6:
                    deal = data.deal(acc["id"])
                    deal["close_date"] = (
                        now + dt.timedelta(days=rng.randrange(-5, 60))).date().isoformat()
                    store.repo("deal").create(deal)
                    counts["deals"] += 1
                for _ in range(rng.randrange(0, 4)):
                    due = now + dt.timedelta(hours=rng.randrange(-72, 72))
                    done = due < now and rng.random() < 0.6
                    store.repo("activity").create({
                        "kind": rng.choice(ACTIVITY_KINDS), "subject": rng.choice(_SUBJECTS),
                        "account_id": acc["id"], "due_at": to_utc_iso(due),
                        "done_at": to_utc_iso(due) if done else None})
                    counts["activities"] += 1
    progress.report(accounts, accounts)
    return counts
