"""Custom fields in the local store: adding one rewrites no row, an admin's edits are
checked on the device first, retiring keeps values, a reopened store still has them."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.schema import ENTITIES, FieldDefError, reset_field_defs
from desktop.store import Store
from desktop.store.fielddefs import add_definition, definitions, set_retired, update_definition


def wal_frames(store: Store) -> int:
    return int(store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])


def test_adding_a_field_rewrites_no_row(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "p")
    store.repo("account").import_many({"name": f"客户{i}", "region": "华东"} for i in range(20000))
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = int(store.conn.execute("PRAGMA page_count").fetchone()[0])
    assert pages > 200
    before = store.conn.total_changes
    add_definition(store, {"entity": "account", "name": "lead source detail", "type": "text",
                           "label_zh": "客户来源细分"})
    # One definition row and its journal entry: a handful of pages, never the table's.
    assert wal_frames(store) < 20
    # The rows written: the definition, its journal entry, the clock and the type in meta.
    assert store.conn.total_changes - before <= 4
    rec = store.repo("account").find(name="客户7")[0]
    assert rec["cf_lead_source_detail"] is None
    store.repo("account").update(rec["id"], {"cf_lead_source_detail": "展会-上海"})
    store.close()
    reset_field_defs()  # a new process: the definitions come from the store file
    with Store.open(tmp_path / "p") as again:
        assert ENTITIES["account"].field("cf_lead_source_detail").label("zh") == "客户来源细分"
        assert again.repo("account").get(rec["id"])["cf_lead_source_detail"] == "展会-上海"


def test_an_admins_edits_are_checked_on_the_device(store: Store) -> None:
    made = add_definition(store, {"entity": "deal", "name": "cf_tier", "type": "choice",
                                  "choices": ["A", "B"], "label_en": "Tier"})
    with pytest.raises(FieldDefError, match="already has a field named 'cf_tier'"):
        add_definition(store, {"entity": "deal", "name": "Tier", "type": "text"})
    with pytest.raises(FieldDefError, match="reserved name"):
        add_definition(store, {"entity": "deal", "name": "title", "type": "text"})
    with pytest.raises(FieldDefError, match="repeat a value"):
        add_definition(store, {"entity": "deal", "name": "x", "type": "choice",
                               "choices": ["a", "a"]})
    with pytest.raises(FieldDefError, match="Choice 'B' may be in use"):
        update_definition(store, made["id"], {"choices": ["A"]})
    update_definition(store, made["id"], {"choices": ["A", "B", "C"], "label_zh": "等级"})
    deal = store.repo("deal").create({"title": "年框", "cf_tier": "C"})
    set_retired(store, made["id"], True)
    assert ENTITIES["deal"].field("cf_tier").retired
    assert store.repo("deal").get(deal["id"])["cf_tier"] == "C"  # kept
    set_retired(store, made["id"], False)
    assert not ENTITIES["deal"].field("cf_tier").retired
    [held] = definitions(store.conn)
    assert (held["label_zh"], held["choices"]) == ("等级", ["A", "B", "C"])
    # Every edit is journaled: it goes to the server like any write.
    assert {e.entity for e in store.journal.pending()} == {"field_def", "deal"}
