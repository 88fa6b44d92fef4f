"""The import's check of a row against the file's earlier new rows (FileRows) finds a
row alike exactly when `compare` finds it alike to one of the earlier new rows that
share a key with it (each key's latest PER_KEY of the last RECENT), whatever the
threshold, the chunks and the windows: its per-key filter only leaves out pairs that
`compare` cannot find alike."""

from __future__ import annotations

import random
from typing import Any

import pytest

from desktop.dedupe.index import keys_of
from desktop.dedupe.match import compare, probe
from desktop.demo import DemoData
from desktop.exchange.file_rows import FileRows
from tests.dedupe.eval_set import CN_CITIES, cases

_LEGAL = ("有限公司", "有限责任公司", "股份有限公司", "集团有限公司")
# brands of a few characters with a leading city and no 市: their second reading keeps
# the city, so they meet only by that reading's edge keys (成都祥 ...)
_SHORT = ("祥通盈", "祥通赢", "祥通盈通", "宏达", "宏大", "鸿达", "华信通", "华兴通", "嘉禾",
          "佳禾", "佳和", "博远达", "博远大")


def _names(rng: random.Random) -> list[dict[str, Any]]:
    """Rows of the kinds an import meets: the demo book's names, the same names with
    digits after them (the benchmark's new rows), written another way (the city in
    brackets, another legal form), short brands behind a city, homophone typos, the
    evaluation set's variants and look-alikes (Chinese and English, phones, codes)."""
    rows: list[dict[str, Any]] = []
    demo = DemoData(seed=rng.randrange(1000)).accounts(700)
    for rec in demo:
        name = rec["name"]
        pick = rng.random()
        if pick < 0.3:
            name = f"{name}{rng.randrange(1000)}"
        elif pick < 0.5:
            for form in _LEGAL:
                if name.endswith(form) and len(name) > len(form) + 4:
                    stem = name[: -len(form)]
                    name = f"{stem[2:]}（{stem[:2]}）{rng.choice(_LEGAL)}"
                    break
        rows.append({"name": name, "phone": rec["phone"] if rng.random() < 0.3 else None,
                     "uscc": rec.get("uscc") if rng.random() < 0.3 else None})
    for _ in range(400):
        rows.append({"name": f"{rng.choice(CN_CITIES)}{rng.choice(_SHORT)}{rng.choice(_LEGAL)}"})
    for case in cases(n=6, seed=rng.randrange(1000)):
        if case.entity == "account":
            rows.extend([case.a, case.b])
    rng.shuffle(rows)
    return rows


def _reference(rows: list[tuple[Any, set[str]]], threshold: float, per_key: int,
               recent: int) -> list[bool]:
    """Row by row, the rule itself: compared with every earlier new row in the window
    of any key it has."""
    kept: list[tuple[int, Any, set[str]]] = []  # the last `recent` new rows
    out = []
    for seq, (me, keys) in enumerate(rows):
        window: set[int] = set()
        for k in keys:
            sharers = [s for s, _, ks in kept if k in ks]
            window.update(sharers[-per_key:])
        alike = any(compare(me, p, threshold) for s, p, _ in kept if s in window)
        if not alike:
            kept.append((seq, me, keys))
            del kept[:-recent]
        out.append(alike)
    return out


@pytest.mark.parametrize(("threshold", "per_key", "recent", "seed"), [
    (92.0, 200, 20_000, 1), (85.0, 200, 20_000, 2), (95.5, 200, 20_000, 3),
    (80.0, 200, 20_000, 4), (92.0, 3, 150, 5), (88.0, 2, 60, 6)])
def test_alike_exactly_when_compare_finds_an_earlier_new_row_alike(
        threshold: float, per_key: int, recent: int, seed: int) -> None:
    rng = random.Random(seed)
    rows = []
    for values in _names(rng):
        me = probe("account", values)
        rows.append((me, keys_of(me)))
    expected = _reference(rows, threshold, per_key, recent)
    checker = FileRows(threshold, recent=recent, per_key=per_key)
    got: list[bool] = []
    start = 0
    while start < len(rows):  # chunks of any size, as the import's and the tests' are
        size = rng.choice((1, 7, 50, 333))
        got.extend(checker.check(rows[start:start + size]))
        start += size
    misses = [rows[i][0].name for i, (a, b) in enumerate(zip(got, expected, strict=True))
              if a != b]
    assert not misses, misses[:10]
    print(f"threshold {threshold}: {sum(expected)} of {len(rows)} rows alike to an earlier one")
    assert sum(expected) > 40  # the set has real duplicates at every threshold
