"""Import: encodings, mapping, one validation per row, the error file, duplicates
through the matcher (skip, update, overwrite, create), links to accounts, cancel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop import cli
from desktop.errors import ValidationError
from desktop.exchange import mapping as maps
from desktop.exchange.importer import marker_key, run_import
from desktop.exchange.readers import Sheet, detect_encoding
from desktop.schema import ENTITIES
from tests.exchange.files import USCC, read_csv, write_csv, write_xlsx

ROWS = [["名称", "电话", "统一社会信用代码", "行业", "员工人数"],
        ["深圳市腾讯计算机系统有限公司", "13912345678", USCC[0], "互联网", "100"],
        ["华为技术有限公司", "", "", "通信", "2000"],
        ["北京字节跳动科技有限公司", "+86 138 0013 8000", "", "互联网", ""]]


def names(store: Any, entity: str = "account") -> list[str]:
    title = ENTITIES[entity].title_field
    return sorted(r[title] for r in store.repo(entity).iter_all())


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_encodings_are_detected(store: Any, tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "a.csv", ROWS, encoding)
    assert detect_encoding(path) in ({"gbk": "gb18030"}.get(encoding, encoding),)
    result = run_import(store, path, "account")
    assert (result.created, result.invalid) == (3, 0)
    assert names(store) == sorted(r[0] for r in ROWS[1:])
    rec = store.repo("account").find(uscc=USCC[0])[0]
    assert rec["industry"] == "互联网" and rec["cf_employees"] == 100
    assert rec["phone"] == "+8613912345678"


def test_the_user_can_override_the_encoding(store: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", ROWS, "gbk")
    with pytest.raises(ValidationError, match="not utf-8"):
        run_import(store, path, "account", encoding="utf-8")
    assert run_import(store, path, "account", encoding="gb18030").created == 3


def test_xlsx_is_read(store: Any, tmp_path: Path) -> None:
    rows = [ROWS[0], *[[*r[:4], int(r[4]) if r[4] else None] for r in ROWS[1:]]]
    result = run_import(store, write_xlsx(tmp_path / "a.xlsx", rows), "account")
    assert result.created == 3
    assert store.repo("account").find(uscc=USCC[0])[0]["cf_employees"] == 100


def test_mapping_from_headers_and_saved(profile: Path, tmp_path: Path) -> None:
    ent = ENTITIES["contact"]
    header = ["姓名", "手机", "E-mail", "职务", "公司名称", "备注"]
    assert maps.auto_mapping(ent, header) == {
        "姓名": "name", "手机": "phones", "E-mail": "email", "职务": "title",
        "公司名称": "account_name"}
    assert maps.auto_mapping(ENTITIES["deal"], ["Title", "Amount", "阶段", "Competitor",
                                                  "account_id"]) == {
        "Title": "title", "Amount": "amount", "阶段": "stage", "Competitor": "cf_competitor",
        "account_id": "account_id"}
    maps.save_mapping(profile, "展会名单", "contact", {"姓名": "name", "手机": "phones"})
    assert maps.saved_mappings(profile, "contact") == {
        "展会名单": {"姓名": "name", "手机": "phones"}}
    assert maps.saved_mappings(profile, "account") == {}
    with pytest.raises(ValidationError, match="no field 'nickname'"):
        maps.check_mapping(ent, header, {"姓名": "nickname"})
    with pytest.raises(ValidationError, match="both fill"):
        maps.check_mapping(ent, header, {"姓名": "name", "职务": "name"})


def test_a_missing_required_column_stops_before_anything_is_written(
        store: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [["电话", "行业"], ["13912345678", "互联网"]])
    with pytest.raises(ValidationError, match="no column for Name"):
        run_import(store, path, "account")
    assert names(store) == [] and store.journal.counts()["pending"] == 0


def test_invalid_rows_go_to_the_error_file_and_never_stop_the_run(
        store: Any, tmp_path: Path) -> None:
    big = "长" * (10 * 1024 * 1024 // 3 + 1)  # a 10 MB cell (UTF-8)
    rows = [["name", "phone", "address", "cf_employees"],
            ["Good One", "", "", ""],
            ["", "13912345678", "no name", ""],  # required field empty
            ["Bad Phone", "12", "", ""],
            ["Huge Address", "", big, ""],
            ["Ragged", "", "", "", "surplus cell"],
            ["Short row"],
            ["Bad Number", "", "", "lots"],
            ["Good Two", "", "", "12"]]
    path = write_csv(tmp_path / "a.csv", rows)
    assert path.stat().st_size > 10 * 1024 * 1024
    result = run_import(store, path, "account")
    assert (result.created, result.invalid) == (3, 5)
    assert names(store) == ["Good One", "Good Two", "Short row"]
    errors = read_csv(Path(result.errors_file or ""))
    assert errors[0] == ["name", "phone", "address", "cf_employees", "reason / 错误原因"]
    by_name = {r[0]: r for r in errors[1:]}
    assert set(by_name) == {"", "Bad Phone", "Huge Address", "Ragged", "Bad Number"}
    assert "Name is required" in by_name[""][-1]
    assert "phone" in by_name["Bad Phone"][-1].lower()
    assert by_name["Huge Address"][2] == big and "longer than 500" in by_name["Huge Address"][-1]
    assert "5 cells" in by_name["Ragged"][-1] and by_name["Ragged"][4] == "surplus cell"
    assert "number" in by_name["Bad Number"][-1]
    # fixed and imported again: the error file is a file to import
    fixed = [r[:-1] for r in errors]
    fixed[1][0] = "No Name Ltd"
    path2 = write_csv(tmp_path / "fixed.csv", [fixed[0], fixed[1]])
    assert run_import(store, path2, "account").created == 1


def test_each_row_is_validated_once(store: Any, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import desktop.exchange.importer as importer
    import desktop.store.repository as repository

    calls = {"n": 0}
    real = importer.validate_changes

    def counting(ent: Any, values: Any) -> Any:
        calls["n"] += 1
        return real(ent, values)

    monkeypatch.setattr(importer, "validate_changes", counting)
    monkeypatch.setattr(repository, "validate_changes", counting)
    run_import(store, write_csv(tmp_path / "a.csv", ROWS), "account")
    assert calls["n"] == 3


def test_duplicates_skip_update_overwrite_or_create(store: Any, tmp_path: Path) -> None:
    repo = store.repo("account")
    tencent = repo.create({"name": "深圳市腾讯计算机系统有限公司", "industry": "游戏"})
    huawei = repo.create({"name": "华为技术有限公司", "phone": "13800000000"})
    path = write_csv(tmp_path / "a.csv", ROWS)
    dry = run_import(store, path, "account", dry_run=True)
    assert (dry.created, dry.skipped_duplicates, dry.invalid) == (1, 2, 0)
    assert {d["id"] for d in dry.duplicates} == {tencent["id"], huawei["id"]}
    assert all(d["reasons"] == ["name"] for d in dry.duplicates)
    assert len(names(store)) == 2 and store.meta_get(marker_key(path, "account")) is None

    result = run_import(store, path, "account", restart=True)  # skip
    assert (result.created, result.skipped_duplicates) == (1, 2)
    assert repo.get(tencent["id"])["industry"] == "游戏"

    result = run_import(store, path, "account", on_duplicate="update", restart=True)
    assert (result.created, result.updated, result.skipped_duplicates) == (0, 3, 0)
    rec = repo.get(tencent["id"])
    assert rec["industry"] == "游戏" and rec["uscc"] == USCC[0]  # filled, not overwritten
    assert repo.get(huawei["id"])["phone"] == "+8613800000000"

    result = run_import(store, path, "account", on_duplicate="overwrite", restart=True)
    assert result.updated == 3 and repo.get(tencent["id"])["industry"] == "互联网"

    result = run_import(store, path, "account", on_duplicate="create", restart=True)
    assert result.created == 3 and len(names(store)) == 6


def test_duplicates_within_one_file(store: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [
        ["名称", "电话"], ["深圳市腾讯计算机系统有限公司", ""],
        ["腾讯计算机系统（深圳）有限公司", ""],
        ["小米科技有限责任公司", "13912345678"], ["小米", "139 1234 5678"]])
    result = run_import(store, path, "account")
    assert (result.created, result.skipped_duplicates) == (2, 2)


def test_a_blocking_rule_refuses_create_anyway(store: Any, tmp_path: Path) -> None:
    from desktop.dedupe import rules

    rules.set_rule(store, "account", action="block")
    with pytest.raises(ValidationError, match="blocks"):
        run_import(store, write_csv(tmp_path / "a.csv", ROWS), "account", on_duplicate="create")


def test_contacts_link_to_their_account_by_name_or_credit_code(store: Any,
                                                               tmp_path: Path) -> None:
    acc = store.repo("account")
    tencent = acc.create({"name": "深圳市腾讯计算机系统有限公司", "uscc": USCC[0]})
    huawei = acc.create({"name": "华为技术有限公司"})
    path = write_csv(tmp_path / "c.csv", [
        ["姓名", "手机", "客户"],
        ["张伟", "13812345678", USCC[0]],
        ["李娜", "13812345679", "华为技术有限公司"],
        ["王芳", "13812345670", "腾讯计算机系统(深圳)有限公司"],  # the matcher's probable same
        ["赵磊", "13812345671", "不存在的公司"]])
    result = run_import(store, path, "contact")
    assert (result.created, result.invalid) == (3, 1)
    by_name = {c["name"]: c["account_id"] for c in store.repo("contact").iter_all()}
    assert by_name == {"张伟": tencent["id"], "李娜": huawei["id"], "王芳": tencent["id"]}
    assert "No account '不存在的公司'" in result.errors[0]["reason"]
    # the same contact again (same mobile): linked to the existing one, not created
    again = write_csv(tmp_path / "c2.csv", [["姓名", "手机"], ["张伟", "138-1234-5678"]])
    result = run_import(store, again, "contact")
    assert (result.created, result.skipped_duplicates) == (0, 1)


def test_deals_and_activities(store: Any, tmp_path: Path) -> None:
    acc = store.repo("account").create({"name": "华为技术有限公司"})
    deals = write_csv(tmp_path / "d.csv", [
        ["标题", "金额", "阶段", "竞争对手", "客户名称"],
        ["服务器采购", "1,200,000", "proposal", "浪潮", "华为技术有限公司"],
        ["存储扩容", "30000", "won", "", ""], ["坏阶段", "1", "dreaming", "", ""]])
    result = run_import(store, deals, "deal")
    assert (result.created, result.invalid) == (2, 1)
    deal = store.repo("deal").find(title="服务器采购")[0]
    assert (deal["amount"], deal["account_id"], deal["cf_competitor"]) == (
        1200000, acc["id"], "浪潮")
    assert deal["stage_changed_at"]  # stamped like any write that sets the stage
    acts = write_csv(tmp_path / "act.csv", [
        ["kind", "subject", "due_at", "account_id"],
        ["call", "回访", "2026-12-01T09:00:00+08:00", acc["id"]]])
    assert run_import(store, acts, "activity").created == 1
    assert store.repo("activity").find(subject="回访")[0]["due_at"] == "2026-12-01T01:00:00Z"


def test_cancel_leaves_whole_chunks_and_a_rerun_goes_on(store: Any, tmp_path: Path) -> None:
    rows = [["name", "phone"]] + [[f"Company {i:05d}", ""] for i in range(250)]
    path = write_csv(tmp_path / "a.csv", rows)
    seen: list[int] = []
    result = run_import(store, path, "account", chunk=100, on_duplicate="create",
                        progress=lambda done, total: seen.append(done),
                        cancelled=lambda: bool(seen))
    assert result.cancelled and result.created == 100 and len(names(store)) == 100
    result = run_import(store, path, "account", chunk=100, on_duplicate="create")
    assert result.already_imported == 100 and result.created == 150
    assert names(store) == sorted(r[0] for r in rows[1:])
    again = run_import(store, path, "account", chunk=100, on_duplicate="create")
    assert again.created == 0 and again.already_imported == 250


def test_the_collector_is_held_per_import_and_given_back(store: Any, tmp_path: Path) -> None:
    """The rows' objects make no cycles: the cyclic collector is off while an import runs
    (desktop.store.gcpause) and on again after it, cancelled or failed too."""
    import gc

    from desktop.store import gcpause

    rows = [["name", "phone"]] + [[f"Company {i:05d}", ""] for i in range(250)]
    path = write_csv(tmp_path / "a.csv", rows)
    during: list[bool] = []

    def progress(done: int, total: int) -> None:
        during.append(gc.isenabled() or not gcpause.held())

    before = gc.isenabled()  # off for good once a Qt test installed main_thread_gc
    result = run_import(store, path, "account", chunk=100, progress=progress,
                        cancelled=lambda: len(during) > 1)
    assert result.cancelled and during and not any(during)
    assert gc.isenabled() == before and not gcpause.held()
    with pytest.raises(ZeroDivisionError):
        run_import(store, path, "account", chunk=100, restart=True,
                   progress=lambda done, total: 1 // 0)
    assert gc.isenabled() == before and not gcpause.held()


def test_cli_import(capsys: pytest.CaptureFixture[str], profile: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [*ROWS, ["Bad", "12", "", "", ""]], "gbk")
    errors = tmp_path / "out" / "rejected.csv"
    code = cli.main(["--profile", str(profile), "import", "account", str(path), "--dry-run",
                     "--json"])
    dry = json.loads(capsys.readouterr().out)
    assert code == 0 and (dry["new"], dry["duplicates"], dry["invalid"]) == (3, 0, 1)
    code = cli.main(["--profile", str(profile), "import", "account", str(path),
                     "--errors", str(errors), "--save-mapping", "crm", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {k: out[k] for k in ("created", "updated", "skipped_duplicates", "invalid",
                                "errors_file")} == {
        "created": 3, "updated": 0, "skipped_duplicates": 0, "invalid": 1,
        "errors_file": str(errors)}
    assert read_csv(errors)[1][0] == "Bad"
    assert maps.saved_mappings(profile, "account")["crm"]["名称"] == "name"
    code = cli.main(["--profile", str(profile), "import", "account", str(path),
                     "--mapping", "crm", "--restart", "--json"])
    assert json.loads(capsys.readouterr().out)["skipped_duplicates"] == 3
    code = cli.main(["--profile", str(profile), "import", "account",
                     str(write_csv(tmp_path / "b.csv", [["x"], ["1"]])), "--json"])
    assert code == 2 and "no column for Name" in capsys.readouterr().err


def test_sheet_reads_semicolons_and_tabs(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("name\tphone\nA\t1\n", encoding="utf-8")
    assert Sheet(p).header == ["name", "phone"]
    p.write_text("name;phone\nA;1\n", encoding="utf-8")
    assert list(Sheet(p).rows()) == [(2, ["A", "1"])]
