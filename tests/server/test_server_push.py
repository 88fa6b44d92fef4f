"""Push: at most once, whole entries, validation, merge order, pull paging, tombstones."""

from __future__ import annotations

import random
import threading
from typing import Any

import hypothesis.strategies as st
import sqlalchemy as sa
from conftest import Api, Session, hlc, rid
from hypothesis import HealthCheck, given, settings

from server import tables as t
from server.merge import MAX_OVERWROTE, SERVER_STAMP, merge_fields


def _count(api: Api, table: sa.Table) -> int:
    with api.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_same_entry_twice_is_applied_once(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    acc = rid()
    e = s.entry("account", acc, {"name": "Once"})
    first = s.push(e)
    again = s.push(e, e)
    assert first["results"][0]["status"] == "applied"
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert again["results"][0]["original_status"] == "applied"
    assert again["version"] == first["version"] == 1
    # Same seq, different content (a client bug or replay): still the original outcome.
    changed = s.entry("account", acc, {"name": "Twice"}, seq=e["seq"])
    assert s.push(changed)["results"][0]["status"] == "duplicate"
    assert s.pull_all()[("account", acc)]["name"]["value"] == "Once"
    assert _count(api, t.processed) == 1


def test_rejected_entry_stays_rejected_on_retry(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    e = s.entry("deal", rid(), {"title": "D", "close_date": "next Tuesday"})
    r1 = s.push(e)["results"][0]
    r2 = s.push(e)["results"][0]
    assert r1["status"] == "rejected" and "not a date" in r1["reason"]
    assert (r2["status"] == "duplicate" and r2["original_status"] == "rejected"
            and r2["reason"] == r1["reason"])
    assert s.pull_all() == {}


def test_concurrent_duplicate_pushes_apply_once(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    entries = [s.entry("account", rid(), {"name": f"A{i}"}) for i in range(50)]
    results: list[dict[str, object]] = []

    def go() -> None:
        results.append(s.push(*entries))

    threads = [threading.Thread(target=go) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    statuses = sorted(r["status"] for res in results for r in res["results"])  # type: ignore[attr-defined]
    assert statuses.count("applied") == 50 and statuses.count("duplicate") == 150
    assert _count(api, t.records) == 50 and _count(api, t.processed) == 50
    assert s.pull()["server_version"] == 50


def test_entry_for_another_device_is_rejected_and_not_recorded(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    e = s.entry("account", rid(), {"name": "x"})
    e["device_id"] = "someone-else"
    r = s.push(e)["results"][0]
    assert r["status"] == "rejected" and "another device" in r["reason"]
    assert _count(api, t.processed) == 0


def test_validation_rejects_whole_entry_and_normalises_values(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    acc = rid()
    res = s.push(
        s.entry("account", acc, {"name": "  Trimmed  ", "uscc": "91350100M000100y"}),
        s.entry("account", acc, {"name": "Ok", "lifecycle": "vip"}),
        s.entry("account", rid(), {"name": "x", "no_such_field": 1}),
        s.entry("nonsense", rid(), {"name": "x"}),
        s.entry("deal", rid(), {"title": "D", "amount": "1,200.50", "close_date": "2026-12-01"}),
        {**s.entry("account", rid(), {"name": "bad clock"}),
         "fields": {"name": {"value": "x", "hlc": "yesterday"}}},
        s.entry("account", acc, {"name": ""}),
    )["results"]
    assert [r["status"] for r in res] == ["rejected", "rejected", "rejected", "rejected", "applied",
                                          "rejected", "rejected"]
    assert "credit code" in res[0]["reason"]
    assert "Lifecycle" in res[1]["reason"]
    assert "no_such_field" in res[2]["reason"]
    assert "Name is required" in res[6]["reason"]
    state = s.pull_all()
    assert len(state) == 1
    (deal,) = state.values()
    assert deal["amount"]["value"] == 1200.5 and deal["close_date"]["value"] == "2026-12-01"


def test_merge_by_hlc_reports_superseded_fields(api: Api) -> None:
    api.user("alice")
    laptop, phone = api.login("alice", "laptop"), api.login("alice", "phone")
    acc = rid()
    laptop.push(laptop.entry("account", acc, {"name": "A", "region": "north"},
                             stamp=hlc(2000, 0, "laptop")))
    r = phone.push(phone.entry("account", acc, {"name": "B", "industry": "IT"},
                               stamp=hlc(1000, 0, "phone")))
    assert r["results"][0]["status"] == "applied" and r["results"][0]["superseded"] == ["name"]
    fields = laptop.pull_all()[("account", acc)]
    assert fields["name"] == {"value": "A", "hlc": hlc(2000, 0, "laptop")}
    assert fields["industry"]["value"] == "IT"
    # Tie on wall clock and counter: the device id breaks it the same way everywhere.
    phone.push(phone.entry("account", acc, {"region": "south"}, stamp=hlc(2000, 0, "phone")))
    assert laptop.pull_all()[("account", acc)]["region"]["value"] == "south"


def test_tombstones_travel_and_lose_to_newer_edits(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    acc = rid()
    s.push(s.entry("account", acc, {"name": "Gone"}, stamp=hlc(1000)))
    s.push(s.entry("account", acc, {"deleted": True}, stamp=hlc(3000)))
    cursor_after_delete = s.pull()["cursor"]
    fields = s.pull_all()[("account", acc)]
    assert fields["deleted"] == {"value": True, "hlc": hlc(3000)}
    # A concurrent older edit does not resurrect it; a newer restore does.
    s.push(s.entry("account", acc, {"deleted": False}, stamp=hlc(2000)))
    assert s.pull(cursor_after_delete)["changes"] == []
    s.push(s.entry("account", acc, {"deleted": False}, stamp=hlc(4000)))
    changes = s.pull(cursor_after_delete)["changes"]
    assert [c["fields"]["deleted"]["value"] for c in changes] == [False]


def test_pull_pages_by_version_and_cursor(api: Api) -> None:
    api.user("alice", teams=("north",))
    api.user("bob", teams=("south",))
    alice, bob = api.login("alice"), api.login("bob")
    mine = [rid() for _ in range(7)]
    for i, rec in enumerate(mine):
        alice.push(alice.entry("account", rec, {"name": f"A{i}"}))
        bob.push(bob.entry("account", rid(), {"name": f"B{i}"}))  # invisible to alice
    alice.push(alice.entry("account", mine[0], {"region": "east"}))  # moves to the end
    seen: list[str] = []
    versions: list[int] = []
    cursor = 0
    first = alice.pull(0, limit=3)
    assert first["total_estimate"] == 7 and first["server_version"] == 15
    while True:
        page = alice.pull(cursor, limit=3)
        seen += [c["record_id"] for c in page["changes"]]
        versions += [c["version"] for c in page["changes"]]
        assert len(page["changes"]) <= 3
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert seen == [*mine[1:], mine[0]]
    assert versions == sorted(versions)
    # Invisible changes never hold the cursor back.
    assert cursor == 15
    bob.push(bob.entry("account", rid(), {"name": "later"}))
    page = alice.pull(cursor)
    assert page["changes"] == [] and page["cursor"] == 16


def test_batch_is_one_transaction_with_consecutive_versions(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    res = s.push(*[s.entry("contact", rid(), {"name": f"C{i}", "phones": ["13800138000"]})
                   for i in range(300)])
    assert {r["status"] for r in res["results"]} == {"applied"} and res["version"] == 300
    got = s.pull(0, limit=1000)["changes"]
    assert [c["version"] for c in got] == list(range(1, 301))
    assert got[0]["fields"]["phones"]["value"] == ["+8613800138000"]


_writes = st.lists(
    st.tuples(st.sampled_from(["name", "region", "industry", "deleted"]),
              st.integers(1, 5), st.integers(0, 2), st.sampled_from(["d1", "d2", "d3"])),
    min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(_writes, st.randoms(use_true_random=False))
def test_merge_is_order_independent(writes: list[tuple[str, int, int, str]],
                                    rnd: random.Random) -> None:
    entries = [(f, (f"v{ms}{c}{d}" if f != "deleted" else bool(ms % 2)), hlc(ms, c, d))
               for f, ms, c, d in writes]

    def run(order: list[tuple[str, Any, str]]) -> dict[str, tuple[Any, Any]]:
        state: dict[str, dict[str, object]] = {}
        for f, v, stamp in order:
            state, _changed, _sup = merge_fields(state, {f: (v, stamp, None)})
        # which write a winner overwrote depends on arrival order; the values may not
        return {f: (w["value"], w["hlc"]) for f, w in state.items()}

    # The value is a function of (field, stamp): one stamp names one write.
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    assert run(entries) == run(sorted(entries, key=lambda x: x[2])) == run(shuffled)


def test_a_winning_write_that_never_saw_the_stored_value_records_what_it_overwrote() -> None:
    stored = {"industry": {"value": "软件", "hlc": hlc(10, 0, "a")}}
    # b edited after seeing a's value: a plain edit
    seen, changed, lost = merge_fields(stored,
                                       {"industry": ("制造业", hlc(20, 0, "b"), hlc(10, 0, "a"))})
    assert changed and not lost and seen["industry"] == {"value": "制造业", "hlc": hlc(20, 0, "b")}
    # b edited without having seen a's value: a's edit lost to a concurrent one
    blind, _, _ = merge_fields(stored, {"industry": ("制造业", hlc(20, 0, "b"), hlc(5, 0, "c"))})
    assert blind["industry"]["overwrote"] == [hlc(10, 0, "a")]
    # the same value written blind is no loss; nor is replacing what the server filled in
    same, _, _ = merge_fields(stored, {"industry": ("软件", hlc(20, 0, "b"), None)})
    assert "overwrote" not in same["industry"]
    filled = {"owner": {"value": "alice", "hlc": SERVER_STAMP}}
    mine, _, _ = merge_fields(filled, {"owner": ("bob", hlc(20, 0, "b"), None)})
    assert "overwrote" not in mine["owner"]


def test_a_lost_write_stays_named_until_its_device_can_have_pulled() -> None:
    """a's write lost to b's blind one; until a pulls, later writes must not erase that."""
    stored = {"industry": {"value": "软件", "hlc": hlc(10, 0, "a")}}
    blind, _, _ = merge_fields(stored, {"industry": ("制造业", hlc(20, 0, "b"), None)})
    # c edits after seeing b's value: a plain edit, and a's loss is still on record
    later, _, _ = merge_fields(blind, {"industry": ("能源", hlc(30, 0, "c"), hlc(20, 0, "b"))})
    assert later["industry"]["overwrote"] == [hlc(10, 0, "a")]
    # d overwrites c blind: both losses, newest first
    both, _, _ = merge_fields(later, {"industry": ("化工", hlc(40, 0, "d"), hlc(10, 0, "a"))})
    assert both["industry"]["overwrote"] == [hlc(30, 0, "c"), hlc(10, 0, "a")]
    # the list is bounded; a marker stored as text by an older server is read too
    chain: dict[str, dict[str, Any]] = {"industry": {"value": "x", "hlc": hlc(1, 0, "z"),
                                                     "overwrote": hlc(0, 0, "y")}}
    for k in range(2, 20):
        chain, _, _ = merge_fields(chain, {"industry": (f"v{k}", hlc(k, 0, f"d{k}"), None)})
    assert len(chain["industry"]["overwrote"]) == MAX_OVERWROTE
    assert chain["industry"]["overwrote"][0] == hlc(18, 0, "d18")


_perm_state: dict[int, Any] = {}


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.permutations(list(range(6))))
def test_server_state_is_order_independent(api: Api, order: list[int]) -> None:
    """The same six entries from three devices, pushed in any order, give one state.
    (Hypothesis reuses the fixture across examples: each example uses a new record.)"""
    state = _perm_state.setdefault(id(api), {"results": []})
    if "sessions" not in state:
        api.user("alice")
        state["sessions"] = [api.login("alice", f"d{i}") for i in range(3)]
    sessions: list[Session] = state["sessions"]
    results: list[dict[str, Any]] = state["results"]
    plan = [(0, {"name": "A", "region": "n"}, hlc(10, 0, "d0")),
            (1, {"name": "B"}, hlc(12, 0, "d1")),
            (2, {"region": "s", "industry": "IT"}, hlc(11, 0, "d2")),
            (0, {"deleted": True}, hlc(13, 0, "d0")),
            (1, {"deleted": False}, hlc(13, 0, "d1")), (2, {"name": "C"}, hlc(9, 0, "d2"))]
    rec = rid(900_000 + len(results))
    for i in order:
        dev, fields, stamp = plan[i]
        s = sessions[dev]
        s.push(s.entry("account", rec, fields, stamp=stamp))
    # which stamp a winner overwrote depends on arrival order; values and stamps may not
    results.append({f: (w["value"], w["hlc"])
                    for f, w in sessions[0].pull_all()[("account", rec)].items()})
    assert results[-1] == results[0]
    assert results[0]["name"][0] == "B" and results[0]["deleted"][0] is False


def test_hostile_input_gets_4xx_or_rejections_never_5xx(api: Api) -> None:
    api.user("alice")
    s = api.login("alice")
    c = api.client
    r = c.post("/v1/auth/login", json={"username": "al\x00ice", "password": "x", "device_id": "d"})
    assert r.status_code == 401
    r = c.post("/v1/auth/login",
               json={"username": "alice", "password": "x\x00", "device_id": "d\x00"})
    assert r.status_code == 422
    r = c.post("/v1/auth/login", json={"username": "alice", "password": "correct horse",
                                        "device_id": "d2", "device_name": "nul\x00name"})
    assert r.status_code == 200
    r = c.post("/v1/auth/refresh", json={"refresh_token": "\x00", "device_id": "\x00"})
    assert r.status_code == 401
    bad = [
        {**s.entry("account", "id\x00", {"name": "x"})},
        {**s.entry("account", rid(), {"name": "x"}), "seq": 2**70},
        {**s.entry("account", rid(), {"name": "x"}), "entity": "acc\x00"},
        {**s.entry("account", rid(), {}), "fields": {"na\x00me": {"value": 1, "hlc": hlc(1)}}},
    ]
    res = s.push(*bad)["results"]
    assert [r["status"] for r in res] == ["rejected"] * 4
    ok = s.push(s.entry("account", rid(), {"name": "nul \x00 inside", "tags": ["a\x00"]})
                )["results"][0]
    assert ok["status"] == "applied"
    assert c.get("/v1/pull", params={"cursor": 2**70}, headers=s.headers).status_code == 422
    r = c.put("/v1/blobs/" + "a" * 64, content=b"x",
              headers={**s.headers, "Content-Range": "bytes 0-0/99999999999999"})
    assert r.status_code == 413


def test_only_an_admin_writes_the_follow_up_rule_and_only_a_list_of_criteria(api: Api) -> None:
    """The follow-up rule (desktop.followup.rule) is a rule an admin sets: anyone else's
    entry is rejected, and criteria that are not a JSON list of named objects too."""
    api.user("root", "admin")
    api.user("alice")
    api.user("mgr", "manager")
    good = '[{"name": "call_30s", "kind": "call", "min_duration_s": 30}]'
    for user in ("alice", "mgr"):
        s = api.login(user)
        r = s.push(s.entry("followup_rule", rid(), {"criteria": good, "active": True}))
        assert r["results"][0] == {**r["results"][0], "status": "rejected",
                                   "reason": "Only an admin may change follow-up rules."}
    admin = api.login("root")
    bad = admin.push(admin.entry("followup_rule", rid(), {"criteria": '{"name": "x"}'}))
    assert bad["results"][0]["status"] == "rejected"
    assert "JSON list of objects" in bad["results"][0]["reason"]
    rule = rid()
    ok = admin.push(admin.entry("followup_rule", rule, {"criteria": good,
                                                        "required_criteria": 1,
                                                        "golden_hours": 24.0, "active": True}))
    assert ok["results"][0]["status"] == "applied"
    assert api.login("alice").pull_all()[("followup_rule", rule)]["golden_hours"]["value"] == 24
