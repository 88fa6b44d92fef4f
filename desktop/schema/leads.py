"""Leads: the lead, its claims, and the admin data the server assigns and escalates
them by (assignment rules, reps' capacities, the escalation policy)."""

from __future__ import annotations

from desktop.schema.entity_type import Entity
from desktop.schema.fields import ADMIN_ONLY, EXTERNAL_IDS_FIELD, Check, Field, FieldType, Role

F = Field
T = FieldType

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
        EXTERNAL_IDS_FIELD,  # set by the server from the API for systems
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
