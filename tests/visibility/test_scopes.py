"""Data scopes beyond owner and team (issue 24): a region tree, so a regional manager's
laptop holds the book of that region and the regions under it, and a user moved to
another region or out of a team stops holding the old book at the next sync (not a byte
of it left in the profile folder), while the new one arrives. Real server, SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.sync.conftest import Server
from tests.visibility.test_visibility_sync import files_holding, server_cmd

SAM = "上海山姆贸易-7741"
GUS = "广州格斯实业-9913"
TOM = "苏州汤姆电子-5520"
BLOB = b"%PDF-1.4 TOM-CONTRACT-SCAN-3391"


def names(device: Any) -> set[str]:
    return {r[0] for r in device.store.conn.execute("SELECT name FROM account")}


def test_a_regional_manager_holds_the_regions_book_and_follows_a_move(
        server: Server, devices: Any, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    for region, parent in (("华东", None), ("上海", "华东"), ("华南", None)):
        argv = ["region", "add", region] + (["--parent", parent] if parent else [])
        assert server_cmd(capsys, server, tmp_path, *argv)[0] == 0
    server.user("mia", "manager")
    server.user("sam", teams=("sh",))
    server.user("tom", teams=("sh",))
    server.user("gus", teams=("gz",))
    for user, region in (("mia", "华东"), ("sam", "上海"), ("tom", "上海"), ("gus", "华南")):
        assert server_cmd(capsys, server, tmp_path, "user", "set-region", user, region)[0] == 0
    code, regions = server_cmd(capsys, server, tmp_path, "region", "list")
    assert code == 0 and {r["name"]: (r["parent"], r["users"]) for r in regions} == {
        "华东": (None, ["mia"]), "上海": ("华东", ["sam", "tom"]), "华南": (None, ["gus"])}
    mia, sam, tom, gus = (devices(u) for u in ("mia", "sam", "tom", "gus"))
    for d, user, name in ((sam, "sam", SAM), (tom, "tom", TOM), (gus, "gus", GUS)):
        d.login(user)
        d.repo("account").create({"name": name, "phone": "13912345678"})
        d.sync()
    sha = tom.store.blobs.put_bytes(BLOB)  # tom's contract scan
    tom.repo("attachment").create({"sha256": sha, "file_name": "合同.pdf", "size": len(BLOB)})
    tom.sync()
    mia.login("mia")
    mia.sync()
    assert names(mia) == {SAM, TOM}  # 上海 is under 华东; 华南 is not
    assert mia.store.blobs.has(sha) and files_holding(mia.profile, BLOB.decode())
    assert files_holding(mia.profile, GUS) == []
    # Moved to 华南: the 华东 book leaves the laptop, the 华南 book arrives.
    assert server_cmd(capsys, server, tmp_path, "user", "set-region", "mia", "华南")[0] == 0
    mia.sync()
    assert names(mia) == {GUS}
    assert [h.title for h in mia.store.search("山姆")] == []
    assert files_holding(mia.profile, SAM, TOM, BLOB.decode()) == []
    # A rep taken out of a team stops holding the teammates' book; keeps their own.
    sam.sync()
    assert names(sam) == {SAM, TOM}
    tom_id = sam.store.conn.execute("SELECT id FROM account WHERE name = ?", (TOM,)).fetchone()[0]
    sam.repo("account").update(tom_id, {"industry": "电子"})  # not pushed yet
    assert server_cmd(capsys, server, tmp_path, "user", "leave-team", "sam", "sh")[0] == 0
    assert sam.sync().parked == 1  # refused: no longer sam's to write; the edit is kept
    assert names(sam) == {SAM, TOM}
    [parked] = sam.store.journal.parked()
    sam.store.journal.discard(parked.seq)  # the rep lets the edit go (Sync problems)
    sam.sync()
    assert names(sam) == {SAM}
    assert files_holding(sam.profile, TOM) == []
    code, err = server_cmd(capsys, server, tmp_path, "user", "set-region", "sam", "火星")
    assert code == 1 and "No region '火星'" in err["error"]
