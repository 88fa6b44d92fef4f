"""Changing a custom field's type loses nothing: text -> date over 10,000 records with 3%
that are not dates. The server previews, converts in one operation, keeps the others
aside with the reason; every device converts its own copy the same way; a device that
was offline with pending edits of the field converges; a new device gets the same."""

from __future__ import annotations

from typing import Any

from desktop.schema import ENTITIES
from desktop.store.fielddefs import kept_values as local_kept
from server import fields
from tests.sync.conftest import Server

N = 10_000
BAD_EVERY = 33  # ~3% are not dates
FORMATS = ("2026-03-{d:02d}", "2026/3/{d}", "2026年3月{d}日", "2026.03.{d:02d}")


def visit(i: int) -> str:
    if i % BAD_EVERY == 0:
        return f"下周二拜访（第{i}号）"
    return FORMATS[i % 4].format(d=1 + i % 28)


def values_of(device: Any) -> dict[str, Any]:
    return {r["id"]: r.get("cf_visit") for r in device.repo("account").iter_all()}


def test_text_to_date_over_10000_records_loses_nothing(server: Server, devices: Any) -> None:
    server.user("rita", teams=("east",))
    server.user("ron", teams=("east",))
    fields.add_field(server.engine, "account", "visit", "text", label_zh="拜访时间")
    a, b = devices("rita"), devices("ron")
    a.login("rita")
    b.login("ron")
    a.sync()
    a.repo("account").import_many({"name": f"客户{i:05d}", "cf_visit": visit(i)}
                                  for i in range(N))
    a.sync()
    b.sync()
    ids = sorted(values_of(b))
    original = values_of(b)
    assert len(ids) == N
    # Offline now, ron edits the field in its old type: one date, one that is none.
    b.repo("account").update(ids[1], {"cf_visit": "2026/4/1"})
    b.repo("account").update(ids[2], {"cf_visit": "待定，等客户回复"})

    preview = fields.preview_type_change(server.engine, "account", "visit", "date")
    bad = [i for i in range(N) if i % BAD_EVERY == 0]
    assert (preview["values"], preview["unconvertible"]) == (N, len(bad))
    assert preview["from"] == "text" and preview["convert"] == N - len(bad)
    assert preview["examples_unconvertible"][0]["reason"].endswith("is not a date (YYYY-MM-DD)")
    done = fields.change_type(server.engine, "account", "visit", "date")
    assert done["kept_aside"] == len(bad)

    a.sync()
    assert ENTITIES["account"].field("cf_visit").type.value == "date"
    b.sync()  # pushes the old-typed edits, then converts its own copy
    a.sync()
    assert b.sync().parked == 0
    on_a, on_b = values_of(a), values_of(b)
    assert on_a == on_b
    assert on_a[ids[1]] == "2026-04-01"
    assert on_a[ids[2]] is None
    # Nothing lost: every value is converted or kept aside, with the reason, on every side.
    kept_server = {(k["record_id"], k["value"]) for k in fields.kept_values(server.engine)}
    for d in (a, b):
        kept_here = {(k["record_id"], k["value"]) for k in local_kept(d.store.conn)}
        assert kept_here == kept_server
        assert all(k["reason"] and k["to_type"] == "date" for k in local_kept(d.store.conn))
    assert (ids[2], "待定，等客户回复") in kept_server
    by_name = {r["id"]: r["name"] for r in a.repo("account").iter_all()}
    for rid in ids:
        i = int(by_name[rid][2:])
        value = on_a[rid]
        if rid in (ids[1], ids[2]):
            continue
        if i % BAD_EVERY == 0:
            assert value is None and (rid, original[rid]) in kept_server
        else:
            assert value == f"2026-03-{1 + i % 28:02d}", (original[rid], value)
    assert len(kept_server) == len(bad) + 1
    # A device that first syncs after the change holds the same.
    c = devices("ron2")
    c.login("ron")
    c.sync()
    assert values_of(c) == on_a
    assert {(k["record_id"], k["value"]) for k in local_kept(c.store.conn)} == kept_server


def test_the_cli_previews_changes_and_lists_what_was_kept(
        server: Server, devices: Any, capsys: Any, tmp_path: Any) -> None:
    from tests.fields.test_fields_sync import server_cmd

    server.user("ada", "admin")
    admin = devices("ada")
    admin.login("ada")
    assert server_cmd(capsys, server, tmp_path, "fields", "add", "deal", "budget",
                      "--type", "text")[0] == 0
    admin.sync()
    for text in ("12,000", "about 5k", "300"):
        admin.repo("deal").create({"title": f"商机 {text}", "cf_budget": text})
    admin.sync()
    code, preview = server_cmd(capsys, server, tmp_path, "fields", "preview-type-change", "deal",
                               "budget", "--to", "number")
    assert code == 0 and (preview["convert"], preview["unconvertible"]) == (2, 1)
    assert preview["examples_unconvertible"][0]["value"] == "about 5k"
    # A type is never changed by a pushed definition, even an admin's.
    [d] = admin.store.conn.execute("SELECT id FROM field_def").fetchall()
    admin.store.conn.execute("UPDATE field_def SET type = 'number' WHERE id = ?", (d[0],))
    admin.store.journal.append(admin.store.conn, "field_def", d[0], {"type": "number"},
                               {"type": admin.store.clock.now()})
    admin.store.conn.commit()
    assert admin.sync().parked == 1
    assert "changed on the server" in str(admin.store.journal.parked()[0].reason)
    code, done = server_cmd(capsys, server, tmp_path, "fields", "change-type", "deal", "budget",
                            "--to", "number")
    assert code == 0 and done["kept_aside"] == 1
    code, kept = server_cmd(capsys, server, tmp_path, "fields", "kept", "--name", "budget")
    assert [(k["value"], k["reason"]) for k in kept] == [("about 5k",
                                                          "'about 5k' is not a number")]
    admin.sync()
    assert sorted(r.get("cf_budget") or 0 for r in admin.repo("deal").iter_all()) == [0, 300,
                                                                                      12000]
