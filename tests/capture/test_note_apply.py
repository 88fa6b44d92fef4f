"""Applying a confirmed voice note through the real store: task, timeline note, deal
amount and the audio attachment, all journaled, all or nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from desktop.capture.note_apply import ConfirmedNote, apply_note, load_candidates
from desktop.capture.note_parse import parse_note
from desktop.capture.voice_audio import write_wav
from desktop.errors import ValidationError
from tests.capture.phrases import NOW

NOW_DT = dt.datetime.fromisoformat(NOW)


@pytest.fixture
def crm(store: Any) -> dict[str, Any]:
    acc = store.repo("account").create({"name": "上海华为技术有限公司"})
    other = store.repo("account").create({"name": "北京远景能源有限公司"})
    zhang = store.repo("contact").create({"name": "张伟", "title": "总经理",
                                          "account_id": acc["id"]})
    store.repo("contact").create({"name": "张强", "title": "副总", "account_id": other["id"]})
    won = store.repo("deal").create({"title": "一期", "account_id": acc["id"], "stage": "won",
                                     "amount": 10, "currency": "CNY"})
    deal = store.repo("deal").create({"title": "产线改造", "account_id": acc["id"],
                                      "stage": "proposal", "currency": "USD"})
    return {"store": store, "acc": acc, "other": other, "zhang": zhang, "deal": deal, "won": won}


def _activities(store: Any) -> dict[str, dict[str, Any]]:
    return {a["kind"]: a for a in store.repo("activity").iter_all()}


def test_issue_example_applies_task_note_and_deal_amount(crm: dict[str, Any]) -> None:
    store = crm["store"]
    before = len(store.journal.pending())
    cands = load_candidates(store, current_account_id=crm["acc"]["id"])
    parsed = parse_note("张总说下周二看工厂，预算200万", NOW_DT, cands)
    assert parsed.contact is not None and parsed.contact.id == crm["zhang"]["id"]
    result = apply_note(store, ConfirmedNote.from_parse(parsed), default_currency="CNY")

    acts = _activities(store)
    task, note = acts["task"], acts["note"]
    assert task["id"] == result.task_id and note["id"] == result.note_id
    assert task["subject"] == "拜访张总"
    assert task["due_at"] == "2026-03-17T01:00:00Z"  # 09:00 Shanghai, stored in UTC
    for rec in (task, note):
        assert (rec["account_id"], rec["contact_id"], rec["deal_id"]) == (
            crm["acc"]["id"], crm["zhang"]["id"], crm["deal"]["id"])
    assert note["body"] == "张总说下周二看工厂，预算200万"
    # The open deal (not the won one) gets the amount; its own currency is kept.
    deal = store.repo("deal").get(crm["deal"]["id"])
    assert (deal["amount"], deal["currency"]) == (2_000_000, "USD")
    assert store.repo("deal").get(crm["won"]["id"])["amount"] == 10
    assert not result.deal_created
    # Everything went through the journal, to be synced.
    pending = store.journal.pending()
    assert len(pending) >= before + 3
    assert {e.entity for e in pending[before:]} >= {"activity", "deal"}


def test_an_edited_note_keeps_the_transcript_and_said_currency_wins(crm: dict[str, Any]) -> None:
    store = crm["store"]
    due = dt.datetime(2026, 3, 24, 14, 30, tzinfo=NOW_DT.tzinfo)
    apply_note(store, ConfirmedNote(
        note="张总：下周二看工厂", transcript="张总说下周二看工厂", subject="拜访张总（看工厂）",
        due_at=due, amount=150_000, currency="EUR", account_id=crm["acc"]["id"],
        contact_id=crm["zhang"]["id"], deal_id=crm["deal"]["id"]))
    acts = _activities(store)
    assert acts["task"]["subject"] == "拜访张总（看工厂）"
    assert acts["task"]["due_at"] == "2026-03-24T06:30:00Z"
    assert "张总说下周二看工厂" in acts["note"]["body"]
    deal = store.repo("deal").get(crm["deal"]["id"])
    assert (deal["amount"], deal["currency"]) == (150_000, "EUR")


def test_an_amount_with_no_open_deal_creates_one(crm: dict[str, Any]) -> None:
    store = crm["store"]
    result = apply_note(store, ConfirmedNote(note="预算30万", amount=300_000,
                                             account_id=crm["other"]["id"]))
    assert result.deal_created and result.task_id is None  # no action said: no task
    deal = store.repo("deal").get(result.deal_id)
    assert (deal["account_id"], deal["amount"], deal["currency"]) == (
        crm["other"]["id"], 300_000, "CNY")
    assert _activities(store)["note"]["deal_id"] == deal["id"]


def test_a_chinese_note_books_yuan_on_a_new_deal_whatever_the_default(
        crm: dict[str, Any]) -> None:
    store = crm["store"]
    parsed = parse_note("预算30万", NOW_DT)
    note = ConfirmedNote.from_parse(parsed, account_id=crm["other"]["id"])
    result = apply_note(store, note, default_currency="USD")
    deal = store.repo("deal").get(result.deal_id)
    assert (deal["amount"], deal["currency"]) == (300_000, "CNY")


def test_audio_is_kept_as_blob_and_attachment_when_asked(crm: dict[str, Any],
                                                         tmp_path: Path) -> None:
    store = crm["store"]
    audio = write_wav(tmp_path / "note.wav", bytes(range(256)) * 64)
    result = apply_note(store, ConfirmedNote(note="下周二看工厂", subject="拜访",
                                             account_id=crm["acc"]["id"], audio_path=audio,
                                             keep_audio=True))
    assert (result.audio_sha256
            and store.blobs.path(result.audio_sha256).read_bytes() == audio.read_bytes())
    att = store.repo("attachment").get(result.attachment_id)
    assert (att["sha256"], att["file_name"], att["mime_type"]) == (
        result.audio_sha256, "note.wav", "audio/x-wav")
    assert att["size"] == audio.stat().st_size
    assert _activities(store)["note"]["attachments"] == [result.audio_sha256]
    # Not asked: no attachment.
    result = apply_note(store, ConfirmedNote(note="again", audio_path=audio))
    assert result.attachment_id is None


def test_a_bad_value_writes_nothing(crm: dict[str, Any]) -> None:
    store = crm["store"]
    before = len(store.journal.pending())
    with pytest.raises(ValidationError):
        apply_note(store, ConfirmedNote(note="预算30万", subject="拜访", amount=300_000,
                                        currency="not money", account_id=crm["acc"]["id"]))
    assert list(store.repo("activity").iter_all()) == []
    assert store.repo("deal").get(crm["deal"]["id"])["amount"] is None
    assert len(store.journal.pending()) == before


def test_recent_accounts_come_from_the_newest_activities(crm: dict[str, Any]) -> None:
    store = crm["store"]
    store.repo("activity").create({"kind": "call", "subject": "x",
                                   "account_id": crm["other"]["id"]})
    cands = load_candidates(store)
    assert cands.recent_account_ids == [crm["other"]["id"]]
    # So 张总 means the 张 at the account the rep just worked on.
    parsed = parse_note("张总说下周二看工厂", NOW_DT, cands)
    assert parsed.contact is not None and parsed.contact.name == "张强"


def test_a_saved_recording_leaves_no_plain_file_and_a_picked_file_stays(
        crm: dict[str, Any], tmp_path: Path) -> None:
    from desktop.profile import RECORDINGS_DIR

    store = crm["store"]
    pcm = "张伟 13912345678".encode() * 500
    recorded = write_wav(store.profile / RECORDINGS_DIR / "voice-20261207-101500.wav", pcm)
    picked = write_wav(tmp_path / "from-phone.wav", pcm + b"xx")
    for audio in (recorded, picked):
        result = apply_note(store, ConfirmedNote(note="下周二看工厂", audio_path=audio,
                                                 account_id=crm["acc"]["id"], keep_audio=True))
        assert pcm in store.blobs.read(result.audio_sha256)  # the audio is kept, as a blob
    assert not recorded.exists() and picked.exists()
