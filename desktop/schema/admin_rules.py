"""Admin rules: data only admins write and everyone reads (owned=False, synced like
any record): pipeline rules and stage probabilities, duplicate rules, custom field
definitions and export rights. Lead assignment rules live with the leads
(desktop.schema.leads)."""

from __future__ import annotations

from desktop.schema.core_entities import STAGES
from desktop.schema.entity_type import Entity
from desktop.schema.fields import ADMIN_ONLY, Check, Field, FieldType, Role

F = Field
T = FieldType

# Pipeline rules are shared by everyone (owned=False): all read them, only admins write.
PIPELINE_RULE = Entity(
    "pipeline_rule", "Pipeline rule", "销售流程规则",
    (
        F("name", T.TEXT, "Name", "名称", required=True, max_length=200, writable_by=ADMIN_ONLY),
        F("pipeline", T.TEXT, "Pipeline", "销售流程", max_length=100, writable_by=ADMIN_ONLY),
        F("stage", T.CHOICE, "Stage", "阶段", required=True, choices=STAGES,
          writable_by=ADMIN_ONLY),
        F("requires", T.LIST, "Requires", "要求", writable_by=ADMIN_ONLY),
        F("min_amount", T.NUMBER, "Applies from amount", "适用金额下限", writable_by=ADMIN_ONLY),
        F("message_en", T.TEXT, "Message (English)", "提示（英文）", max_length=500,
          writable_by=ADMIN_ONLY),
        F("message_zh", T.TEXT, "Message (Chinese)", "提示（中文）", max_length=500,
          writable_by=ADMIN_ONLY),
        F("active", T.BOOL, "Active", "启用", writable_by=ADMIN_ONLY),
        # the chance (0-100 %) a deal in this stage is won: the weighted pipeline and
        # forecast (desktop.reports); without a rule, STAGE_PROBABILITY
        F("probability", T.NUMBER, "Win probability (%)", "赢单概率（%）",
          writable_by=ADMIN_ONLY),
    ),
    owned=False,
)
STAGE_PROBABILITY = {"lead": 10, "qualified": 20, "proposal": 40, "negotiation": 60,
                     "legal_review": 80, "won": 100, "lost": 0}

# Duplicate rules (desktop.dedupe.rules), shared like the pipeline rules: per entity, how
# alike a name must be and whether a probable duplicate warns or blocks the save.
DEDUPE_ACTIONS = ("warn", "block")
DEDUPE_RULE = Entity(
    "dedupe_rule", "Duplicate rule", "查重规则",
    (
        F("entity", T.CHOICE, "Record type", "记录类型", required=True,
          choices=("account", "contact"), writable_by=ADMIN_ONLY),
        F("threshold", T.NUMBER, "Name similarity (%)", "名称相似度（%）", writable_by=ADMIN_ONLY),
        F("action", T.CHOICE, "On a probable duplicate", "疑似重复时", choices=DEDUPE_ACTIONS,
          writable_by=ADMIN_ONLY),
        F("active", T.BOOL, "Active", "启用", writable_by=ADMIN_ONLY),
    ),
    title_field="entity",
    owned=False,
)

# Custom field definitions (issue 24): records an admin edits, synced like the pipeline
# rules, turned into Fields by `install_field_defs` (desktop.schema.field_defs).
CUSTOM_FIELD_ENTITIES = ("account", "contact", "deal", "activity")
CUSTOM_FIELD_TYPES = ("text", "number", "date", "choice", "list")
FIELD_DEF = Entity(
    "field_def", "Custom field", "自定义字段",
    (
        F("entity", T.CHOICE, "Record type", "记录类型", required=True,
          choices=CUSTOM_FIELD_ENTITIES, writable_by=ADMIN_ONLY),
        F("name", T.TEXT, "Name", "名称", required=True, max_length=64, writable_by=ADMIN_ONLY),
        F("type", T.CHOICE, "Type", "类型", required=True, choices=CUSTOM_FIELD_TYPES,
          writable_by=ADMIN_ONLY),
        F("label_en", T.TEXT, "Label (English)", "标签（英文）", max_length=200,
          writable_by=ADMIN_ONLY),
        F("label_zh", T.TEXT, "Label (Chinese)", "标签（中文）", max_length=200,
          writable_by=ADMIN_ONLY),
        F("choices", T.LIST, "Choices", "选项", writable_by=ADMIN_ONLY),
        F("required", T.BOOL, "Required on the form", "表单必填", writable_by=ADMIN_ONLY),
        F("searchable", T.BOOL, "Searchable", "可搜索", writable_by=ADMIN_ONLY),
        F("section", T.TEXT, "Form section", "表单分组", max_length=100, writable_by=ADMIN_ONLY),
        F("position", T.INTEGER, "Order", "顺序", writable_by=ADMIN_ONLY),
        F("stages", T.LIST, "Shown in stages", "显示于阶段", writable_by=ADMIN_ONLY),
        F("retired", T.BOOL, "Retired", "已停用", writable_by=ADMIN_ONLY),
        # The last type change, JSON {"from", "to", "at"} (server.fields.change_type)
        F("type_change", T.TEXT, "Last type change", "最近类型变更", max_length=2000,
          writable_by=ADMIN_ONLY),
    ),
    owned=False,
)

# Whether a role may export (desktop.exchange), an admin setting shared like the pipeline
# rules; each export leaves an entry (desktop.schema.audit.EXPORT_LOG).
EXPORT_SETTING = Entity(
    "export_setting", "Export right", "导出权限",
    (
        F("role", T.CHOICE, "Role", "角色", required=True, choices=tuple(Role),
          writable_by=ADMIN_ONLY),
        F("allowed", T.BOOL, "May export", "允许导出", writable_by=ADMIN_ONLY),
    ),
    title_field="role",
    owned=False,
)

# What counts as a valid follow-up (desktop.followup.rule), an admin setting shared like
# the pipeline rules: the criteria (JSON: a list of {name, kind, min_duration_s,
# needs_attachment, outcomes}), how many of them a follow-up needs, and the golden rule's
# hours. Read by the reminders, the agenda, the laptop's reports and the server's
# `/v1/reports` alike; without an active rule, the built-in one.
FOLLOWUP_RULE = Entity(
    "followup_rule", "Follow-up rule", "有效跟进规则",
    (
        F("name", T.TEXT, "Name", "名称", max_length=200, writable_by=ADMIN_ONLY),
        F("criteria", T.TEXT, "Criteria (JSON)", "跟进条件（JSON）", max_length=8000,
          check=Check.NAMED_LIST, writable_by=ADMIN_ONLY),
        F("required_criteria", T.INTEGER, "Kinds of evidence needed", "所需证据种类数",
          writable_by=ADMIN_ONLY),
        F("golden_hours", T.NUMBER, "Overdue after (hours)", "超时（小时）",
          writable_by=ADMIN_ONLY),
        F("warn_hours", T.NUMBER, "Warn after (hours)", "提醒（小时）", writable_by=ADMIN_ONLY),
        F("active", T.BOOL, "Active", "启用", writable_by=ADMIN_ONLY),
    ),
    owned=False,
)
