"""Blocked stage moves name what is missing; rules are records an admin edits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop import schema
from desktop.errors import ValidationError
from desktop.followup.pipeline import (
    ENTITY,
    PIPELINE_RULE_FIELDS,
    PipelineRule,
    check_stage_move,
    load_rules,
    save_rules,
)
from desktop.store import Store

SHA = "b" * 64


def deal(store: Store, **values: object) -> dict[str, object]:
    return store.repo("deal").create({"title": "Fleet renewal", "stage": "negotiation", **values})


def test_won_without_contract_names_what_is_missing(store: Store) -> None:
    d = deal(store, amount=50_000)
    (msg,) = check_stage_move(store, d, "won")
    assert msg == ("Cannot move this deal to Won: a contract attachment is missing (attach or "
                   "capture the signed contract); “Signed amount” is empty.")
    (zh,) = check_stage_move(store, d, "won", lang="zh")
    assert zh == "无法将商机移至“赢单”：缺少合同附件（请上传或拍摄已签合同）；缺少“签约金额”。"
    store.repo("contract").create({"deal_id": d["id"], "contract_no": "HT-1"})
    store.repo("deal").update(str(d["id"]), {"signed_amount": 50_000})
    assert check_stage_move(store, str(d["id"]), "won") == []


def test_large_deal_must_pass_legal_review(store: Store) -> None:
    d = deal(store, amount=2_000_000, signed_amount=2_000_000)
    store.repo("attachment").create({"sha256": SHA, "file_name": "签约合同.pdf",
                                     "deal_id": d["id"]})
    (msg,) = check_stage_move(store, d, "won")
    assert msg == ("Deals of 1,000,000 or more must pass legal review first: it must come from "
                   "the Legal review stage.")
    d = store.repo("deal").update(str(d["id"]), {"stage": "legal_review"})
    assert check_stage_move(store, d, "won") == []
    assert check_stage_move(store, d, "lost") == []


def test_proposal_needs_an_amount_and_unknown_stage_is_refused(store: Store) -> None:
    d = deal(store, stage="qualified")
    assert check_stage_move(store, d, "proposal") == [
        "Cannot move this deal to Proposal: “Amount” is empty."]
    with pytest.raises(ValidationError, match="not a stage"):
        check_stage_move(store, d, "closed")


@pytest.fixture
def rules_store(profile: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A store opened with the pipeline_rule entity declared (as the schema will be)."""
    ent = schema.Entity(ENTITY, "Pipeline rule", "销售流程规则", PIPELINE_RULE_FIELDS,
                        owned=False)
    monkeypatch.setitem(schema.ENTITIES, ENTITY, ent)
    s = Store.open(profile)
    yield s
    s.close()


def test_rules_are_records_an_admin_edits(rules_store: Store) -> None:
    store = rules_store
    d = deal(store, amount=10)
    assert len(check_stage_move(store, d, "won")) == 1  # defaults while none are stored
    save_rules(store, [PipelineRule("Qualify needs a close date", "qualified",
                                    ("field:close_date",), message_en="Blocked: {missing}.")])
    assert [r.name for r in load_rules(store)] == ["Qualify needs a close date"]
    assert store.journal.counts()["pending"] >= 1  # synced like any record
    d2 = deal(store, stage="lead")
    assert check_stage_move(store, d2, "qualified") == ["Blocked: “Expected close” is empty."]
    assert check_stage_move(store, d, "won") == []  # the stored rules replaced the defaults
    with pytest.raises(ValidationError, match="is not a requirement"):
        save_rules(store, [PipelineRule("bad", "won", ("signature",))])
