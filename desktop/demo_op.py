"""The "Add demo data" background op (no Qt): accounts with contacts, deals and a history
of activities in the data's language, in chunks that report progress and stop when
cancelled.

The history reads like a rep's: calls, visits and notes done over the last 90 days with
their outcomes (with the account's contact), and open tasks, some overdue, some due
today and some in the coming week, so Today, the follow-up rules and the home numbers
have something true to show. Some accounts have had no follow-up for weeks on purpose.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, Protocol

from desktop.demo import DemoData
from desktop.schema import to_utc_iso
from desktop.store import Store

CHUNK = 50
HISTORY_DAYS = 90

_DONE = {
    "zh": {
        "call": [("电话跟进报价", "客户要求再降 3%，周五前给答复"),
                 ("电话确认交货时间", "同意下月初分两批交货"),
                 ("电话回访使用情况", "设备运行正常，提出增加培训"),
                 ("电话催收尾款", "财务承诺本周内付款"),
                 ("约见采购负责人", "约在下周二上午面谈")],
        "visit": [("上门拜访采购部", "了解明年预算，对二期感兴趣"),
                  ("技术交流会", "对方技术团队认可方案，需补充接口文档"),
                  ("送样品并现场演示", "样品测试通过，进入比价"),
                  ("合同条款沟通", "付款方式谈妥，法务审核中"),
                  ("年度回访", "满意度较高，可推荐同行客户")],
        "note": [("客户组织架构变动", "原采购经理离职，新负责人待对接"),
                 ("竞争对手报价情况", "对手报价低约 8%，但交期长"),
                 ("招标信息", "下月公开招标，需提前准备资质文件")],
    },
    "en": {
        "call": [("Follow-up call on the quote", "Asked for 3% off; answer by Friday"),
                 ("Delivery date check", "Agreed to two shipments early next month"),
                 ("Check-in on the rollout", "Running fine; they want more training"),
                 ("Payment reminder", "Finance will pay the balance this week"),
                 ("Call to set up a meeting", "Meeting set for Tuesday morning")],
        "visit": [("Visit to purchasing", "Next year's budget looks good; keen on phase 2"),
                  ("Technical workshop", "IT accepts the design; needs the API docs"),
                  ("Sample drop-off and demo", "Samples passed; now comparing prices"),
                  ("Contract terms meeting", "Payment terms agreed; legal is reviewing"),
                  ("Annual account review", "Happy customer; may refer a peer")],
        "note": [("Org change at the customer", "Buyer left; new contact to be named"),
                 ("Competitor pricing", "Competitor about 8% cheaper, longer lead time"),
                 ("Tender notice", "Public tender next month; prepare certificates")],
    },
}
_OPEN = {
    "zh": ["准备报价单", "寄送合同草稿", "回电确认技术参数", "安排样品寄送", "跟进付款进度",
           "预约现场拜访", "整理投标资料", "发送产品资料"],
    "en": ["Prepare the quote", "Send the draft contract", "Call back on the specs",
           "Ship the samples", "Chase the payment", "Book an on-site visit",
           "Assemble the tender file", "Send the brochure"],
}


class Progress(Protocol):
    def report(self, done: int, total: int = 0, text: str = "") -> None: ...


def _activities(rng: random.Random, lang: str, now: dt.datetime, account_id: str,
                contact_ids: list[str], deal_id: str | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    quiet = rng.random() < 0.15  # no contact for weeks: the follow-up rules will notice
    for _ in range(rng.randrange(1, 6)):
        kind = rng.choice(("call", "call", "visit", "note"))
        subject, outcome = rng.choice(_DONE[lang][kind])
        days = rng.randrange(21 if quiet else 0, HISTORY_DAYS)
        at = now - dt.timedelta(days=days, hours=rng.randrange(0, 9), minutes=rng.choice(
            (0, 15, 30, 45)))
        out.append({"kind": kind, "subject": subject, "outcome": outcome,
                    "account_id": account_id, "deal_id": deal_id if rng.random() < 0.5 else None,
                    "contact_id": rng.choice(contact_ids) if contact_ids else None,
                    "due_at": to_utc_iso(at), "done_at": to_utc_iso(at),
                    "duration_s": rng.randrange(60, 900) if kind == "call" else None})
    if not quiet:
        for _ in range(rng.randrange(0, 3)):
            # overdue (up to 5 days), today, or within the next 8 days, on the hour
            hours = rng.choice((-96, -50, -26, -3, 1, 2, 4, 20, 44, 70, 120, 190))
            due = (now + dt.timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
            out.append({"kind": rng.choice(("task", "task", "call", "visit")),
                        "subject": rng.choice(_OPEN[lang]), "account_id": account_id,
                        "deal_id": deal_id,
                        "contact_id": rng.choice(contact_ids) if contact_ids else None,
                        "due_at": to_utc_iso(due)})
    return out


def add_demo(store: Store, progress: Progress, accounts: int, seed: int = 11,
             lang: str = "zh") -> dict[str, int]:
    """Create `accounts` demo accounts with their contacts, deals and activities, in
    `lang` ("zh" or "en"). Each chunk commits on its own; a cancel keeps what was
    committed."""
    data = DemoData(seed, pool=400, lang=lang)
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    counts = {"accounts": 0, "contacts": 0, "deals": 0, "activities": 0}
    for start in range(0, accounts, CHUNK):
        progress.report(start, accounts)
        with store.write():
            for i in range(start, min(start + CHUNK, accounts)):
                acc = store.repo("account").create(data.account(i))
                data.remember(acc)
                counts["accounts"] += 1
                contact_ids = []
                for _ in range(rng.randrange(1, 4)):
                    contact_ids.append(store.repo("contact").create(data.contact(acc["id"]))["id"])
                    counts["contacts"] += 1
                deal_id = None
                if rng.random() < 0.6:
                    deal = data.deal(acc["id"])
                    deal["close_date"] = (
                        now + dt.timedelta(days=rng.randrange(-5, 60))).date().isoformat()
                    deal_id = store.repo("deal").create(deal)["id"]
                    counts["deals"] += 1
                for values in _activities(rng, data.speaks(acc["id"]), now, acc["id"],
                                          contact_ids, deal_id):
                    store.repo("activity").create(values)
                    counts["activities"] += 1
    progress.report(accounts, accounts)
    return counts
