"""Pipeline rules as data: what a deal needs before it may enter a stage, and the
message shown when a move is blocked, which always names what is missing.

A rule is a record (entity ``pipeline_rule``, synced, admin-editable; see
PIPELINE_RULE_FIELDS for the declaration the schema needs). Until the schema has that
entity, or while the store holds no rules, DEFAULT_RULES apply.

Requirement codes (``requires``, a list):

* ``field:<name>``  the deal field must be filled in (e.g. ``field:amount``)
* ``contract``      a contract record, or an attachment whose name says contract/合同,
                    is linked to the deal
* ``from:<stage>``  the deal must come from that stage (e.g. ``from:legal_review``)

A rule with ``min_amount`` applies only to deals whose amount is at least that much.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.errors import NotFoundError, ValidationError
from desktop.schema import ENTITIES, STAGES, Field, FieldType, Role

if TYPE_CHECKING:
    from desktop.store import Store

ENTITY = "pipeline_rule"
DEFAULT_PIPELINE = "default"
ADMIN_ONLY = (Role.ADMIN,)

# The declaration the lead adds to desktop/schema.py (Entity "pipeline_rule",
# label "Pipeline rule" / "销售流程规则", title_field="name", owned=False).
PIPELINE_RULE_FIELDS: tuple[Field, ...] = (
    Field("name", FieldType.TEXT, "Name", "名称", required=True, max_length=200,
          writable_by=ADMIN_ONLY),
    Field("pipeline", FieldType.TEXT, "Pipeline", "销售流程", max_length=100,
          writable_by=ADMIN_ONLY),
    Field("stage", FieldType.CHOICE, "Stage", "阶段", required=True, choices=STAGES,
          writable_by=ADMIN_ONLY),
    Field("requires", FieldType.LIST, "Requires", "要求", writable_by=ADMIN_ONLY),
    Field("min_amount", FieldType.NUMBER, "Applies from amount", "适用金额下限",
          writable_by=ADMIN_ONLY),
    Field("message_en", FieldType.TEXT, "Message (English)", "提示（英文）", max_length=500,
          writable_by=ADMIN_ONLY),
    Field("message_zh", FieldType.TEXT, "Message (Chinese)", "提示（中文）", max_length=500,
          writable_by=ADMIN_ONLY),
    Field("active", FieldType.BOOL, "Active", "启用", writable_by=ADMIN_ONLY),
)

DEFAULT_MESSAGE_EN = "Cannot move this deal to {stage}: {missing}."
DEFAULT_MESSAGE_ZH = "无法将商机移至“{stage}”：{missing}。"


@dataclass(frozen=True)
class PipelineRule:
    name: str
    stage: str
    requires: tuple[str, ...]
    min_amount: float | None = None
    message_en: str = DEFAULT_MESSAGE_EN
    message_zh: str = DEFAULT_MESSAGE_ZH
    pipeline: str = DEFAULT_PIPELINE
    active: bool = True
    id: str | None = None

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> PipelineRule:
        return cls(rec.get("name") or "", rec["stage"], tuple(rec.get("requires") or ()),
                   rec.get("min_amount"), rec.get("message_en") or DEFAULT_MESSAGE_EN,
                   rec.get("message_zh") or DEFAULT_MESSAGE_ZH,
                   rec.get("pipeline") or DEFAULT_PIPELINE,
                   rec.get("active") is not False, rec.get("id"))

    def to_record(self) -> dict[str, Any]:
        return {"name": self.name, "pipeline": self.pipeline, "stage": self.stage,
                "requires": list(self.requires), "min_amount": self.min_amount,
                "message_en": self.message_en, "message_zh": self.message_zh,
                "active": self.active}


def default_rules(legal_review_amount: float = 1_000_000.0) -> list[PipelineRule]:
    return [
        PipelineRule("Proposal needs an amount", "proposal", ("field:amount",)),
        PipelineRule("Won needs a contract", "won",
                     ("contract", "field:amount", "field:signed_amount")),
        PipelineRule("Large deals pass legal review", "won", ("from:legal_review",),
                     min_amount=legal_review_amount,
                     message_en="Deals of {amount} or more must pass legal review first: "
                                "{missing}.",
                     message_zh="金额达到 {amount} 的商机须先经过法务审核：{missing}。"),
    ]


DEFAULT_RULES = default_rules()


def schema_has_rules() -> bool:
    return ENTITIES.get(ENTITY) is not None


def load_rules(store: Store, pipeline: str = DEFAULT_PIPELINE) -> list[PipelineRule]:
    """The active rules of `pipeline`: the store's records, else the defaults."""
    if schema_has_rules():
        recs = [PipelineRule.from_record(r) for r in store.repo(ENTITY).iter_all()]
        if recs:
            return [r for r in recs if r.active and r.pipeline == pipeline]
    return list(DEFAULT_RULES)


def save_rules(store: Store, rules: list[PipelineRule]) -> None:
    """Replace the stored rules with `rules` (admin settings). Raises ValidationError
    when the schema does not declare pipeline rules yet."""
    if not schema_has_rules():
        raise ValidationError("This version of FieldCRM cannot store pipeline rules yet.")
    repo = store.repo(ENTITY)
    with store.write():
        keep = set()
        for rule in rules:
            for code in rule.requires:
                _check_code(code)
            if rule.id:
                repo.update(rule.id, rule.to_record())
                keep.add(rule.id)
            else:
                keep.add(repo.create(rule.to_record())["id"])
        for rec in list(repo.iter_all()):
            if rec["id"] not in keep:
                repo.delete(rec["id"])


def _check_code(code: str) -> None:
    kind, _, arg = code.partition(":")
    ok = (code == "contract"
          or (kind == "field" and ENTITIES["deal"].has_field(arg))
          or (kind == "from" and arg in STAGES))
    if not ok:
        raise ValidationError(f"'{code}' is not a requirement (use field:<deal field>, "
                              "contract or from:<stage>).", field="requires")


# ------------------------------------------------------------------ the check
# The board columns use the same names (desktop/ui/common/catalog_zh.py); a test keeps them equal.
_ZH_STAGE = {"lead": "线索", "qualified": "已确认需求", "proposal": "方案报价",
             "negotiation": "商务谈判", "legal_review": "法务审核", "won": "赢单", "lost": "输单"}


def stage_label(stage: str, lang: str) -> str:
    return (_ZH_STAGE.get(stage, stage) if lang.startswith("zh")
            else stage.replace("_", " ").capitalize())


def _has_contract(store: Store, deal_id: str) -> bool:
    conn = store.conn
    if conn.execute("SELECT 1 FROM contract WHERE deleted = 0 AND deal_id = ? LIMIT 1",
                    (deal_id,)).fetchone():
        return True
    return conn.execute(
        "SELECT 1 FROM attachment WHERE deleted = 0 AND deal_id = ? AND "
        "(lower(file_name) LIKE '%contract%' OR file_name LIKE '%合同%') LIMIT 1",
        (deal_id,)).fetchone() is not None


def _missing(store: Store, deal: Mapping[str, Any], code: str, lang: str) -> str | None:
    zh = lang.startswith("zh")
    kind, _, arg = code.partition(":")
    if code == "contract":
        if _has_contract(store, deal["id"]):
            return None
        return "缺少合同附件（请上传或拍摄已签合同）" if zh else \
            "a contract attachment is missing (attach or capture the signed contract)"
    if kind == "field":
        value = deal.get(arg)
        if value not in (None, "", []):
            return None
        label = ENTITIES["deal"].field(arg).label(lang)
        return f"缺少“{label}”" if zh else f"“{label}” is empty"
    if kind == "from":
        if deal.get("stage") == arg:
            return None
        return (f"须先经过“{stage_label(arg, lang)}”阶段" if zh
                else f"it must come from the {stage_label(arg, lang)} stage")
    return None


def check_stage_move(store: Store, deal: Mapping[str, Any] | str, new_stage: str,
                     lang: str = "en") -> list[str]:
    """Why `deal` may not move to `new_stage`: one message per broken rule, each naming
    what is missing. An empty list means the move is allowed.

    Raises NotFoundError for an unknown deal id and ValidationError for an unknown stage.
    """
    if new_stage not in STAGES:
        raise ValidationError(f"'{new_stage}' is not a stage ({', '.join(STAGES)}).",
                              field="stage")
    rec = store.repo("deal").get(deal) if isinstance(deal, str) else dict(deal)
    if not rec.get("id"):
        raise NotFoundError("That deal has not been saved yet.")
    if rec.get("stage") == new_stage:
        return []
    out = []
    amount = rec.get("amount")
    for rule in load_rules(store):
        if rule.stage != new_stage:
            continue
        if rule.min_amount is not None and (amount is None or float(amount) < rule.min_amount):
            continue
        missing = [m for m in (_missing(store, rec, c, lang) for c in rule.requires) if m]
        if not missing:
            continue
        template = rule.message_zh if lang.startswith("zh") else rule.message_en
        sep = "；" if lang.startswith("zh") else "; "
        values = {"stage": stage_label(new_stage, lang), "missing": sep.join(missing),
                  "amount": f"{rule.min_amount:,.0f}" if rule.min_amount else ""}
        try:
            out.append(template.format(**values))
        except (KeyError, ValueError, IndexError):  # an admin's template with stray braces
            fallback = DEFAULT_MESSAGE_ZH if lang.startswith("zh") else DEFAULT_MESSAGE_EN
            out.append(fallback.format(**values))
    return out
