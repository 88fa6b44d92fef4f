"""What the dashboard shows of a report, Qt-free: labels in both languages, the value a
chart draws, and the records behind a cell (drill-down)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desktop.reports.model import Report

if TYPE_CHECKING:
    from desktop.store import Store

TITLES = {
    "pipeline": ("Pipeline by stage", "销售漏斗（按阶段）"),
    "forecast": ("Forecast by month of expected close", "按预计成交月份预测"),
    "win-rate": ("Win rate and cycle time", "赢单率与成交周期"),
    "activities": ("Activities per rep per week", "每人每周活动"),
    "golden-72": ("Golden 72 hours: compliance", "黄金72小时执行率"),
    "lead-sla": ("Lead response and SLA", "线索响应与时效"),
    "collections": ("Signed vs collected, receivables ageing", "签约与回款、应收账龄"),
}
# the value a report's bars show
CHART_VALUE = {"pipeline": "amount", "forecast": "weighted", "win-rate": "win_rate",
               "activities": "activities", "golden-72": "compliance",
               "lead-sla": "median_response_min", "collections": "collected"}
LABELS = {
    "stage": "阶段", "month": "月份", "owner": "负责人", "source": "来源", "week": "周",
    "deals": "商机数", "amount": "金额", "probability": "概率（%）", "weighted": "加权金额",
    "won": "赢单", "lost": "输单", "win_rate": "赢单率（%）", "won_amount": "赢单金额",
    "median_cycle_days": "成交周期中位数（天）", "activities": "活动", "calls": "电话",
    "visits": "拜访", "follow_ups": "有效跟进", "records": "新建记录", "met": "达标",
    "missed": "未达标", "compliance": "达标率（%）", "leads": "线索", "contacted": "已联系",
    "median_response_min": "响应中位数（分钟）", "breaches": "超时", "breach_rate": "超时率（%）",
    "signed": "签约", "planned": "计划回款", "collected": "已回款", "difference": "差额",
    "unpaid": "未回款", "instalments": "期数", "ageing": "账龄",
}
STAGE_ZH = {"lead": "线索", "qualified": "已确认", "proposal": "方案", "negotiation": "谈判",
            "legal_review": "法务审核", "won": "赢单", "lost": "输单"}
DRILL_ENTITIES = ("deal", "account", "activity", "lead", "payment", "contract")
DRILL_LIMIT = 500


def title(name: str, lang: str, report: Report | None = None) -> str:
    """A report's title; golden-72's names the hours of the rule it was counted by (an
    admin may set 48), which its note carries."""
    en, zh = TITLES[name]
    text = zh if lang == "zh" else en
    if report is not None:
        for note in report.notes:
            if note.code == "golden":
                text = text.replace("72", f"{dict(note.params)['hours']:g}")
    return text


def label(name: str, lang: str) -> str:
    if lang == "zh":
        return LABELS.get(name, name)
    return name.replace("_", " ").capitalize()


def key_text(report: Report, key: tuple[str, ...], lang: str) -> list[str]:
    out = []
    for name, part in zip(report.key_names, key, strict=False):
        if name == "stage" and lang == "zh":
            out.append(STAGE_ZH.get(part, part))
        elif name == "owner" and not part:
            out.append("（无）" if lang == "zh" else "(none)")
        else:
            out.append(part)
    return out


def value_text(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:,}"  # Decimal: thousands separators, cents kept


def chart_points(report: Report) -> list[tuple[int, float]]:
    """(row, value) of what the bars draw: the report's chart value for each row."""
    name = CHART_VALUE[report.name]
    out = []
    for i, c in enumerate(report.cells):
        v = c.values.get(name)
        out.append((i, float(v) if v is not None else 0.0))
    return out


def drill(store: Store, ids: list[str], limit: int = DRILL_LIMIT) -> list[dict[str, str]]:
    """The records behind a cell: entity, id and title, in the cell's order."""
    wanted = ids[:limit]
    found: dict[str, dict[str, str]] = {}
    from desktop.schema import ENTITIES

    for entity in DRILL_ENTITIES:
        missing = [i for i in wanted if i not in found]
        if not missing:
            break
        title_field = ENTITIES[entity].title_field
        for start in range(0, len(missing), 500):
            part = missing[start:start + 500]
            marks = ", ".join("?" for _ in part)
            for rid, text in store.conn.execute(
                    f'SELECT id, "{title_field}" FROM "{entity}" WHERE id IN ({marks})', part):
                found[rid] = {"entity": entity, "id": rid, "title": str(text or "")}
    return [found[i] for i in wanted if i in found]


HEAT_REPORTS = ("activities", "golden-72")  # owner × week: a heat map, not bars


def heat_grid(report: Report) -> tuple[list[str], list[str], dict[tuple[int, int], int]]:
    """Rows (owners), columns (weeks) and which report row sits in each grid cell."""
    owners = sorted({c.key[0] for c in report.cells})
    weeks = sorted({c.key[1] for c in report.cells})
    at = {(owners.index(c.key[0]), weeks.index(c.key[1])): i
          for i, c in enumerate(report.cells)}
    return owners, weeks, at
