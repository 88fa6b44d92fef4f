"""How often the note parser gets the amount right on generated notes (amount_cases),
through the real path (`parse_note`, as `fieldcrm capture note` and the voice window).

    python -m tests.capture.evaluate_amounts [--n 40] [--seed 20] [--json]

A case is right when the amount, the range's upper end and the currency are all what a
reader of the note would book; a trap is right when no amount is found at all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections import defaultdict
from typing import Any

from desktop.capture.note_parse import parse_note
from tests.capture.amount_cases import Case, generate

TARGET = 0.95
NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _close(got: float | None, want: float | None) -> bool:
    if got is None or want is None:
        return got is want
    return abs(got - want) <= max(0.01, abs(want) * 1e-6)


def right(case: Case) -> tuple[bool, dict[str, Any]]:
    _kind, text, low, high, currency = case
    p = parse_note(text, NOW)
    got = {"amount": p.amount, "amount_max": p.amount_high, "currency": p.currency}
    ok = _close(p.amount, low) and (low is None or (
        _close(got["amount_max"], high) and p.currency == currency))
    return ok, got


def evaluate(items: list[Case]) -> dict[str, Any]:
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    wrong: list[dict[str, Any]] = []
    for case in items:
        ok, got = right(case)
        per_kind[case[0]][0] += 1
        per_kind[case[0]][1] += ok
        if not ok:
            wrong.append({"kind": case[0], "text": case[1], "want": list(case[2:]), "got": got})
    total = sum(v[0] for v in per_kind.values())
    return {"accuracy": sum(v[1] for v in per_kind.values()) / max(1, total), "cases": total,
            "kinds": {k: v[1] / v[0] for k, v in sorted(per_kind.items())}, "wrong": wrong}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=40, help="cases of each kind")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = evaluate(list(generate(args.seed, args.n)))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    print(f"accuracy {result['accuracy']:.3f} over {result['cases']} notes (target {TARGET})")
    for kind, rate in result["kinds"].items():
        print(f"  {kind:12} {rate:.3f}")
    for w in result["wrong"][:25]:
        print(f"  wrong {w['kind']}: {w['text']!r} want {w['want']} got {w['got']}")


if __name__ == "__main__":
    main()
