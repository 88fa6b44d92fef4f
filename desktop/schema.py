"""Entities, fields, types and sync rules: the one source of truth.

Pure data plus the pure functions that interpret it (value checks, the merge rule).
The local store, the sync client and the server all read this module, so a field
declared here is stored, validated, searched and synced everywhere without more code.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from desktop.errors import ValidationError

SCHEMA_VERSION = 1


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    INTEGER = "integer"
    DATE = "date"  # YYYY-MM-DD
    DATETIME = "datetime"  # UTC ISO-8601, e.g. 2026-11-22T04:15:08Z
    CHOICE = "choice"
    REF = "ref"  # id of a record of `ref` entity
    BOOL = "bool"
    LIST = "list"  # list of strings (tags, phones, blob hashes)


class Check(StrEnum):
    """Extra checks beyond the type, by meaning."""

    NONE = ""
    PHONE = "phone"
    EMAIL = "email"
    USCC = "uscc"
    CURRENCY = "currency"
    SHA256 = "sha256"
    TIME_ZONE = "time_zone"  # an IANA name (desktop.timezones)


class Role(StrEnum):
    REP = "rep"
    MANAGER = "manager"
    ADMIN = "admin"
    FINANCE = "finance"
    DIRECTOR = "director"  # a regional director: a manager's scope, reads what rules reserve


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    label_en: str
    label_zh: str
    required: bool = False
    choices: tuple[str, ...] = ()
    ref: str | None = None
    check: Check = Check.NONE
    searchable: bool = False
    max_length: int = 2000
    # Roles allowed to write this field; None means anyone who may write the record.
    writable_by: tuple[Role, ...] | None = None
    custom: bool = False
    # Fields an admin defined as data (a `field_def` record, see "Field definitions" below):
    retired: bool = False  # hidden everywhere, values kept (restorable)
    from_def: bool = False  # made from a field_def record (its store column is untyped)
    section: str = ""  # the form section it shows in ("" = the main one)
    position: int = 0  # its order on the form and in the list's columns
    form_required: bool = False  # the form asks for it (never enforced on sync)
    stages: tuple[str, ...] = ()  # deals: the stages in which the form shows it (() = all)
    type_change: str = ""  # its last type change (JSON), "" if none: see coerce_value

    def label(self, lang: str) -> str:
        return self.label_zh if lang.startswith("zh") else self.label_en


@dataclass(frozen=True)
class Entity:
    name: str
    label_en: str
    label_zh: str
    fields: tuple[Field, ...]
    title_field: str = "name"
    owned: bool = True  # has an `owner` deciding who sees it (else follows its parent)
    parent_field: str | None = None  # for non-owned records: the ref whose owner decides
    # (field, time field): when a write changes the field, the store sets the time field
    # to that moment, however the change was made (board, dialog, command line, import)
    change_times: tuple[tuple[str, str], ...] = ()
    _by_name: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)
    _checkers: dict[str, Callable[[Any], Any]] = field(
        default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({f.name: f for f in self.fields})

    def field(self, name: str) -> Field:
        try:
            return self._by_name[name]
        except KeyError:
            raise ValidationError(f"{self.name} has no field '{name}'", field=name) from None

    def has_field(self, name: str) -> bool:
        return name in self._by_name

    def checker(self, name: str) -> Callable[[Any], Any]:
        """validate_value for one field, built on first use."""
        check = self._checkers.get(name)
        if check is None:
            check = self._checkers[name] = _field_checker(self.field(name))
        return check

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def builtin_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.custom)

    @property
    def custom_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.custom)

    def label(self, lang: str) -> str:
        return self.label_zh if lang.startswith("zh") else self.label_en


# Sync-level field every entity has: a tombstone with its own clock.
DELETED = "deleted"
F = Field
T = FieldType

LIFECYCLE = ("lead", "prospect", "customer", "churned")
STAGES = ("lead", "qualified", "proposal", "negotiation", "legal_review", "won", "lost")
ACTIVITY_KINDS = ("call", "visit", "note", "task")
CURRENCIES = ("CNY", "USD", "EUR", "HKD", "JPY", "GBP", "SGD")

ACCOUNT = Entity(
    "account", "Account", "客户",
    (
        F("name", T.TEXT, "Name", "名称", required=True, searchable=True, max_length=200),
        F("uscc", T.TEXT, "Credit code (USCC)", "统一社会信用代码", check=Check.USCC,
          searchable=True),
        F("industry", T.TEXT, "Industry", "行业", max_length=100),
        F("region", T.TEXT, "Region", "地区", max_length=100),
        F("address", T.TEXT, "Address", "地址", max_length=500),
        F("lifecycle", T.CHOICE, "Lifecycle", "阶段", choices=LIFECYCLE),
        F("owner", T.TEXT, "Owner", "负责人", max_length=100),
        F("tags", T.LIST, "Tags", "标签"),
        F("phone", T.TEXT, "Phone", "电话", check=Check.PHONE, searchable=True),
        F("merged_into", T.REF, "Merged into", "已合并到", ref="account"),
    ),
)
CONTACT = Entity(
    "contact", "Contact", "联系人",
    (
        F("name", T.TEXT, "Name", "姓名", required=True, searchable=True, max_length=100),
        F("title", T.TEXT, "Title", "职务", max_length=100),
        F("phones", T.LIST, "Phones", "电话", check=Check.PHONE, searchable=True),
        F("email", T.TEXT, "Email", "邮箱", check=Check.EMAIL, searchable=True),
        F("wechat", T.TEXT, "WeChat ID", "微信号", max_length=100, searchable=True),
        F("account_id", T.REF, "Account", "客户", ref="account"),
        F("owner", T.TEXT, "Owner", "负责人", max_length=100),
        F("merged_into", T.REF, "Merged into", "已合并到", ref="contact"),
        # The person's consent to be kept in the CRM (PIPL / GDPR): where and when it was
        # given and what it covers.
        F("consent_source", T.TEXT, "Consent source", "同意来源", max_length=200),
        F("consent_date", T.DATE, "Consent date", "同意日期"),
        F("consent_scope", T.TEXT, "Consent scope", "同意范围", max_length=500),
    ),
)
DEAL = Entity(
    "deal", "Deal", "商机",
    (
        F("title", T.TEXT, "Title", "标题", required=True, searchable=True, max_length=200),
        F("account_id", T.REF, "Account", "客户", ref="account"),
        F("amount", T.NUMBER, "Amount", "金额"),
        F("currency", T.TEXT, "Currency", "币种", check=Check.CURRENCY),
        F("stage", T.CHOICE, "Stage", "阶段", choices=STAGES),
        F("close_date", T.DATE, "Expected close", "预计成交日期"),
        F("owner", T.TEXT, "Owner", "负责人", max_length=100),
        F("signed_amount", T.NUMBER, "Signed amount", "签约金额"),
        F("collected_amount", T.NUMBER, "Collected amount", "回款金额",
          writable_by=(Role.FINANCE, Role.ADMIN)),
        F("stage_changed_at", T.DATETIME, "In stage since", "进入阶段时间"),
    ),
    title_field="title",
    change_times=(("stage", "stage_changed_at"),),  # the stage clock of stalled-deal reminders
)
ACTIVITY = Entity(
    "activity", "Activity", "活动",
    (
        F("kind", T.CHOICE, "Kind", "类型", required=True, choices=ACTIVITY_KINDS),
        F("subject", T.TEXT, "Subject", "主题", required=True, searchable=True, max_length=300),
        F("body", T.TEXT, "Body", "内容", max_length=20000),
        F("due_at", T.DATETIME, "Due", "截止时间"),
        F("done_at", T.DATETIME, "Done", "完成时间"),
        F("duration_s", T.INTEGER, "Call duration (s)", "通话时长(秒)"),
        F("outcome", T.TEXT, "Outcome", "结果", max_length=500),
        F("account_id", T.REF, "Account", "客户", ref="account"),
        F("contact_id", T.REF, "Contact", "联系人", ref="contact"),
        F("deal_id", T.REF, "Deal", "商机", ref="deal"),
        F("owner", T.TEXT, "Owner", "负责人", max_length=100),
        F("attachments", T.LIST, "Attachments", "附件", check=Check.SHA256),
        F("remind_before_min", T.INTEGER, "Remind before (min)", "提前提醒（分钟）"),
        # the zone the activity was planned in: shown beside the viewer's own where the
        # wall times differ ("22:00 (10:00 New York)"); its instants stay UTC
        F("time_zone", T.TEXT, "Time zone", "时区", max_length=64, check=Check.TIME_ZONE),
    ),
    title_field="subject",
)
ATTACHMENT = Entity(
    "attachment", "Attachment", "附件",
    (
        F("sha256", T.TEXT, "SHA-256", "SHA-256", required=True, check=Check.SHA256),
        F("file_name", T.TEXT, "File name", "文件名", required=True, max_length=255),
        F("mime_type", T.TEXT, "Type", "类型", max_length=100),
        F("size", T.INTEGER, "Size", "大小"),
        F("account_id", T.REF, "Account", "客户", ref="account"),
        F("deal_id", T.REF, "Deal", "商机", ref="deal"),
        F("owner", T.TEXT, "Owner", "负责人", max_length=100),
    ),
    title_field="file_name",
)
CONTRACT = Entity(
    "contract", "Contract", "合同",
    (
        F("contract_no", T.TEXT, "Contract No.", "合同编号", searchable=True, max_length=100),
        F("deal_id", T.REF, "Deal", "商机", ref="deal"),
        F("party_a_name", T.TEXT, "Party A", "甲方", max_length=200),
        F("party_a_uscc", T.TEXT, "Party A credit code", "甲方信用代码", check=Check.USCC),
        F("party_a_account_id", T.REF, "Party A account", "甲方客户", ref="account"),
        F("party_b_name", T.TEXT, "Party B", "乙方", max_length=200),
        F("party_b_uscc", T.TEXT, "Party B credit code", "乙方信用代码", check=Check.USCC),
        F("party_b_account_id", T.REF, "Party B account", "乙方客户", ref="account"),
        F("amount", T.NUMBER, "Total amount", "合同金额"),
        F("amount_in_words", T.TEXT, "Amount in words", "大写金额", max_length=200),
        F("currency", T.TEXT, "Currency", "币种", check=Check.CURRENCY),
        F("sign_date", T.DATE, "Signing date", "签订日期"),
        F("pages", T.LIST, "Page images", "合同页", check=Check.SHA256),
        F("owner", T.TEXT, "Owner", "负责人", max_length=100),
    ),
    title_field="contract_no",
)

ADMIN_ONLY = (Role.ADMIN,)
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
SHARED_OWNER = "*"  # server-side owner of records that belong to everyone

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

# One entry per merge of duplicates (desktop.dedupe.merge): who kept which record and,
# field by field, which value and from which of the two records.
MERGE_LOG = Entity(
    "merge_log", "Merge", "合并记录",
    (
        F("entity", T.CHOICE, "Record type", "记录类型", required=True,
          choices=("account", "contact")),
        F("kept_id", T.TEXT, "Kept", "保留", required=True, max_length=64),
        F("dropped_id", T.TEXT, "Merged away", "合并掉", required=True, max_length=64),
        F("kept_name", T.TEXT, "Name", "名称", max_length=200),
        F("dropped_name", T.TEXT, "Merged-away name", "被合并名称", max_length=200),
        F("choices", T.TEXT, "Values kept (JSON)", "保留的值（JSON）", max_length=20000),
        F("merged_by", T.TEXT, "Merged by", "合并人", max_length=100),
        F("merged_at", T.DATETIME, "Merged at", "合并时间"),
        F("owner", T.TEXT, "Owner", "负责人", max_length=100),
    ),
    title_field="kept_name",
)

# Custom field definitions (issue 24): records an admin edits, synced like the pipeline
# rules, turned into Fields by `install_field_defs` (see "Field definitions" below).
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

BUILTIN_ENTITIES: tuple[Entity, ...] = (ACCOUNT, CONTACT, DEAL, ACTIVITY, ATTACHMENT, CONTRACT,
                                        PIPELINE_RULE, MERGE_LOG, DEDUPE_RULE, FIELD_DEF)

# Import and export (desktop.exchange): one audit entry per export (who, when, which
# list and filter, how many rows), synced to the server like any owned record; and
# whether a role may export, an admin setting shared like the pipeline rules.
EXPORT_LOG = Entity(
    "export_log", "Export", "导出记录",
    (
        F("entity", T.TEXT, "Record type", "记录类型", required=True, max_length=50),
        F("format", T.CHOICE, "Format", "格式", choices=("csv", "xlsx")),
        F("filter", T.TEXT, "Filter (JSON)", "筛选条件（JSON）", max_length=2000),
        F("rows", T.INTEGER, "Rows", "行数"),
        F("file_name", T.TEXT, "File name", "文件名", max_length=255),
        F("exported_by", T.TEXT, "Exported by", "导出人", max_length=100),
        F("exported_at", T.DATETIME, "Exported at", "导出时间"),
        F("owner", T.TEXT, "Owner", "负责人", max_length=100),
    ),
    title_field="entity",
)
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
BUILTIN_ENTITIES += (EXPORT_LOG, EXPORT_SETTING)

# Leads (issue 17, desktop.leads and server.leads). A lead is owned by the rep it is
# assigned to; the server alone assigns, escalates and returns leads to the pool (公海),
# so the fields it decides are writable only by admins (their devices) and the server
# itself. A lead in the pool has no owner and is seen by every rep. Claims and releases,
# made online or offline, are `lead_claim` records the server arbitrates on push.
LEAD_STATUSES = ("new", "assigned", "contacted", "qualified", "disqualified", "converted", "pool")
LEAD_OPEN = ("new", "assigned", "contacted")  # the statuses the SLA clock watches
LEAD_OUTCOMES = ("reached", "no_answer", "busy", "wrong_number", "not_interested")
SERVER_DECIDES = (Role.ADMIN,)  # lead fields set by the server (and admins' devices)
LEAD = Entity(
    "lead", "Lead", "线索",
    (
        F("name", T.TEXT, "Name", "姓名", required=True, searchable=True, max_length=100),
        F("company", T.TEXT, "Company", "公司", searchable=True, max_length=200),
        F("phone", T.TEXT, "Phone", "电话", check=Check.PHONE, searchable=True),
        F("email", T.TEXT, "Email", "邮箱", check=Check.EMAIL, searchable=True),
        F("source", T.TEXT, "Source", "来源", max_length=100),
        F("region", T.TEXT, "Region", "地区", max_length=100),
        F("budget", T.NUMBER, "Budget", "预算"),
        F("product", T.TEXT, "Product interest", "意向产品", max_length=200),
        F("note", T.TEXT, "Note", "备注", max_length=2000),
        F("status", T.CHOICE, "Status", "状态", choices=LEAD_STATUSES),
        F("owner", T.TEXT, "Owner", "负责人", max_length=100, writable_by=SERVER_DECIDES),
        F("external_id", T.TEXT, "External id", "外部编号", max_length=200,
          writable_by=SERVER_DECIDES),
        F("assigned_at", T.DATETIME, "Assigned at", "分配时间", writable_by=SERVER_DECIDES),
        F("assigned_rule", T.TEXT, "Assigned by rule", "分配规则", max_length=200,
          writable_by=SERVER_DECIDES),
        # every assignment, newest last: "<UTC time> <owner or pool> (<rule or why>)"
        F("assignments", T.LIST, "Assignment history", "分配记录", writable_by=SERVER_DECIDES),
        F("first_contact_at", T.DATETIME, "First contact", "首次联系时间"),
        F("last_contact_at", T.DATETIME, "Last contact", "最近联系时间"),
        F("last_outcome", T.CHOICE, "Last outcome", "最近联系结果", choices=LEAD_OUTCOMES),
        F("attempts", T.INTEGER, "Contact attempts", "联系次数"),
        F("reassign_count", T.INTEGER, "Reassigned", "改派次数", writable_by=SERVER_DECIDES),
        F("reclaim_count", T.INTEGER, "Reclaimed", "回收次数", writable_by=SERVER_DECIDES),
        F("escalation", T.TEXT, "Escalation", "升级提醒", max_length=200,
          writable_by=SERVER_DECIDES),
        F("escalated_to", T.TEXT, "Manager told", "已通知主管", max_length=100,
          writable_by=SERVER_DECIDES),
        F("duplicate_of", T.LIST, "Matches existing", "疑似已有客户/联系人",
          writable_by=SERVER_DECIDES),
        F("account_id", T.REF, "Account", "客户", ref="account"),
        F("contact_id", T.REF, "Contact", "联系人", ref="contact"),
        F("deal_id", T.REF, "Deal", "商机", ref="deal"),
    ),
)
LEAD_CLAIM_ACTIONS = ("claim", "release")
LEAD_CLAIM_RESULTS = ("pending", "won", "lost")
LEAD_CLAIM = Entity(
    "lead_claim", "Lead claim", "线索领取",
    (
        F("lead_id", T.REF, "Lead", "线索", required=True, ref="lead"),
        F("action", T.CHOICE, "Action", "操作", required=True, choices=LEAD_CLAIM_ACTIONS),
        F("made_at", T.DATETIME, "Made at", "操作时间"),
        F("result", T.CHOICE, "Result", "结果", choices=LEAD_CLAIM_RESULTS,
          writable_by=SERVER_DECIDES),
        F("reason", T.TEXT, "Why", "原因", max_length=500, writable_by=SERVER_DECIDES),
        F("owner", T.TEXT, "Owner", "负责人", max_length=100),
    ),
    title_field="lead_id",
)
# Assignment rules, the reps' capacities and the escalation policy: admin data shared by
# everyone like the pipeline rules (owned=False), read by the server (desktop.leads.rules).
LEAD_RULE = Entity(
    "lead_rule", "Lead assignment rule", "线索分配规则",
    (
        F("name", T.TEXT, "Name", "名称", required=True, max_length=200, writable_by=ADMIN_ONLY),
        F("position", T.INTEGER, "Order", "顺序", writable_by=ADMIN_ONLY),
        F("regions", T.LIST, "Regions", "地区", writable_by=ADMIN_ONLY),
        F("sources", T.LIST, "Sources", "来源", writable_by=ADMIN_ONLY),
        F("products", T.LIST, "Products", "产品", writable_by=ADMIN_ONLY),
        F("min_budget", T.NUMBER, "Budget from", "预算下限", writable_by=ADMIN_ONLY),
        F("max_budget", T.NUMBER, "Budget below", "预算上限", writable_by=ADMIN_ONLY),
        F("team", T.TEXT, "Team", "团队", max_length=100, writable_by=ADMIN_ONLY),
        F("reps", T.LIST, "Reps", "销售", writable_by=ADMIN_ONLY),
        F("active", T.BOOL, "Active", "启用", writable_by=ADMIN_ONLY),
    ),
    owned=False,
)
LEAD_REP = Entity(
    "lead_rep", "Lead capacity", "线索承接能力",
    (
        F("username", T.TEXT, "Rep", "销售", required=True, max_length=100,
          writable_by=ADMIN_ONLY),
        F("weight", T.NUMBER, "Weight", "权重", writable_by=ADMIN_ONLY),
        F("open_limit", T.INTEGER, "Open-lead limit", "在跟线索上限", writable_by=ADMIN_ONLY),
        F("away_from", T.DATETIME, "Away from", "离开自", writable_by=ADMIN_ONLY),
        F("away_until", T.DATETIME, "Away until", "离开至", writable_by=ADMIN_ONLY),
        F("enabled", T.BOOL, "Takes leads", "接收线索", writable_by=ADMIN_ONLY),
    ),
    title_field="username",
    owned=False,
)
LEAD_POLICY = Entity(
    "lead_policy", "Lead escalation", "线索升级规则",
    (
        F("name", T.TEXT, "Name", "名称", required=True, max_length=200, writable_by=ADMIN_ONLY),
        F("first_contact_min", T.INTEGER, "Remind after (min)", "未联系提醒（分钟）",
          writable_by=ADMIN_ONLY),
        F("reassign_min", T.INTEGER, "Reassign after (min)", "未联系改派（分钟）",
          writable_by=ADMIN_ONLY),
        F("max_reassign", T.INTEGER, "Reassign at most", "最多改派次数", writable_by=ADMIN_ONLY),
        F("retry_min", T.LIST, "Retry after failed contact (min)", "联系失败重试间隔（分钟）",
          writable_by=ADMIN_ONLY),
        F("reclaim_days", T.INTEGER, "Reclaim after days without follow-up", "无跟进回收（天）",
          writable_by=ADMIN_ONLY),
        F("daily_claim_limit", T.INTEGER, "Claims per day", "每日领取上限",
          writable_by=ADMIN_ONLY),
        F("mask_in_pool", T.BOOL, "Mask contact details in the pool", "公海中隐藏联系方式",
          writable_by=ADMIN_ONLY),
    ),
    owned=False,
)
BUILTIN_ENTITIES += (LEAD, LEAD_CLAIM, LEAD_RULE, LEAD_REP, LEAD_POLICY)

# A person's erasure (PIPL / GDPR, desktop.store.erasure): its record id is the erased
# contact's id, and it holds no personal data. An admin writes it with the edits that
# blank the person's fields; every device that pulls it purges its local traces, and
# the server refuses later writes of personal values to that contact.
ERASURE = Entity(
    "erasure", "Erasure of a person", "个人信息删除",
    (
        F("entity", T.CHOICE, "Record type", "记录类型", required=True,
          choices=("contact", "lead"), writable_by=ADMIN_ONLY),
        F("erased_by", T.TEXT, "Erased by", "删除人", max_length=100, writable_by=ADMIN_ONLY),
        F("erased_at", T.DATETIME, "Erased at", "删除时间", writable_by=ADMIN_ONLY),
    ),
    title_field="entity",
    owned=False,
)
BUILTIN_ENTITIES += (ERASURE,)

# Money finance trusts (issue 18, desktop.reports). A payment (回款) is planned (an
# instalment the contract schedules) or received; collected is the sum of received
# payments. Finance writes payments; the owner is the deal's rep, who reads them.
# Exchange rates are dated data an admin sets: `rate` CNY for one unit of `currency`
# from `valid_from` on; reports convert with the rate in force on each amount's date.
FINANCE_WRITES = (Role.FINANCE, Role.ADMIN)
PAYMENT_KINDS = ("planned", "received")
PAYMENT_METHODS = ("bank_transfer", "cheque", "cash", "acceptance_bill", "card", "other")
PAYMENT = Entity(
    "payment", "Payment", "回款",
    (
        F("kind", T.CHOICE, "Planned or received", "计划/实收", required=True,
          choices=PAYMENT_KINDS, writable_by=FINANCE_WRITES),
        F("amount", T.NUMBER, "Amount", "金额", required=True, writable_by=FINANCE_WRITES),
        F("currency", T.TEXT, "Currency", "币种", check=Check.CURRENCY,
          writable_by=FINANCE_WRITES),
        F("date", T.DATE, "Due or received on", "计划/到账日期", required=True,
          writable_by=FINANCE_WRITES),
        F("deal_id", T.REF, "Deal", "商机", ref="deal", writable_by=FINANCE_WRITES),
        F("contract_id", T.REF, "Contract", "合同", ref="contract",
          writable_by=FINANCE_WRITES),
        F("method", T.CHOICE, "Method", "付款方式", choices=PAYMENT_METHODS,
          writable_by=FINANCE_WRITES),
        F("invoice_no", T.TEXT, "Invoice No.", "发票号", max_length=100, searchable=True,
          writable_by=FINANCE_WRITES),
        F("note", T.TEXT, "Note", "备注", max_length=2000, writable_by=FINANCE_WRITES),
        F("owner", T.TEXT, "Owner", "负责人", max_length=100, writable_by=FINANCE_WRITES),
    ),
    title_field="invoice_no",
)
FX_RATE = Entity(
    "fx_rate", "Exchange rate", "汇率",
    (
        F("currency", T.TEXT, "Currency", "币种", required=True, check=Check.CURRENCY,
          writable_by=ADMIN_ONLY),
        F("rate", T.NUMBER, "CNY for one unit", "折合人民币", required=True,
          writable_by=ADMIN_ONLY),
        F("valid_from", T.DATE, "Valid from", "生效日期", required=True,
          writable_by=ADMIN_ONLY),
    ),
    title_field="currency",
    owned=False,
)
BUILTIN_ENTITIES += (PAYMENT, FX_RATE)
ERASED_TEXT = "(erased)"
_ERASED_CONTACT_FIELDS = ("title", "phones", "email", "wechat")
_ERASED_ACTIVITY_VALUES = {"subject": ERASED_TEXT, "body": None, "outcome": None,
                           "attachments": None}


def erasure_blanks(entity_name: str) -> dict[str, Any]:
    """What an erasure writes over a person's values: a contact's identifying fields
    (its name, title, phones, email, WeChat and custom text and list fields), a lead's
    (name, phone, email, note) and the text of an activity linked to the person.
    Amounts, dates and links are kept."""
    if entity_name == "activity":
        return dict(_ERASED_ACTIVITY_VALUES)
    if entity_name == "lead":
        return {"name": ERASED_TEXT, "phone": None, "email": None, "note": None}
    values: dict[str, Any] = {"name": ERASED_TEXT}
    for f in ENTITIES["contact"].fields:
        if f.name in _ERASED_CONTACT_FIELDS or (
                f.custom and f.type in (FieldType.TEXT, FieldType.LIST)):
            values[f.name] = None
    return values


def is_erased_value(value: Any, blank: Any) -> bool:
    return value == blank or (blank is None and value in (None, "", []))

# Custom fields are declared here (or in a JSON file with the same shape, see
# `load_custom_fields`) and treated exactly like built-in ones. Their names start
# with `cf_` so they can never collide with a later built-in field.
DEFAULT_CUSTOM_FIELDS: dict[str, tuple[Field, ...]] = {
    "account": (
        F("cf_employees", T.NUMBER, "Employees", "员工人数", custom=True),
        F("cf_source", T.CHOICE, "Lead source", "线索来源", custom=True,
          choices=("referral", "exhibition", "web", "cold_call")),
    ),
    "deal": (
        F("cf_competitor", T.TEXT, "Competitor", "竞争对手", custom=True, searchable=True,
          max_length=200),
        F("cf_next_review", T.DATE, "Next review", "下次评审", custom=True),
    ),
}


def build_entities(custom: Mapping[str, Iterable[Field]] | None = None) -> dict[str, Entity]:
    custom = DEFAULT_CUSTOM_FIELDS if custom is None else custom
    out: dict[str, Entity] = {}
    for e in BUILTIN_ENTITIES:
        extra = tuple(custom.get(e.name, ()))
        for f in extra:
            if not f.name.startswith("cf_") or not f.custom:
                raise ValidationError(f"custom field '{f.name}' must start with cf_", field=f.name)
            if f.type not in (T.TEXT, T.NUMBER, T.DATE, T.CHOICE):
                raise ValidationError(f"custom field '{f.name}' has unsupported type {f.type}")
        out[e.name] = Entity(e.name, e.label_en, e.label_zh, e.fields + extra, e.title_field,
                             e.owned, e.parent_field, e.change_times)
    return out


def load_custom_fields(path: Path) -> dict[str, tuple[Field, ...]]:
    """Read custom field declarations: {"account": [{"name": "cf_x", "type": "text",
    "label_en": ..., "label_zh": ..., "choices": [...]}]}.

    Raises ValidationError with the file name when the file is malformed.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {
            entity: tuple(
                F(d["name"], FieldType(d["type"]), d.get("label_en", d["name"]),
                  d.get("label_zh", d.get("label_en", d["name"])), custom=True,
                  choices=tuple(d.get("choices", ())), searchable=bool(d.get("searchable")))
                for d in decls
            )
            for entity, decls in raw.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValidationError(f"{path}: custom field declarations are malformed ({exc})") from exc


ENTITIES: dict[str, Entity] = build_entities()


def entity(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError:
        raise ValidationError(f"unknown entity '{name}'") from None


# ---------------------------------------------------------------- merge rule
# An HLC stamp is a string "<13-digit wall ms>-<4 hex counter>-<device id>", so the
# string order is the clock order and ties between devices break by device id.
HLC_RE = re.compile(r"^\d{13}-[0-9a-f]{4}-[A-Za-z0-9_.:-]{1,64}$")


def is_hlc(stamp: object) -> bool:
    return isinstance(stamp, str) and bool(HLC_RE.match(stamp))


# In a pulled record, a field's OVERWROTE lists stamps that were replaced by writes that
# had never seen them (concurrent edits): a device whose own write has one of them lost it.
OVERWROTE = "overwrote"


def overwritten_stamps(marker: object) -> tuple[str, ...]:
    """The stamps an OVERWROTE marker lists (servers before the list stored one stamp as text)."""
    if isinstance(marker, str):
        return (marker,)
    return tuple(m for m in marker if isinstance(m, str)) if isinstance(marker, list) else ()


# A merged-away record keeps `merged_into`: the survivor's id. A write to it that arrives
# after the merge (an offline edit), and a reference to it, are redirected to the
# survivor by whoever applies them (the server on push, a client on pull), stamped
# with the original stamp plus REDIRECTED: the same on every replica, so all converge,
# and above the original, so the redirected value replaces it where it already landed.
MERGED_INTO = "merged_into"
REDIRECTED = ":r"
MAX_REDIRECTS = 4  # survivors merged again: followed this many hops


def redirected_stamp(stamp: str) -> str:
    return stamp + REDIRECTED


def wins(incoming: str, current: str | None) -> bool:
    """Last-writer-wins per field: does a write stamped `incoming` replace `current`?"""
    return current is None or incoming > current


# ---------------------------------------------------------------- value checks
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]{2,}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


# per position: character -> its value times the position's weight (one lookup each)
_USCC_TERMS = tuple({c: i * w for i, c in enumerate(_USCC_ALPHABET)} for w in _USCC_WEIGHTS)


def uscc_check_char(first17: str) -> str | None:
    """The GB 32100-2015 check character for the first 17 characters, or None if any
    character is outside the code alphabet. Letters are allowed in every position the
    standard allows them (including the registration authority and region positions)."""
    if len(first17) != 17:
        return None
    try:
        total = sum(map(dict.__getitem__, _USCC_TERMS, first17))
    except KeyError:
        return None
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    code = code.strip().upper()
    return len(code) == 18 and uscc_check_char(code[:17]) == code[17]


_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


@functools.cache
def _cn_mobile_pattern() -> re.Pattern[str]:
    import phonenumbers

    meta = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    mobile = meta.mobile if meta is not None else None
    pattern = mobile.national_number_pattern if mobile is not None else None
    if pattern is None:  # a phonenumbers release without China's metadata: not usable
        raise RuntimeError("phonenumbers has no mobile number pattern for China")
    return re.compile(pattern)


def _cn_mobile(raw: str, region: str) -> str | None:
    """E.164 of a Chinese mobile number, by the same metadata pattern phonenumbers uses,
    without its general parser (a tenth of the cost: bulk imports are mostly these)."""
    s = raw.replace(" ", "").replace("-", "")  # the usual separators, cheaper than translate
    if not s.isascii() or not s.lstrip("+").isdigit():
        s = _PHONE_SEPARATORS.sub("", s)
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("0086"):
        s = s[4:]
    elif region != "CN":
        return None
    if len(s) == 11 and s.isascii() and s.isdigit() and _cn_mobile_pattern().fullmatch(s):
        return "+86" + s
    return None


def normalize_phone(raw: str, region: str = "CN") -> str:
    """E.164 form of a phone number; raises ValidationError if it is not a valid number."""
    fast = _cn_mobile(raw, region)
    if fast is not None:
        return fast
    import phonenumbers  # local import: the server and the store only need it here

    try:
        num = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"'{raw}' is not a phone number") from exc
    if not phonenumbers.is_valid_number(num):
        raise ValidationError(f"'{raw}' is not a valid phone number")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


Checker = Callable[[Any], Any]


def _meaning_checker(f: Field) -> Checker | None:
    """The check by meaning (Check) of one stripped, non-empty text value."""
    if f.check is Check.PHONE:
        return normalize_phone
    if f.check is Check.EMAIL:
        def email(value: str) -> str:
            if not _EMAIL_RE.match(value):
                raise ValidationError(f"'{value}' is not an email address", field=f.name)
            return value.lower()
        return email
    if f.check is Check.USCC:
        def uscc(value: str) -> str:
            value = value.upper()
            if not is_valid_uscc(value):
                raise ValidationError(
                    f"'{value}' is not a valid unified social credit code (18 characters, "
                    "check digit per GB 32100)", field=f.name)
            return value
        return uscc
    if f.check is Check.CURRENCY:
        def currency(value: str) -> str:
            value = value.upper()
            if not (len(value) == 3 and value.isascii() and value.isalpha()):
                raise ValidationError(f"'{value}' is not an ISO 4217 currency code", field=f.name)
            return value
        return currency
    if f.check is Check.TIME_ZONE:
        def time_zone(value: str) -> str:
            from desktop.timezones import zone

            if zone(value) is None:
                raise ValidationError(f"'{value}' is not a time zone (an IANA name such as "
                                      "Asia/Shanghai or America/New_York)", field=f.name)
            return value
        return time_zone
    if f.check is Check.SHA256:
        def sha256(value: str) -> str:
            if not _SHA256_RE.match(value):
                raise ValidationError(f"'{value}' is not a sha256 hash", field=f.name)
            return value
        return sha256
    return None


def _typed_checker(f: Field) -> Checker:
    """Checks and normalises one non-empty value of the field's type. Built once per
    field (Entity.checker): a bulk import runs it for every value it stores."""
    t = f.type
    label = f.label_en
    meaning = _meaning_checker(f)
    if t is T.TEXT:
        limit = f.max_length

        def text(value: Any) -> Any:
            if not isinstance(value, str):
                raise ValidationError(f"{label} must be text, not {type(value).__name__}")
            value = value.strip()
            if len(value) > limit:
                raise ValidationError(f"{label} is longer than {limit} characters")
            if not value:
                if f.required:
                    raise ValidationError(f"{label} is required")
                return None
            return meaning(value) if meaning else value
        return text
    if t in (T.NUMBER, T.INTEGER):
        whole = t is T.INTEGER

        def number(value: Any) -> Any:
            if isinstance(value, bool) or not isinstance(value, int | float):
                if isinstance(value, str):
                    try:
                        value = float(value.replace(",", "").strip())
                    except ValueError:
                        raise ValidationError(f"{label} must be a number, not '{value}'") from None
                else:
                    raise ValidationError(f"{label} must be a number")
            if value != value or value in (float("inf"), float("-inf")):
                raise ValidationError(f"{label} must be a finite number")
            if whole:
                if float(value) != int(value):
                    raise ValidationError(f"{label} must be a whole number")
                return int(value)
            return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)
        return number
    if t is T.DATE:
        def date(value: Any) -> Any:
            if not isinstance(value, str):
                raise ValidationError(f"{label} must be a date (YYYY-MM-DD)")
            try:
                return dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                raise ValidationError(f"{label}: '{value}' is not a date (YYYY-MM-DD)") from None
        return date
    if t is T.DATETIME:
        def datetime(value: Any) -> Any:
            if not isinstance(value, str):
                raise ValidationError(f"{label} must be a date and time")
            try:
                parsed = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValidationError(f"{label}: '{value}' is not a date and time") from None
            if parsed.tzinfo is None:
                raise ValidationError(f"{label}: '{value}' has no time zone")
            return to_utc_iso(parsed)
        return datetime
    if t is T.CHOICE:
        choices = frozenset(f.choices)

        def choice(value: Any) -> Any:
            if not isinstance(value, str) or value not in choices:
                raise ValidationError(f"{label} must be one of {', '.join(f.choices)}")
            return value
        return choice
    if t is T.REF:
        def ref(value: Any) -> Any:
            if not isinstance(value, str) or not _REF_RE.fullmatch(value):
                raise ValidationError(f"{label} must be a record id")
            return value
        return ref
    if t is T.BOOL:
        def boolean(value: Any) -> Any:
            if not isinstance(value, bool):
                raise ValidationError(f"{label} must be true or false")
            return value
        return boolean
    if t is T.LIST:
        def items(value: Any) -> Any:
            if isinstance(value, str):
                value = _LIST_SEPARATORS.split(value)
            elif not isinstance(value, list | tuple):
                raise ValidationError(f"{label} must be a list of text")
            for v in value:  # a loop, not all(...): no generator for the usual two or three
                if not isinstance(v, str):
                    raise ValidationError(f"{label} must be a list of text")
            stripped = [s for s in map(str.strip, value) if s]
            if meaning:
                stripped = [meaning(s) for s in stripped]
            return list(dict.fromkeys(stripped)) or None
        return items
    raise ValueError(f"unsupported field type {t}")  # pragma: no cover


_REF_RE = re.compile(r"[0-9a-f-]{36}")
_LIST_SEPARATORS = re.compile(r"[,;，；\n]")


def _deleted_checker(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("deleted must be true or false", field=DELETED)
    return value


def validate_value(ent: Entity, name: str, value: Any) -> Any:
    """Check and normalise one field value; return the value to store.

    Raises ValidationError (with `.field`) when the value does not fit.
    """
    if name == DELETED:
        return _deleted_checker(value)
    return ent.checker(name)(value)


def _field_checker(f: Field) -> Checker:
    """validate_value for one field: empty values, then the typed check, with the
    field named in every error."""
    typed = _typed_checker(f)
    name, label, required = f.name, f.label_en, f.required

    def check(value: Any) -> Any:
        if value is None or value == "" or value == []:
            if required:
                raise ValidationError(f"{label} is required", field=name)
            return None
        try:
            return typed(value)
        except ValidationError as exc:
            if str(exc).startswith(label):
                exc.field = name
                raise
            raise ValidationError(f"{label}: {exc}", field=name) from None

    if f.type is T.TEXT and f.check is Check.NONE:
        limit = f.max_length

        def text(value: Any) -> Any:
            # Most fields, most values: stripped text within the limit, in one call (a bulk
            # import makes millions); everything else through `check`.
            if type(value) is str:
                stripped = value.strip()
                if stripped and len(stripped) <= limit:
                    return stripped
            return check(value)
        return text
    return check


def validate_changes(ent: Entity, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate several fields at once; the first bad one raises."""
    built = ent._checkers
    return {name: (built.get(name)
                   or (_deleted_checker if name == DELETED else ent.checker(name)))(value)
            for name, value in changes.items()}


def may_write(f: Field | None, role: Role) -> bool:
    return f is None or f.writable_by is None or role in f.writable_by


def to_utc_iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- field definitions
# Custom fields an admin makes (issue 24) are `field_def` records: synced like the
# pipeline rules, written only by admins (the server checks each change with
# `check_field_def`). Every replica turns the definitions it holds into Fields with
# `install_field_defs`, which changes the Entity objects of ENTITIES in place, so every
# holder of an Entity (repositories, views, the server's push) sees the new fields.
# Fields are never taken away while the process runs (a definition that disappears
# stays, retired): a store column, once there, is kept.
MAX_CUSTOM_FIELDS = 200  # per entity, retired ones included (their values are kept)
FIELD_NAME_RE = re.compile(r"^cf_[a-z][a-z0-9_]{0,39}$")
MAX_CHOICES = 500
RESERVED_FIELD_NAMES = frozenset({"id", "rid", DELETED, "created_at", "updated_at", "_clocks",
                                  "owner", "cf_", "cf_id", "cf_deleted"})
_FIELD_DEF_NS = uuid.UUID("0190f1a2-0000-7000-8000-f1e1dde0f000")
_generation = 0
_lock = threading.Lock()


class FieldDefError(ValidationError):
    """A custom field definition that cannot be accepted (the message says why)."""


def field_def_id(entity_name: str, name: str) -> str:
    """The record id of a definition: one per (entity, name) on every replica, so two
    admins adding the same field at once make one record, not two."""
    return str(uuid.uuid5(_FIELD_DEF_NS, f"{entity_name}.{name}"))


def normalize_field_name(name: str) -> str:
    """`Lead source` -> `cf_lead_source`: lower case, spaces as _, the cf_ prefix added."""
    cleaned = re.sub(r"[\s\-]+", "_", str(name).strip().lower())
    return cleaned if cleaned.startswith("cf_") else "cf_" + cleaned


def _names_taken(entity_name: str) -> set[str]:
    builtin = next(e for e in BUILTIN_ENTITIES if e.name == entity_name)
    return ({f.name for f in builtin.fields}
            | {f.name for f in DEFAULT_CUSTOM_FIELDS.get(entity_name, ())})


def check_field_def(defn: Mapping[str, Any], others: Iterable[Mapping[str, Any]],
                    before: Mapping[str, Any] | None = None) -> None:
    """Raise FieldDefError when `defn` (a field_def record's values, with its "id") cannot
    be accepted next to the `others` (the other definitions) or as a change of `before`
    (its values until now; None for a new definition)."""
    ent_name = defn.get("entity")
    if ent_name not in CUSTOM_FIELD_ENTITIES:
        raise FieldDefError(f"Custom fields can be added to {', '.join(CUSTOM_FIELD_ENTITIES)}, "
                            f"not to '{ent_name}'.", field="entity")
    name = defn.get("name")
    if not isinstance(name, str) or name in RESERVED_FIELD_NAMES or (
            name in _names_taken(ent_name)):
        raise FieldDefError(f"'{name}' is a reserved name: pick another.", field="name")
    if not FIELD_NAME_RE.match(name):
        raise FieldDefError(f"'{name}' is not a valid field name: cf_ then a lower-case letter, "
                            "then up to 39 lower-case letters, digits or _.", field="name")
    ftype = defn.get("type")
    if ftype not in CUSTOM_FIELD_TYPES:
        raise FieldDefError(f"Type '{ftype}' is not one of {', '.join(CUSTOM_FIELD_TYPES)}.",
                            field="type")
    choices = list(defn.get("choices") or [])
    if ftype == "choice" and not choices:
        raise FieldDefError("A choice field needs at least one choice.", field="choices")
    if len(choices) != len(set(choices)):
        raise FieldDefError("The choices repeat a value: each choice must be different.",
                            field="choices")
    if len(choices) > MAX_CHOICES or any(not isinstance(c, str) or not c.strip() or len(c) > 100
                                         for c in choices):
        raise FieldDefError(f"Choices are 1 to {MAX_CHOICES} non-empty texts of at most 100 "
                            "characters each.", field="choices")
    bad_stages = [s for s in defn.get("stages") or () if s not in STAGES]
    if bad_stages:
        raise FieldDefError(f"Unknown stage '{bad_stages[0]}'.", field="stages")
    same = [o for o in others if o.get("entity") == ent_name and o.get("id") != defn.get("id")]
    if any(str(o.get("name", "")).lower() == name.lower() for o in same):
        raise FieldDefError(f"{ent_name} already has a field named '{name}'.", field="name")
    if before is None and len(same) + len(DEFAULT_CUSTOM_FIELDS.get(ent_name, ())) >= (
            MAX_CUSTOM_FIELDS):
        raise FieldDefError(f"{ent_name} already has {MAX_CUSTOM_FIELDS} custom fields, the "
                            "limit: retire none, restore or reuse one instead.", field="name")
    if before is not None:
        for key in ("entity", "name"):
            if before.get(key) != defn.get(key):
                raise FieldDefError(f"A field's {key} cannot change: add a new field (the "
                                    "labels are what users see).", field=key)
        if before.get("type") != ftype and defn.get("type_change") == before.get("type_change"):
            raise FieldDefError("A type is changed with `fieldcrm-server fields change-type` "
                                "(after `preview-type-change`), never by an update.",
                                field="type")
        if ftype == "choice" and before.get("type") == "choice":
            dropped = [c for c in before.get("choices") or () if c not in choices]
            if dropped:
                raise FieldDefError(f"Choice '{dropped[0]}' may be in use and cannot be "
                                    "removed; add the new choices instead.", field="choices")


def field_from_def(defn: Mapping[str, Any]) -> Field:
    """The Field a definition describes (labels default to its name)."""
    name = str(defn["name"])
    label_en = str(defn.get("label_en") or defn.get("label_zh") or name)
    ftype = FieldType(str(defn["type"]))
    return Field(name, ftype, label_en, str(defn.get("label_zh") or label_en),
                 choices=tuple(defn.get("choices") or ()),
                 searchable=bool(defn.get("searchable")), custom=True, from_def=True,
                 retired=bool(defn.get("retired")), section=str(defn.get("section") or ""),
                 position=int(defn.get("position") or 0),
                 form_required=bool(defn.get("required")),
                 stages=tuple(defn.get("stages") or ()),
                 type_change=str(defn.get("type_change") or ""))


def _usable(defn: Mapping[str, Any]) -> bool:
    return (defn.get("entity") in CUSTOM_FIELD_ENTITIES and isinstance(defn.get("name"), str)
            and bool(FIELD_NAME_RE.match(defn["name"]))
            and defn["name"] not in _names_taken(defn["entity"])
            and defn.get("type") in CUSTOM_FIELD_TYPES and not defn.get(DELETED))


def _set_fields(ent: Entity, fields: tuple[Field, ...]) -> None:
    # New dicts swapped in whole: a reader on another thread sees the old set or the new.
    object.__setattr__(ent, "_by_name", {f.name: f for f in fields})
    object.__setattr__(ent, "_checkers", {})
    object.__setattr__(ent, "fields", fields)


def install_field_defs(defs: Iterable[Mapping[str, Any]]) -> bool:
    """Make the fields the definitions describe part of ENTITIES (in place). A field that
    was installed and has no definition now stays, retired. Returns whether anything
    changed (then `schema_generation()` is higher)."""
    global _generation
    made: dict[str, dict[str, Field]] = {}
    for d in defs:
        if _usable(d):
            made.setdefault(d["entity"], {})[d["name"]] = field_from_def(d)
    changed = False
    with _lock:
        for e in BUILTIN_ENTITIES:
            live = ENTITIES.get(e.name)
            if live is None or e.name not in CUSTOM_FIELD_ENTITIES:
                continue
            base = e.fields + DEFAULT_CUSTOM_FIELDS.get(e.name, ())
            fields = dict(made.get(e.name, {}))
            for f in live.fields[len(base):]:  # installed before: kept, retired if gone
                if f.name not in fields:
                    fields[f.name] = f if f.retired else dataclass_replace(f, retired=True)
            extra = sorted(fields.values(), key=lambda f: (f.position, f.name))
            new = base + tuple(extra)
            if new != live.fields:
                _set_fields(live, new)
                changed = True
        if changed:
            _generation += 1
    return changed


def reset_field_defs() -> None:
    """Back to the fields declared in code (tests: one process, many replicas)."""
    global _generation
    with _lock:
        for e in BUILTIN_ENTITIES:
            live = ENTITIES.get(e.name)
            base = e.fields + DEFAULT_CUSTOM_FIELDS.get(e.name, ())
            if live is not None and live.fields != base:
                _set_fields(live, base)
        _generation += 1


def schema_generation() -> int:
    """Bumped by every change `install_field_defs` makes: a store compares it to know
    when to add columns for new fields."""
    return _generation


def visible_fields(ent: Entity) -> tuple[Field, ...]:
    """The fields the app shows: all but retired custom fields."""
    return tuple(f for f in ent.fields if not f.retired)


# ---------------------------------------------------------------- type changes
# A custom field's type is changed by one operation on the server (server.fields.change_type,
# after `preview-type-change`): the definition records it (`type_change`) and every replica
# converts its own values with `coerce_value`, the same function everywhere, so all agree.
# A value that does not convert is never dropped: it is kept aside with the reason (the
# field becomes empty) and stays readable, listed and exportable (KEPT).
KEPT = "_kept"  # in a server record's field map: the values kept aside, [{field, value, ...}]
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)


def coerce_value(f: Field, value: Any) -> tuple[bool, Any, str]:
    """Convert any stored value to field `f`'s type: (converted?, new value, reason when
    not). Idempotent: a value already of the type comes back unchanged."""
    ok, new, reason = _coerce(f, value)
    return (ok, None if new == "" or new == [] else new, reason)


def _coerce(f: Field, value: Any) -> tuple[bool, Any, str]:
    if value is None or value == "" or value == []:
        return True, None, ""
    t = f.type
    if t is T.DATE and type(value) is str:  # the common case, without exceptions
        m = _DATE_RE.match(value.strip())
        if m is not None:
            try:
                return True, dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat(), ""
            except ValueError:
                return False, None, f"'{value.strip()[:60]}' is not a date (YYYY-MM-DD)"
    else:
        try:
            return True, validate_value_for(f, value), ""
        except ValidationError:
            pass
    text = _as_text(value).strip()
    if t is T.TEXT:
        if len(text) > f.max_length:
            return False, None, f"longer than {f.max_length} characters"
        return True, text, ""
    if t is T.NUMBER:
        try:
            return True, validate_value_for(f, float(text.replace(",", "").replace("，", ""))), ""
        except (ValueError, ValidationError):
            return False, None, f"'{text[:60]}' is not a number"
    if t is T.DATE:
        for fmt in _DATE_FORMATS:
            try:
                return True, dt.datetime.strptime(text, fmt).date().isoformat(), ""
            except ValueError:
                continue
        return False, None, f"'{text[:60]}' is not a date (YYYY-MM-DD)"
    if t is T.CHOICE:
        if text in f.choices:
            return True, text, ""
        return False, None, f"'{text[:60]}' is not one of the choices"
    if t is T.LIST:
        items = value if isinstance(value, list) else _LIST_SEPARATORS.split(text)
        return True, [s for s in dict.fromkeys(str(i).strip() for i in items) if s] or None, ""
    return False, None, f"cannot convert to {t}"


def validate_value_for(f: Field, value: Any) -> Any:
    """validate_value for a Field that may not be installed (a type change's target)."""
    return _checker_of(f)(value)


@functools.lru_cache(maxsize=256)
def _checker_of(f: Field) -> Checker:
    return _field_checker(f)
