"""Voice-note parsing: the phrase table (due dates, amounts, traps), mentions, actions,
speed and the `fieldcrm capture note` command."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import re
import time
from zoneinfo import ZoneInfo

import pytest

from desktop.capture.note_mentions import Candidates
from desktop.capture.note_parse import parse_note
from desktop.capture.voice_cli import add_subcommands
from tests.capture.phrases import NOW, PHRASES

NOW_DT = dt.datetime.fromisoformat(NOW)

CANDIDATES = {
    "contacts": [
        {"id": "c-zhang-other", "name": "张强", "title": "副总裁", "account_id": "a-other"},
        {"id": "c-zhang-cur", "name": "张伟", "title": "总经理", "account_id": "a-huawei"},
        {"id": "c-zhang-buyer", "name": "张敏", "title": "采购专员", "account_id": "a-huawei"},
        {"id": "c-wang", "name": "王芳", "title": "采购经理", "account_id": "a-jingmi"},
        {"id": "c-li", "name": "李建国", "title": "工程师", "account_id": "a-jingmi"},
        {"id": "c-anna", "name": "Anna Schmidt", "title": "Head of Purchasing",
         "account_id": "a-acme"},
        {"id": "c-ouyang", "name": "欧阳娜娜", "title": "总监", "account_id": "a-other"},
    ],
    "accounts": [
        {"id": "a-huawei", "name": "上海华为技术有限公司"},
        {"id": "a-jingmi", "name": "苏州精密机械有限公司"},
        {"id": "a-acme", "name": "Acme Corp"},
        {"id": "a-other", "name": "北京远景能源有限公司"},
    ],
    "current_account_id": "a-huawei",
    "recent_account_ids": ["a-jingmi"],
}


def test_the_phrase_table_is_big_and_covers_every_form() -> None:
    texts = "\n".join(p[0] for p in PHRASES)
    assert len(PHRASES) >= 80
    for form in ("明天下午三点", "后天", "下周二", "下下周一", "月底", "下个月5号", "3月20日",
                 "20号", "next Tuesday", "in 3 days", "by Friday", "March 24 at 2:30 pm",
                 "200万", "两百万", "1.5亿", "50w", "3.5万元", "壹佰万元整", "$150k",
                 "2 million dollars", "80,000 USD"):
        assert form in texts, form
    chinese = sum(1 for p in PHRASES if re.search(r"[\u4e00-\u9fff]", p[0]))
    assert chinese >= 30 and len(PHRASES) - chinese >= 25
    assert sum(1 for p in PHRASES if p[2] is None) >= 20  # traps and date-only rows


@pytest.mark.parametrize(("text", "due", "amount", "currency"), PHRASES,
                         ids=[p[0][:40] for p in PHRASES])
def test_phrase(text: str, due: str | None, amount: float | None, currency: str | None) -> None:
    parsed = parse_note(text, NOW_DT).to_json()
    assert (parsed["due"], parsed["amount"], parsed["currency"]) == (due, amount, currency)


def test_the_issue_example_gives_task_note_amount_and_mr_zhang() -> None:
    p = parse_note("张总说下周二看工厂，预算200万", NOW_DT, CANDIDATES)
    assert p.due_iso == "2026-03-17"
    assert p.action == "visit" and p.subject == "拜访张总"
    assert p.amount == 2_000_000
    assert p.contact is not None and p.contact.id == "c-zhang-cur"  # 总经理 on the current account
    assert p.account_id == "a-huawei"
    assert p.text == "张总说下周二看工厂，预算200万"
    # The task is due at 09:00 Shanghai time that day when no time was said.
    assert p.due_at() == dt.datetime(2026, 3, 17, 9, 0, tzinfo=NOW_DT.tzinfo)


def test_zhang_zong_prefers_the_title_then_the_current_then_a_recent_account() -> None:
    # Without a current account, both 张 with a 总 title are equal: the recent account's
    # contacts win over unrelated ones, and a tie is reported as ambiguous.
    cands = dict(CANDIDATES, current_account_id=None, recent_account_ids=["a-other"])
    p = parse_note("给张总打个电话", NOW_DT, cands)
    assert p.contact is not None and p.contact.id == "c-zhang-other"
    assert not p.contact.ambiguous
    cands = dict(CANDIDATES, current_account_id=None, recent_account_ids=[])
    p = parse_note("给张总打个电话", NOW_DT, cands)
    assert p.contact is not None and p.contact.ambiguous
    # The buyer 张敏 has no 总 title: never chosen for 张总 while a 总 exists.
    assert p.contact.id != "c-zhang-buyer"


@pytest.mark.parametrize(("text", "contact_id"), [
    ("明天给王经理打电话", "c-wang"),
    ("李工说设备下周到", "c-li"),
    ("下周二跟 Anna 开会，budget 50k USD", "c-anna"),
    ("call Mr. Zhang next Tuesday", "c-zhang-cur"),
    ("欧阳总监下周来", "c-ouyang"),
    ("张伟说预算两百万", "c-zhang-cur"),
    ("小王下午回电话", "c-wang"),
])
def test_people_are_matched_against_local_contacts(text: str, contact_id: str) -> None:
    p = parse_note(text, NOW_DT, CANDIDATES)
    assert p.contact is not None and p.contact.id == contact_id


def test_companies_are_matched_by_their_short_names() -> None:
    p = parse_note("明天去华为和精密机械拜访", NOW_DT, CANDIDATES)
    assert [m.id for m in p.mentions if m.kind == "account"] == ["a-huawei", "a-jingmi"]
    p = parse_note("visit Acme in 3 days", NOW_DT, CANDIDATES)
    assert [m.id for m in p.mentions] == ["a-acme"]
    assert p.subject == "Visit Acme"


def test_unknown_people_are_not_invented() -> None:
    p = parse_note("赵总说下周二看工厂", NOW_DT, CANDIDATES)
    assert p.mentions == ()
    assert parse_note("张总说下周二看工厂", NOW_DT).mentions == ()


@pytest.mark.parametrize(("text", "action"), [
    ("张总说下周二看工厂", "visit"),
    ("明天给王经理打电话", "call"),
    ("周五之前发报价", "send_quote"),
    ("下周一开会", "meeting"),
    ("send the quote by Friday", "send_quote"),
    ("call Anna next Tuesday", "call"),
    ("meeting on March 24", "meeting"),
    ("site visit April 2nd", "visit"),
    ("20号再跟进一下", "follow_up"),  # a due date without a named action: follow up
    ("预算两百万", None),
])
def test_the_action_makes_the_task(text: str, action: str | None) -> None:
    assert parse_note(text, NOW_DT).action == action


def test_time_zone_of_now_is_kept_and_dates_resolve_in_it() -> None:
    # 23:30 UTC on the 10th is already the 11th in Shanghai.
    now = dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    assert parse_note("明天下午三点", now).due_iso == "2026-03-12T15:00"
    with pytest.raises(ValueError):
        parse_note("明天", dt.datetime(2026, 3, 11, 10, 0))


def test_a_time_already_past_today_means_tomorrow() -> None:
    assert parse_note("九点打电话", NOW_DT).due_iso == "2026-03-12T09:00"
    assert parse_note("下午三点打电话", NOW_DT).due_iso == "2026-03-11T15:00"


def test_parsing_is_fast() -> None:
    cands = Candidates.from_data(CANDIDATES)
    parse_note("call Mr. Zhang", NOW_DT, cands)  # first pinyin use loads its dictionary
    times = []
    for text, *_ in PHRASES:
        started = time.perf_counter()
        parse_note(text, NOW_DT, cands)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    assert times[int(len(times) * 0.95)] < 20, times[-5:]


def _run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="fieldcrm")
    parser.add_argument("--profile", default=None)
    sub = parser.add_subparsers(dest="command")
    capture = sub.add_parser("capture")
    add_subcommands(capture.add_subparsers(dest="capture_command"))
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_note_prints_exactly_the_promised_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run_cli(["capture", "note", "下周二跟 Anna 开会，budget 50k USD",
                             "--now", NOW, "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["due", "amount", "amount_max", "currency", "currency_said", "task",
                          "mentions", "note"]
    assert data["due"] == "2026-03-17" and data["amount"] == 50000 and data["currency"] == "USD"
    assert data["task"]["action"] == "meeting" and data["mentions"] == []
    code, out, _ = _run_cli(["capture", "note", "March 24 at 2:30 pm call the buyer",
                             "--now", "2026-03-11T10:00-05:00", "--json"], capsys)
    assert json.loads(out)["due"] == "2026-03-24T14:30"
    code, out, _ = _run_cli(["capture", "note", "hello", "--now", NOW, "--json"], capsys)
    assert json.loads(out) == {"due": None, "amount": None, "amount_max": None,
                               "currency": None, "currency_said": False, "task": None,
                               "mentions": [], "note": "hello"}


def test_cli_note_rejects_a_bad_now(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run_cli(["capture", "note", "明天", "--now", "yesterday", "--json"], capsys)
    assert code == 2 and out == "" and "ISO-8601" in err


def test_parsing_stays_fast_with_thousands_of_contacts() -> None:
    surnames, given = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗",
                       "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平")
    contacts = [{"id": f"c{i}", "name": surnames[i % 20] + given[(i // 20) % 20] + given[i % 7],
                 "title": ("总经理", "采购经理", "工程师")[i % 3], "account_id": f"a{i % 800}"}
                for i in range(6000)]
    letters = "abcdefghijklmnopqrstuvwxyz"

    def word(i: int) -> str:
        return "".join(letters[(i // 26**k) % 26] for k in range(3))

    contacts += [{"id": f"e{i}", "name": f"Ann{word(i)} Smi{word(i + 7)}", "title": "Buyer",
                  "account_id": f"a{i % 800}"} for i in range(2000)]
    accounts = [{"id": f"a{i}", "name": f"{surnames[i % 20]}{given[i % 13]}{i}科技有限公司"}
                for i in range(800)]
    cands = Candidates.from_data({"contacts": contacts, "accounts": accounts,
                                  "current_account_id": "a5"})
    parse_note("call Mr. Zhang", NOW_DT, cands)  # builds the indexes once
    worst = 0.0
    for text in ("张总说下周二看工厂，预算200万", f"下周二跟 Ann{word(7)} 开会，budget 50k USD",
                 "call Mr. Wang next Tuesday at 2:30 pm", "王芳娜说月底前发报价"):
        runs = []
        for _ in range(3):  # the best of three: the parser's cost, not a busy machine's
            started = time.perf_counter()
            p = parse_note(text, NOW_DT, cands)
            runs.append((time.perf_counter() - started) * 1000)
        worst = max(worst, min(runs))
        assert p.mentions, text
    assert worst < 20


def test_everyday_words_and_trade_words_are_not_taken_for_names() -> None:
    cands = {"contacts": [{"id": "will", "name": "Will Smith", "title": "CTO"},
                          {"id": "anna", "name": "Anna Lee", "title": "Buyer"}],
             "accounts": [{"id": "kj", "name": "上海科技有限公司"},
                          {"id": "hw", "name": "深圳华为技术有限公司"}]}
    p = parse_note("we will call anna tomorrow", NOW_DT, cands)
    assert [m.id for m in p.mentions] == ["anna"]
    assert [m.id for m in parse_note("Will said yes", NOW_DT, cands).mentions] == ["will"]
    # "科技" alone is any tech company, not 上海科技有限公司; "华为" is that account.
    p = parse_note("这家科技公司和华为都要报价", NOW_DT, cands)
    assert [m.id for m in p.mentions] == ["hw"]


def test_cli_note_reads_many_notes_from_stdin(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("预算50–60万\n\nbudget 80k USD\n"))
    code, out, _ = _run_cli(["capture", "note", "--now", NOW, "--json"], capsys)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 2  # the blank line is no note
    assert (lines[0]["amount"], lines[0]["amount_max"], lines[0]["currency"]) == (
        500_000, 600_000, "CNY")
    assert (lines[1]["amount"], lines[1]["currency"], lines[1]["currency_said"]) == (
        80_000, "USD", True)
