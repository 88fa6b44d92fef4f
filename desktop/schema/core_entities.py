"""The core entities a rep works with: accounts, contacts, deals, activities,
attachments and contracts."""

from __future__ import annotations

from desktop.schema.entity_type import Entity
from desktop.schema.fields import EXTERNAL_IDS_FIELD, Check, Field, FieldType, Role

F = Field
T = FieldType

LIFECYCLE = ("lead", "prospect", "customer", "churned")
STAGES = ("lead", "qualified", "proposal", "negotiation", "legal_review", "won", "lost")
ACTIVITY_KINDS = ("call", "visit", "note", "task")

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
        EXTERNAL_IDS_FIELD,  # set by the server from the API for systems
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
        EXTERNAL_IDS_FIELD,  # set by the server from the API for systems
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
        EXTERNAL_IDS_FIELD,  # set by the server from the API for systems
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
        EXTERNAL_IDS_FIELD,  # set by the server from the API for systems
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
        EXTERNAL_IDS_FIELD,  # set by the server from the API for systems
    ),
    title_field="contract_no",
)
