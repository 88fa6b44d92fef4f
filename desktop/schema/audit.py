"""Records of what was done, one per act: merges of duplicates, exports, and erasures of
a person."""

from __future__ import annotations

from desktop.schema.entity_type import Entity
from desktop.schema.fields import ADMIN_ONLY, Field, FieldType

F = Field
T = FieldType

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

# Import and export (desktop.exchange): one audit entry per export (who, when, which
# list and filter, how many rows), synced to the server like any owned record; whether a
# role may export is an admin setting (desktop.schema.admin_rules.EXPORT_SETTING).
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
