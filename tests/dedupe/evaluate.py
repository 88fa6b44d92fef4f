"""Recall and false alarms of the duplicate check on the generated set (eval_set),
through the real path: every case's first record is saved in one store, and the second
is checked against the whole book (index lookup, then scoring), as the record dialog
and `fieldcrm duplicates check` do.

    python -m tests.dedupe.evaluate [--n 40] [--seed 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from desktop.dedupe.service import check
from desktop.store import Store
from tests.dedupe.eval_set import Case, cases

TARGET_RECALL = 0.95
TARGET_FALSE_ALARMS = 0.05


def evaluate(store: Store, items: list[Case]) -> dict[str, Any]:
    ids = []
    for entity in ("account", "contact"):
        mine = [c for c in items if c.entity == entity]
        store.repo(entity).import_many([c.a for c in mine])
        ids += [r[0] for r in store.conn.execute(
            f'SELECT id FROM "{entity}" ORDER BY rid')][-len(mine):]
    by_case = dict(zip([id(c) for c in items if c.entity == "account"]
                       + [id(c) for c in items if c.entity == "contact"], ids, strict=True))
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: list[dict[str, Any]] = []
    for c in items:
        found = {cand.id for cand in check(store, c.entity, c.b, limit=10_000)}
        flagged = by_case[id(c)] in found
        per_kind[c.kind][0] += 1
        per_kind[c.kind][1] += flagged
        if flagged != c.same:
            misses.append({"kind": c.kind, "a": c.a, "b": c.b})
    pos = [v for k, v in per_kind.items() if _same(items, k)]
    neg = [v for k, v in per_kind.items() if not _same(items, k)]
    recall = sum(v[1] for v in pos) / max(1, sum(v[0] for v in pos))
    false_alarms = sum(v[1] for v in neg) / max(1, sum(v[0] for v in neg))
    return {"recall": recall, "false_alarm_rate": false_alarms,
            "positives": sum(v[0] for v in pos), "negatives": sum(v[0] for v in neg),
            "kinds": {k: {"same": _same(items, k), "cases": v[0], "flagged": v[1]}
                      for k, v in sorted(per_kind.items())},
            "wrong": misses}


def evaluate_scan(store: Store, items: list[Case]) -> dict[str, float]:
    """The same set through `duplicates list`: both records of every case in one book,
    one scan per entity; a case is flagged when its two records come out as a pair."""
    from desktop.dedupe.service import scan

    flagged: dict[int, bool] = {}
    for entity in ("account", "contact"):
        mine = [c for c in items if c.entity == entity]
        store.repo(entity).import_many([r for c in mine for r in (c.a, c.b)])
        ids = [r[0] for r in store.conn.execute(f'SELECT id FROM "{entity}" ORDER BY rid')]
        pairs = {frozenset((p.a, p.b)) for p in scan(store, entity).pairs}
        for i, c in enumerate(mine):
            flagged[id(c)] = frozenset((ids[2 * i], ids[2 * i + 1])) in pairs
    pos = [flagged[id(c)] for c in items if c.same]
    neg = [flagged[id(c)] for c in items if not c.same]
    return {"recall": sum(pos) / max(1, len(pos)), "false_alarm_rate": sum(neg) / max(1, len(neg))}


def _same(items: list[Case], kind: str) -> bool:
    return next(c.same for c in items if c.kind == kind)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=40, help="cases of each kind")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp)) as store:
        result = evaluate(store, cases(args.n, args.seed))
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp)) as store:
        result["scan"] = evaluate_scan(store, cases(args.n, args.seed))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    for kind, v in result["kinds"].items():
        rate = v["flagged"] / v["cases"]
        print(f"{kind:<36} {'same' if v['same'] else 'different':<9} "
              f"{v['cases']:>4} flagged {rate:6.1%}")
    for w in result["wrong"][:30]:
        print("wrong:", w["kind"], w["a"], "|", w["b"])
    print(f"recall {result['recall']:.3f} (target >= {TARGET_RECALL}), false alarms "
          f"{result['false_alarm_rate']:.3f} (target <= {TARGET_FALSE_ALARMS}); "
          f"{result['positives']} same-customer pairs, {result['negatives']} hard negatives")
    print(f"whole-book scan: recall {result['scan']['recall']:.3f}, false alarms "
          f"{result['scan']['false_alarm_rate']:.3f}")


if __name__ == "__main__":
    main()
