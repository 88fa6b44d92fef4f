"""Several connections and processes on one profile: first open, and the shared clock."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
from pathlib import Path

from desktop.store import Store


def _open_and_write(profile: str, n: int) -> None:
    with Store.open(Path(profile)) as s:
        s.repo("account").create({"name": f"并发 {n}"})


def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_open_and_write, args=(str(tmp_path), n)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    with Store.open(tmp_path) as s:
        assert sorted(r["name"] for r in s.repo("account").page()) == [
            f"并发 {n}" for n in range(4)]


def test_two_writes_of_one_field_in_one_transaction_get_ordered_stamps(tmp_path: Path) -> None:
    with Store.open(tmp_path) as s:
        rec = s.repo("account").create({"name": "A"})
        with s.write():
            s.repo("account").update(rec["id"], {"name": "B"})
            s.repo("account").update(rec["id"], {"name": "C"})
        entries = [e for e in s.journal.pending() if "name" in e.fields]
        stamps = [e.fields["name"]["hlc"] for e in entries]
        assert [e.fields["name"]["value"] for e in entries] == ["A", "B", "C"]
        assert stamps == sorted(stamps) and len(set(stamps)) == 3


def test_a_write_outranks_a_stamp_another_connection_saw(tmp_path: Path) -> None:
    with Store.open(tmp_path) as app, Store.open(tmp_path) as engine:
        rec = app.repo("account").create({"name": "A"})
        far = "9999999999999-0000-zz"  # the engine's connection observed a remote stamp
        with engine.write() as w:
            engine.clock.observe(far)
            w.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc_last', ?)",
                           (engine.clock.last,))
        app.repo("account").update(rec["id"], {"name": "B"})
        last = [e for e in app.journal.pending() if "name" in e.fields][-1]
        assert last.fields["name"]["hlc"] > far


def test_a_store_another_process_wrote_to_before_this_one_took_its_device_id_opens(
        tmp_path: Path) -> None:
    # The moment the race above can hit: this process read no device id, then another
    # process claimed one and wrote a record (its clock is on disk) before this one's claim.
    with Store.open(tmp_path) as first:
        first.repo("account").create({"name": "先到"})
        device = first.device_id
    conn = sqlite3.connect(tmp_path / "store.db")
    with conn:
        conn.execute("DELETE FROM meta WHERE key = 'device_id'")
    conn.close()
    with Store.open(tmp_path) as late:
        late.repo("account").create({"name": "后到"})
        assert late.device_id and late.device_id != device
        assert sorted(r["name"] for r in late.repo("account").page()) == ["先到", "后到"]
