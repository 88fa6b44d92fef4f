"""What the capture windows read from the store, without Qt: the deals a capture can be
attached to, and the records a note may mention."""

from __future__ import annotations

import time
from typing import Any

from desktop.capture.store_ops import deal_choices, note_context


def test_open_deals_come_first_with_their_account(store: Any) -> None:
    acc = store.repo("account").create({"name": "华为技术有限公司"})
    gone = store.repo("account").create({"name": "已注销公司"})
    won = store.repo("deal").create({"title": "2025 框架合同", "account_id": acc["id"],
                                     "stage": "won"})
    old = store.repo("deal").create({"title": "服务器采购", "account_id": acc["id"]})
    time.sleep(0.01)  # (changed-at times are in milliseconds)
    new = store.repo("deal").create({"title": "园区网络", "account_id": gone["id"]})
    store.repo("account").delete(gone["id"])
    time.sleep(0.01)
    store.repo("deal").update(won["id"], {"amount": 1})  # changed last, but closed
    choices = deal_choices(store)
    assert [c.id for c in choices[:2]] == [new["id"], old["id"]]  # newest open first
    assert choices[-1].id == won["id"]  # closed deals last
    assert choices[1].label == "服务器采购 · 华为技术有限公司"
    assert choices[0].account_name == ""  # its account was deleted: the deal is still offered
    assert choices[1].record() == {"id": old["id"], "title": "服务器采购 · 华为技术有限公司",
                                   "account_id": acc["id"], "stage": old.get("stage")}
    assert len(deal_choices(store, limit=1)) == 1


def test_note_context_has_the_accounts_and_deals_a_note_may_name(store: Any) -> None:
    acc = store.repo("account").create({"name": "小米科技有限责任公司"})
    store.repo("contact").create({"name": "雷军", "account_id": acc["id"]})
    deal = store.repo("deal").create({"title": "手机采购", "account_id": acc["id"]})
    ctx = note_context(store, acc["id"])
    assert ctx.candidates.current_account_id == acc["id"]
    assert [a.name for a in ctx.candidates.accounts] == ["小米科技有限责任公司"]
    assert [c.name for c in ctx.candidates.contacts] == ["雷军"]
    assert [d["id"] for d in ctx.deals] == [deal["id"]]
