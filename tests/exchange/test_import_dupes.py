"""The import's duplicate check, done per chunk (keys and brands read in one go, sets of
candidates, a prefilter on brands), finds exactly what the matcher finds row by row
(`dedupe.service.check`), on a book with planted duplicates: Chinese names written
another way, homophone typos (pinyin keys), phones in other formats, credit codes."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from desktop.dedupe import index, rules
from desktop.dedupe.service import check
from desktop.exchange.importer import _Importer, run_import
from desktop.exchange.mapping import auto_mapping, check_mapping
from desktop.exchange.readers import Sheet
from desktop.schema import ENTITIES
from tests.dedupe.eval_set import cases

HEADER = ["名称", "电话", "统一社会信用代码"]


def _row(values: dict[str, Any]) -> list[str]:
    return [values.get("name") or "", values.get("phone") or "", values.get("uscc") or ""]


def planted_book(store: Any, tmp_path: Path) -> tuple[list[Any], Path]:
    """The planted cases' first records in the book (keyed), and a file of their second
    records: Chinese names written another way, homophone typos, phones in other
    formats, credit codes, and records that only look alike."""
    planted = [c for c in cases(n=10, seed=16) if c.entity == "account"]
    book = list({tuple(_row(c.a)): c.a for c in planted}.values())
    store.repo("account").import_many(book)
    index.refresh(store)
    path = tmp_path / "rows.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *(_row(c.b) for c in planted)])
    return planted, path


def test_chunked_check_finds_what_the_matcher_finds_row_by_row(store: Any,
                                                               tmp_path: Path) -> None:
    planted, path = planted_book(store, tmp_path)
    ent = ENTITIES["account"]
    sheet = Sheet(path, None)
    imp = _Importer(store, sheet, ent, check_mapping(ent, sheet.header, auto_mapping(
        ent, sheet.header)), "skip", dry_run=True)
    fast = imp.resolve([imp.check(cells) for _, cells in sheet.rows()])
    imp.matcher.close()
    threshold = rules.rule_for(store, "account").threshold
    assert len(fast) == len(planted) > 300
    found = 0
    true_positives = 0
    for case, row in zip(planted, fast, strict=True):
        assert row.kind != "invalid", (case, row.reason)
        slow = check(store, "account", row.clean, threshold=threshold, limit=1, refresh_limit=0)
        in_book = row.existing if row.kind == "duplicate" else None
        assert in_book == (slow[0].id if slow else None), (case.kind, case.b)
        if in_book:
            assert row.candidate["reasons"] == list(slow[0].reasons)
            assert row.candidate["score"] == slow[0].score
        found += in_book is not None
        true_positives += in_book is not None and case.same
    same = sum(c.same for c in planted)
    precision, recall = true_positives / max(found, 1), true_positives / same
    print(f"planted {same} duplicates in {len(planted)} rows: the chunked check found "
          f"{found}, precision {precision:.3f}, recall {recall:.3f} (as the matcher row by row)")
    assert recall > 0.9 and precision > 0.8

    dry = run_import(store, path, "account", dry_run=True)
    real = run_import(store, path, "account")
    assert (dry.created, dry.skipped_duplicates, dry.invalid) == (
        real.created, real.skipped_duplicates, real.invalid)
    assert dry.skipped_duplicates == sum(r.kind == "duplicate" for r in fast)


def test_chunks_and_forgotten_caches_change_no_decision(store: Any, tmp_path: Path,
                                                         monkeypatch: Any) -> None:
    """What the matcher keeps across chunks (the records of a key, brands read, the
    prefilter's lists per edge key) is forgotten when its caches fill: chunks of 37 rows
    with caches that overflow every few chunks find what the check of every row at once
    finds (compared with `dedupe.service.check` above), row by row."""
    from desktop.exchange import dupes

    planted, path = planted_book(store, tmp_path)
    ent = ENTITIES["account"]
    sheet = Sheet(path, None)
    mapping = check_mapping(ent, sheet.header, auto_mapping(ent, sheet.header))

    def decisions() -> list[tuple[str, Any, Any]]:
        imp = _Importer(store, sheet, ent, mapping, "skip", dry_run=True)
        rows = [imp.check(cells) for _, cells in sheet.rows()]
        out = []
        for start in range(0, len(rows), 37):
            out.extend(imp.resolve(rows[start:start + 37]))
        imp.matcher.close()
        return [(r.kind, r.existing, r.candidate) for r in out]

    whole = _Importer(store, sheet, ent, mapping, "skip", dry_run=True)
    once = [(r.kind, r.existing, r.candidate)
            for r in whole.resolve([whole.check(cells) for _, cells in sheet.rows()])]
    whole.matcher.close()
    assert decisions() == once
    monkeypatch.setattr(dupes, "CACHE_KEYS", 400)
    monkeypatch.setattr(dupes, "CACHE_DOCS", 100)
    assert decisions() == once
    assert sum(kind == "duplicate" for kind, _, _ in once) > 100


def test_rows_of_one_file_are_compared_as_compare_does(store: Any, tmp_path: Path) -> None:
    """Within one file (the book empty): a row is a duplicate exactly when `compare`
    finds it alike to an earlier new row sharing a key; the ratio prefilter on the
    brands leaves none out."""
    from desktop.dedupe.index import keys_of
    from desktop.dedupe.match import compare, probe

    planted = [c for c in cases(n=10, seed=17) if c.entity == "account"]
    rows = [_row(v) for c in planted for v in (c.a, c.b)]
    path = tmp_path / "rows.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    ent = ENTITIES["account"]
    sheet = Sheet(path, None)
    imp = _Importer(store, sheet, ent, check_mapping(ent, sheet.header, auto_mapping(
        ent, sheet.header)), "skip", dry_run=True)
    got = imp.resolve([imp.check(cells) for _, cells in sheet.rows()])
    imp.matcher.close()
    threshold = rules.rule_for(store, "account").threshold
    earlier: list[tuple[Any, set[str]]] = []
    for row in got:
        me = probe("account", row.clean)
        keys = keys_of(me)
        alike = any(keys & k and compare(me, p, threshold) for p, k in earlier)
        assert (row.kind == "duplicate") == alike, row.clean
        if not alike:
            earlier.append((me, keys))
    print(f"{len(rows)} rows, {len(rows) - len(earlier)} duplicates of earlier rows")
    assert len(earlier) < len(rows) - 100
