"""The sync review lists without Qt: open conflicts and parked entries, each with the
record's title (also once the record is deleted) and labels a person reads."""

from __future__ import annotations

from typing import Any

from desktop.sync.review import load_conflicts, load_problems


def test_conflicts_list_title_labels_and_both_values(store: Any) -> None:
    rec = store.repo("account").create({"name": "华信科技", "industry": "软件"})
    store.repo("account").update(rec["id"], {"industry": "互联网"})
    store.apply_remote([{"entity": "account", "record_id": rec["id"], "fields": {
        "industry": {"value": "制造业", "hlc": "9999999999999-0000-other"}}}])
    [c] = load_conflicts(store)
    assert (c["title"], c["label"], c["label_zh"]) == ("华信科技", "Industry", "行业")
    assert (c["mine"], c["theirs"]) == ("互联网", "制造业")
    store.repo("account").delete(rec["id"])
    assert [c["title"] for c in load_conflicts(store)] == ["华信科技"]  # deleted, still named


def test_problems_list_the_change_and_the_reason(store: Any) -> None:
    deal = store.repo("deal").create({"title": "大单"})
    store.repo("deal").update(deal["id"], {"collected_amount": 500})
    seq = store.journal.pending()[-1].seq
    store.journal.park(seq, "Collected amount may be written only by finance or admin.")
    [p] = load_problems(store)
    assert p["title"] == "大单" and p["change"] == "Collected amount = 500"
    assert p["reason"].startswith("Collected amount may be written only")
    assert load_problems(store)[0]["seq"] == seq
