"""`fieldcrm duplicates check|list|rule`, `fieldcrm merge`, and `account add` refusing
a probable duplicate with exit status 3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop import cli


def run(capsys: pytest.CaptureFixture[str], profile: Path, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--profile", str(profile), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def add(capsys: pytest.CaptureFixture[str], profile: Path, *argv: str) -> dict:  # type: ignore[type-arg]
    code, out, err = run(capsys, profile, "account", "add", *argv, "--json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_account_add_refuses_a_probable_duplicate_unless_allowed(
        capsys: pytest.CaptureFixture[str], profile: Path) -> None:
    first = add(capsys, profile, "--name", "深圳市腾讯计算机系统有限公司", "--phone", "13912345678")
    code, out, err = run(capsys, profile, "account", "add",
                         "--name", "腾讯计算机系统（深圳）有限公司", "--json")
    assert code == 3 and "--allow-duplicate" in err
    assert json.loads(out)["candidates"] == [
        {"id": first["id"], "name": "深圳市腾讯计算机系统有限公司", "score": 100.0,
         "reasons": ["name"]}]
    code, out, _ = run(capsys, profile, "account", "add", "--name", "Other Co",
                       "--phone", "+86 139 1234 5678")
    assert code == 3 and first["id"] in out and "phone" in out
    assert json.loads(run(capsys, profile, "journal", "--json")[1])["counts"]["pending"] == 1
    second = add(capsys, profile, "--name", "腾讯计算机系统（深圳）有限公司", "--allow-duplicate")
    add(capsys, profile, "--name", "深圳市腾达计算机系统有限公司")  # another brand: saved
    code, out, err = run(capsys, profile, "duplicates", "list", "--json")
    assert code == 0 and "compare" in err  # progress on stderr
    pairs = json.loads(out)["pairs"]
    assert [(p["a"], p["b"], p["reasons"]) for p in pairs] == [
        (first["id"], second["id"], ["name"])]


def test_check_lists_candidates_best_first_and_empty_below_threshold(
        capsys: pytest.CaptureFixture[str], profile: Path) -> None:
    a = add(capsys, profile, "--name", "Acme Technologies Co., Ltd.",
            "--uscc", "Y1110000MA01ABCD0W")
    b = add(capsys, profile, "--name", "Acme Technolgies Ltd", "--allow-duplicate")
    code, out, _ = run(capsys, profile, "duplicates", "check", "--name", "ACME Technologies",
                       "--uscc", "y1110000ma01abcd0w", "--json")
    found = json.loads(out)["candidates"]
    assert code == 0 and [c["id"] for c in found] == [a["id"], b["id"]]
    assert found[0]["reasons"] == ["uscc", "name"] and found[0]["score"] == 100.0
    assert 92 <= found[1]["score"] < 100 and found[1]["reasons"] == ["name"]
    code, out, _ = run(capsys, profile, "duplicates", "check", "--name", "Horizon Trading",
                       "--json")
    assert json.loads(out) == {"candidates": []}


def test_contacts_checked_by_mobile_email_and_name_in_account(
        capsys: pytest.CaptureFixture[str], profile: Path) -> None:
    from desktop.store import Store

    with Store.open(profile) as store:
        acc = store.repo("account").create({"name": "A 公司"})["id"]
        c = store.repo("contact").create({"name": "张伟", "account_id": acc,
                                          "phones": ["13812345678"],
                                          "email": "zw@example.com"})["id"]
    for extra in (["--phone", "138-1234-5678"], ["--email", "ZW@Example.com"], ["--account", acc]):
        code, out, _ = run(capsys, profile, "duplicates", "check", "--entity", "contact",
                           "--name", "张 伟", *extra, "--json")
        assert [x["id"] for x in json.loads(out)["candidates"]] == [c], extra
    code, out, _ = run(capsys, profile, "duplicates", "check", "--entity", "contact",
                       "--name", "张伟", "--json")
    # same name, no account: a common name, not a duplicate
    assert json.loads(out)["candidates"] == []


def test_rule_threshold_and_block_are_data(
    capsys: pytest.CaptureFixture[str], profile: Path
) -> None:
    add(capsys, profile, "--name", "Acme Technologies Co., Ltd.")
    code, out, _ = run(capsys, profile, "duplicates", "rule", "--json")
    assert json.loads(out) == {"entity": "account", "threshold": 92.0, "action": "warn"}
    assert run(capsys, profile, "duplicates", "rule", "--threshold", "99",
               "--action", "block")[0] == 0
    # 96% alike: below the new threshold, so saved
    assert run(capsys, profile, "account", "add", "--name", "Acme Technolgies Ltd")[0] == 0
    code, _, err = run(capsys, profile, "account", "add", "--name", "ACME TECHNOLOGIES",
                       "--allow-duplicate")
    assert code == 3 and "blocks" in err
    assert run(capsys, profile, "duplicates", "rule", "--threshold", "20")[0] == 2


def test_merge_command(capsys: pytest.CaptureFixture[str], profile: Path) -> None:
    a = add(capsys, profile, "--name", "深圳市腾讯计算机系统有限公司")
    b = add(capsys, profile, "--name", "腾讯计算机系统有限公司", "--phone", "13912345678",
            "--industry", "互联网", "--allow-duplicate")
    code, out, _ = run(capsys, profile, "merge", "--keep", a["id"], "--drop", b["id"],
                       "--take", "name", "--json")
    result = json.loads(out)
    assert code == 0 and result["taken"] == {"name": "腾讯计算机系统有限公司", "industry": "互联网",
                                             "phone": "+8613912345678"}
    code, out, _ = run(capsys, profile, "account", "list", "--json")
    assert [(r["id"], r["name"]) for r in json.loads(out)] == [(a["id"], "腾讯计算机系统有限公司")]
    assert json.loads(run(capsys, profile, "duplicates", "list", "--json")[1])["pairs"] == []
    code, _, err = run(capsys, profile, "merge", "--keep", a["id"], "--drop", b["id"])
    assert code == 1 and "No account" in err
    code, _, err = run(capsys, profile, "merge", "--keep", a["id"], "--drop", a["id"])
    assert code == 2 and "itself" in err
