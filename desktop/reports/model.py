"""What a report is: its filter, its cells (values and the records behind them), totals.

Money is Decimal in the report's currency, to the cent; counts are ints. Every cell
carries the ids of the records it was computed from, so a figure can be traced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Value = Decimal | int | float | None


@dataclass(frozen=True)
class ReportFilter:
    """The period is [date_from, date_to] in the viewer's local days (inclusive)."""

    date_from: dt.date
    date_to: dt.date
    owners: tuple[str, ...] = ()  # empty: every owner the store holds
    currency: str = "CNY"
    zone: dt.tzinfo = dt.UTC  # the viewer's zone: weeks and months are local
    as_of: dt.date | None = None  # ageing and open-pipeline rates: default date_to
    # False: cells carry no record ids (the dashboard: collecting hundreds of thousands
    # of ids was most of a report's time); `desktop.reports.cell_ids` finds one cell's
    ids: bool = True

    @property
    def as_of_date(self) -> dt.date:
        return self.as_of or self.date_to


@dataclass
class Cell:
    key: tuple[str, ...]  # e.g. (owner, week) or (stage,)
    values: dict[str, Value] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)  # the records behind the cell
    detail_ids: dict[str, list[str]] = field(default_factory=dict)  # e.g. {"missed": [...]}

    def to_json(self, with_ids: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"key": list(self.key),
                               "values": {k: _json_value(v) for k, v in self.values.items()}}
        if with_ids:
            out["ids"] = self.ids
            out.update({f"{k}_ids": v for k, v in self.detail_ids.items()})
        return out


@dataclass(frozen=True)
class Note:
    """A line under a report (the SLA it measures, the ageing, records left out), kept as
    a code and its figures so the dashboard and exports say it in the reader's language."""

    code: str  # "sla" | "ageing" | "unconverted" | "golden"
    params: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, code: str, **params: Any) -> Note:
        return cls(code, tuple(params.items()))

    def text(self, lang: str = "en") -> str:
        p = dict(self.params)
        zh = lang == "zh"
        if self.code == "sla":
            return (f"SLA：分配后 {p['minutes']} 分钟内首次联系。" if zh
                    else f"SLA: first contact within {p['minutes']} minutes of assignment.")
        if self.code == "ageing":
            days = "天" if zh else "days"
            parts = [f"{bucket} {days} {amount}" for bucket, amount in p["buckets"]]
            return (f"账龄（截至 {p['as_of']}）：" + "，".join(parts) if zh
                    else f"ageing as of {p['as_of']}: " + ", ".join(parts))
        if self.code == "golden":
            need = p["required"]
            if zh:
                return (f"达标：记录首次写入后 {_hours(p['hours'])} 小时内记下 {need} 种"
                        "有效跟进（管理员的跟进规则）。")
            return (f"Met: {need} kind{'s' if need != 1 else ''} of valid follow-up logged "
                    f"within {_hours(p['hours'])} hours of a record's first write (the "
                    "admin's follow-up rule).")
        if self.code == "unconverted":
            return (f"{p['count']} 条记录在该日没有生效的 {p['currency']} 汇率，未计入金额。"
                    if zh else f"{p['count']} records have no exchange rate to {p['currency']} "
                    "in force and are left out of the amounts.")
        raise ValueError(f"unknown report note {self.code!r}")


def _hours(hours: float) -> str:
    return f"{hours:g}"


@dataclass
class Report:
    name: str
    currency: str
    key_names: tuple[str, ...]
    value_names: tuple[str, ...]
    cells: list[Cell] = field(default_factory=list)
    totals: dict[str, Value] = field(default_factory=dict)
    # records left out of money figures because no exchange rate was in force
    unconverted: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # further tables of the same report, e.g. collections' receivables ageing
    sections: dict[str, list[Cell]] = field(default_factory=dict)

    def cell(self, *key: str) -> Cell | None:
        return next((c for c in self.cells if c.key == key), None)

    def to_json(self, with_ids: bool = True) -> dict[str, Any]:
        return {"report": self.name, "currency": self.currency, "keys": list(self.key_names),
                "values": list(self.value_names),
                "rows": [c.to_json(with_ids) for c in self.cells],
                "totals": {k: _json_value(v) for k, v in self.totals.items()},
                "unconverted": self.unconverted,
                "notes": [n.text("en") for n in self.notes],
                "notes_zh": [n.text("zh") for n in self.notes],
                "sections": {n: [c.to_json(with_ids) for c in cells]
                             for n, cells in self.sections.items()}}


def _json_value(v: Value) -> Any:
    # money as a string: JSON numbers are floats to most readers, and finance wants cents
    return str(v) if isinstance(v, Decimal) else v


def sum_totals(cells: list[Cell], names: tuple[str, ...]) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for n in names:
        vals = [c.values.get(n) for c in cells]
        nums = [v for v in vals if isinstance(v, Decimal | int) and not isinstance(v, bool)]
        if any(isinstance(v, Decimal) for v in nums):
            out[n] = sum((Decimal(v) for v in nums), Decimal("0.00"))
        else:
            out[n] = sum(int(v) for v in nums if v is not None)
    return out
