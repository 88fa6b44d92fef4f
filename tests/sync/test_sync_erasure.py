"""A person can be forgotten (PIPL / GDPR): after `person erase` and a sync of three
devices and the server, the person's name and phone are found in no file of any profile
or of the server's data folder; amounts and dates stay; a device that later writes the
old name back is refused; `person export` writes everything held about the person."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from desktop.cli import main as fieldcrm
from desktop.store import indexer
from desktop.store.erasure import ERASED, erase_person, export_person
from tests.sync.conftest import Server

NAME = "欧阳娜娜"
PHONE = "13987654321"
EMAIL = "nana.ouyang@example.cn"


def _files_with(folders: list[Path], needles: list[bytes]) -> list[str]:
    found = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                found += [f"{path}: {n!r}" for n in needles if n in data]
    return found


def test_an_erased_person_is_gone_from_every_device_and_the_server(
        server: Server, devices: Any, tmp_path: Path) -> None:
    server.user("li")
    server.user("boss", role="admin")
    li, li2, boss = devices("li"), devices("li2"), devices("boss")
    li.login("li")
    li2.login("li")
    boss.login("boss")
    acc = li.repo("account").create({"name": "远景贸易"})
    person = li.repo("contact").create({"name": NAME, "phones": [PHONE], "email": EMAIL,
                                        "account_id": acc["id"]})
    voice = li.store.blobs.put_bytes(f"语音备忘：{NAME} {PHONE}".encode())
    call = li.repo("activity").create({
        "kind": "call", "subject": f"给{NAME}打电话", "body": f"{NAME} {PHONE} 想要报价",
        "contact_id": person["id"], "account_id": acc["id"], "duration_s": 125,
        "attachments": [voice],
        "due_at": "2026-12-01T09:00:00Z"})
    deal = li.repo("deal").create({"title": "年度采购", "account_id": acc["id"],
                                   "amount": 88000, "currency": "CNY"})
    for d in (li, li2, boss, li):
        d.sync()
    assert boss.repo("contact").get(person["id"])["name"] == NAME
    assert boss.store.blobs.has(voice) and li2.store.blobs.has(voice)
    assert (tmp_path / "srv" / "blobs" / voice[:2] / voice[2:]).exists()
    # li2 has an edit of the person's title not yet pushed when the erasure happens.
    li2.repo("contact").update(person["id"], {"title": f"{NAME}的新职务"})

    out = tmp_path / "export.json"
    assert fieldcrm(["--profile", str(boss.profile), "person", "export", person["id"],
                     "--out", str(out), "--json"]) == 0
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["contacts"][0]["phones"] == [f"+86{PHONE}"]
    assert [a["id"] for a in exported["activities"]] == [call["id"]]
    out.unlink()
    boss.close()

    assert fieldcrm(["--profile", str(boss.profile), "person", "erase", person["id"],
                     "--json"]) == 0
    for d in (boss, li, li2, li, boss, li2):
        d.sync()
    for d in (li, li2, boss):
        c = d.repo("contact").get(person["id"])
        assert (c["name"], c["phones"], c["email"]) == (ERASED, None, None)
        a = d.repo("activity").get(call["id"])
        assert (a["subject"], a["body"], a["duration_s"]) == (ERASED, None, 125)
        assert d.repo("deal").get(deal["id"])["amount"] == 88000
        assert d.store.search(NAME) == []
        assert d.store.journal.parked() == [] or all(
            NAME not in json.dumps(e.fields, ensure_ascii=False) for e in d.store.journal.parked())
    for d in (li, li2, boss):
        d.close()
    indexer.close_workers()  # their connections would keep each store's WAL
    needles = [NAME.encode(), PHONE.encode(), EMAIL.encode()]
    assert _files_with([li.profile, li2.profile, boss.profile], needles) == []
    with server.engine.connect() as conn:
        rows = [r[0] for r in conn.execute(sa.text("SELECT fields FROM records"))]
    assert not [r for r in rows if NAME in r or PHONE in r or EMAIL in r]
    if server.backend == "sqlite":
        server.engine.dispose()  # the last connection folds the WAL into the file
    assert _files_with([tmp_path / "srv"], needles) == []  # database (SQLite), blobs, logs
    assert not (tmp_path / "srv" / "blobs" / voice[:2] / voice[2:]).exists()
    # A device writing the old name back later is refused by the server, for good.
    li.repo("contact").update(person["id"], {"name": NAME})
    report = li.sync()
    assert report.parked == 1
    assert "erased" in (li.store.journal.parked()[0].reason or "")
    boss.sync()
    assert boss.repo("contact").get(person["id"])["name"] == ERASED


def test_export_and_erase_on_one_device(store: Any) -> None:
    person = store.repo("contact").create({"name": NAME, "phones": [PHONE]})
    merged = store.repo("contact").create({"name": NAME + "2", "email": EMAIL})
    store.repo("contact").update(merged["id"], {"merged_into": person["id"]})
    data = export_person(store, person["id"])
    assert {c["id"] for c in data["contacts"]} == {person["id"], merged["id"]}
    summary = erase_person(store, person["id"], by="boss")
    assert summary["contacts"] == 2
    assert store.repo("contact").get(merged["id"])["email"] is None
    assert store.repo("erasure").get(person["id"])["erased_by"] == "boss"
    assert export_person(store, person["id"])["erased"] is True


def test_consent_is_kept_with_the_contact_and_synced(server: Server, devices: Any) -> None:
    server.user("li")
    a, b = devices("a"), devices("b")
    a.login("li")
    b.login("li")
    c = a.repo("contact").create({"name": "王芳", "consent_source": "展会名片 trade fair card",
                                  "consent_date": "2026-11-20", "consent_scope": "电话、微信联系"})
    a.sync()
    b.sync()
    got = b.repo("contact").get(c["id"])
    assert (got["consent_source"], got["consent_date"], got["consent_scope"]) == (
        "展会名片 trade fair card", "2026-11-20", "电话、微信联系")


def test_an_erased_lead_is_gone_from_the_devices_and_the_server(
        server: Server, devices: Any, tmp_path: Path) -> None:
    from desktop.leads import service
    from server import leads

    server.user("bo", "rep", ("north",))
    server.user("boss", role="admin")
    leads.load_rules(server.engine, {"rules": [
        {"name": "north", "regions": ["north"], "reps": ["bo"]}],
        "reps": [{"username": "bo", "weight": 1}]})
    bo, boss = devices("bo"), devices("boss")
    bo.login("bo")
    boss.login("boss")
    lead = service.add(boss.store, {"name": NAME, "phone": PHONE, "email": EMAIL,
                                    "region": "north", "source": "fair", "budget": 50000})
    for d in (boss, bo, boss):
        d.sync()
    assert bo.repo("lead").get(lead["id"])["name"] == NAME
    boss.close()
    assert fieldcrm(["--profile", str(boss.profile), "person", "erase", lead["id"],
                     "--json"]) == 0
    for d in (boss, bo):
        d.sync()
    for d in (bo, boss):
        got = d.repo("lead").get(lead["id"])
        assert (got["name"], got["phone"], got["email"], got["budget"]) == (
            ERASED, None, None, 50000)
        d.close()
    indexer.close_workers()
    needles = [NAME.encode(), PHONE.encode(), EMAIL.encode()]
    assert _files_with([bo.profile, boss.profile], needles) == []
    with server.engine.connect() as conn:
        rows = [r[0] for r in conn.execute(sa.text("SELECT fields FROM records"))]
    assert not [r for r in rows if NAME in r or PHONE in r]
