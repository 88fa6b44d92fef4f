"""`fieldcrm contact|deal|activity|contract ...`: the shape of `fieldcrm account`, with
custom fields, the list filters and the duplicate refusal of `contact add`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop import cli
from desktop.dedupe.cli_commands import DUPLICATE_EXIT


def run(capsys: pytest.CaptureFixture[str], profile: Path, *argv: str) -> tuple[int, Any, str]:
    code = cli.main(["--profile", str(profile), *argv])
    out, err = capsys.readouterr()
    try:
        data = json.loads(out) if out.strip() else None
    except ValueError:
        data = out
    return code, data, err


def test_every_entity_has_the_account_shape(capsys: pytest.CaptureFixture[str],
                                            profile: Path) -> None:
    _, acc, _ = run(capsys, profile, "account", "add", "--name", "华为技术有限公司", "--json")
    samples = {
        "contact": ["--name", "张伟", "--phones", "13812345678", "--account-id", acc["id"]],
        "deal": ["--title", "服务器采购", "--account-id", acc["id"], "--amount", "120000",
                 "--stage", "proposal", "--cf-competitor", "浪潮"],
        "activity": ["--kind", "call", "--subject", "回访", "--account-id", acc["id"]],
        "contract": ["--contract-no", "HT-2026-0001", "--party-a-name", "华为"],
    }
    for entity, options in samples.items():
        code, rec, err = run(capsys, profile, entity, "add", *options, "--json")
        assert code == 0, err
        rid = rec["id"]
        code, rec, _ = run(capsys, profile, entity, "update", rid, "--owner", "li", "--json")
        assert code == 0 and rec["owner"] == "li"
        code, shown, _ = run(capsys, profile, entity, "show", rid, "--json")
        assert shown["id"] == rid and shown["owner"] == "li"
        code, listed, _ = run(capsys, profile, entity, "list", "--json")
        assert [r["id"] for r in listed] == [rid]
        assert run(capsys, profile, entity, "delete", rid, "--json")[0] == 0
        assert run(capsys, profile, entity, "list", "--json")[1] == []
        code, shown, err = run(capsys, profile, entity, "show", rid)
        assert code == 1 and "No " in err
        assert run(capsys, profile, entity, "undelete", rid, "--json")[1]["deleted"] is False
    code, deal, _ = run(capsys, profile, "deal", "list", "--json")
    assert deal[0]["cf_competitor"] == "浪潮" and deal[0]["amount"] == 120000
    code, journal, _ = run(capsys, profile, "journal", "--json")
    assert journal["counts"]["pending"] == 1 + 4 * 4


def test_list_filters(capsys: pytest.CaptureFixture[str], profile: Path) -> None:
    for title, stage, owner in (("Servers", "proposal", "alice"), ("服务器扩容", "won", "bob"),
                                ("Storage", "proposal", "bob")):
        assert run(capsys, profile, "deal", "add", "--title", title, "--stage", stage,
                   "--owner", owner, "--json")[0] == 0
    titles = lambda data: sorted(r["title"] for r in data)  # noqa: E731
    assert titles(run(capsys, profile, "deal", "list", "--stage", "proposal", "--json")[1]) == [
        "Servers", "Storage"]
    assert titles(run(capsys, profile, "deal", "list", "--owner", "bob", "--json")[1]) == [
        "Storage", "服务器扩容"]
    assert titles(run(capsys, profile, "deal", "list", "--search", "服务", "--json")[1]) == [
        "服务器扩容"]
    assert titles(run(capsys, profile, "deal", "list", "--since", "2000-01-01", "--json")[1]) == [
        "Servers", "Storage", "服务器扩容"]
    assert run(capsys, profile, "deal", "list", "--since", "2999-01-01", "--json")[1] == []
    code, _, err = run(capsys, profile, "deal", "list", "--since", "soon")
    assert code == 2 and "soon" in err
    code, _, err = run(capsys, profile, "deal", "list", "--stage", "dreaming")
    assert code == 2 and "Stage" in err
    # accounts and contacts search like the app: pinyin initials, phone
    run(capsys, profile, "account", "add", "--name", "深圳市腾讯计算机系统有限公司",
        "--lifecycle", "customer", "--json")
    run(capsys, profile, "account", "add", "--name", "Acme", "--json")
    assert [a["name"] for a in run(capsys, profile, "account", "list", "--search", "txjs",
                                   "--json")[1]] == ["深圳市腾讯计算机系统有限公司"]
    assert [a["name"] for a in run(capsys, profile, "account", "list", "--stage", "customer",
                                   "--json")[1]] == ["深圳市腾讯计算机系统有限公司"]
    run(capsys, profile, "contact", "add", "--name", "王芳", "--phones", "13900001111", "--json")
    run(capsys, profile, "contact", "add", "--name", "Li Lei", "--json")
    assert [c["name"] for c in run(capsys, profile, "contact", "list", "--search", "13900001111",
                                   "--json")[1]] == ["王芳"]
    assert len(run(capsys, profile, "activity", "list", "--limit", "5", "--json")[1]) == 0


def test_contact_add_refuses_a_probable_duplicate(capsys: pytest.CaptureFixture[str],
                                                  profile: Path) -> None:
    code, first, _ = run(capsys, profile, "contact", "add", "--name", "张伟",
                         "--phones", "13812345678", "--json")
    assert code == 0
    code, refused, err = run(capsys, profile, "contact", "add", "--name", "张伟 (采购)",
                             "--phones", "138-1234-5678", "--json")
    assert code == DUPLICATE_EXIT and "duplicate" in err
    assert [c["id"] for c in refused["candidates"]] == [first["id"]]
    assert "phone" in refused["candidates"][0]["reasons"]
    assert len(run(capsys, profile, "contact", "list", "--json")[1]) == 1
    code, second, _ = run(capsys, profile, "contact", "add", "--name", "张伟 (采购)",
                          "--phones", "138-1234-5678", "--allow-duplicate", "--json")
    assert code == 0 and second["id"] != first["id"]


def test_bad_input_saves_nothing(capsys: pytest.CaptureFixture[str], profile: Path) -> None:
    code, _, err = run(capsys, profile, "deal", "add", "--title", "X", "--amount", "lots")
    assert code == 2 and "Amount" in err
    code, _, err = run(capsys, profile, "activity", "add", "--subject", "no kind")
    assert code == 2 and "Kind" in err
    code, _, err = run(capsys, profile, "contract", "update")
    assert code == 2 and "id" in err
    assert run(capsys, profile, "journal", "--json")[1]["counts"]["pending"] == 0
