"""Which column of a file fills which field: guessed from the header (field names,
English and Chinese labels, a few common synonyms), edited by the user, saved for reuse.

A mapping is {column header: target}. A target is a field name of the entity, `id` (the
record's id: a row with the id of an existing record is that record), or a link column
(`account_name`: the account by its name or credit code, for contacts, deals and
activities)."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from desktop.errors import ValidationError
from desktop.schema import MERGED_INTO, Entity, is_server_only

ID = "id"
ACCOUNT_NAME = "account_name"
LINK_LABELS = {ACCOUNT_NAME: ("Account name", "客户名称")}
IMPORTABLE = ("account", "contact", "deal", "activity")
MAPPINGS_DIR = "mappings"  # in the profile: saved mappings, one JSON file each
# Headers people write for the same thing (after normalising: lower case, no spaces).
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "account": {
        "name": ("company", "companyname", "accountname", "公司", "公司名称", "企业名称",
                 "客户名称", "单位名称"),
        "uscc": ("uscc", "creditcode", "信用代码", "统一信用代码", "社会信用代码"),
        "phone": ("tel", "telephone", "mobile", "电话号码", "联系电话", "座机", "手机", "手机号"),
        "address": ("地址", "公司地址", "详细地址"),
    },
    "contact": {
        "name": ("contactname", "联系人", "联系人姓名", "名字"),
        "phones": ("phone", "mobile", "mobilephone", "tel", "手机", "手机号", "手机号码",
                   "联系电话", "电话号码"),
        "email": ("e-mail", "mail", "电子邮箱", "邮件", "电子邮件"),
        "wechat": ("wechat", "weixin", "微信"),
        "title": ("position", "jobtitle", "职位", "岗位"),
    },
    "deal": {"title": ("deal", "dealname", "商机名称", "项目", "项目名称"),
             "amount": ("value", "金额(元)", "商机金额")},
    "activity": {"subject": ("title", "标题"), "body": ("notes", "note", "备注", "描述")},
}
LINK_SYNONYMS = ("account", "company", "companyname", "accountname", "客户", "公司",
                 "公司名称", "客户名称", "所属客户", "企业名称")


def targets(ent: Entity) -> list[str]:
    """What a column may fill: id, the fields, the link columns."""
    # not the fields only a merge or the server sets (ids in other systems): an import of
    # them would be refused on its first sync
    out = [ID] + [f.name for f in ent.fields if f.name != MERGED_INTO and not is_server_only(f)]
    if ent.name != "account" and ent.has_field("account_id"):
        out.append(ACCOUNT_NAME)
    return out


def target_label(ent: Entity, target: str, lang: str) -> str:
    if target == ID:
        return "ID"
    if target in LINK_LABELS:
        en, zh = LINK_LABELS[target]
        return zh if lang.startswith("zh") else en
    f = ent.field(target)
    if f.ref:
        return f.label(lang) + (" ID" if lang.startswith("en") else "ID")
    return f.label(lang)


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"[\s_*:：]+", "", text)


def auto_mapping(ent: Entity, header: list[str]) -> dict[str, str]:
    """{column header: target} for the columns recognised, each target used once (the
    first column that names it wins)."""
    names: dict[str, str] = {}
    link = ACCOUNT_NAME in targets(ent)
    # weakest first, so exact names and labels override synonyms
    if link:
        for s in LINK_SYNONYMS:
            names[_norm(s)] = ACCOUNT_NAME
        for s in LINK_LABELS[ACCOUNT_NAME]:
            names[_norm(s)] = ACCOUNT_NAME
    for field_name, words in SYNONYMS.get(ent.name, {}).items():
        for w in words:
            names[_norm(w)] = field_name
    for t in targets(ent):
        if t in (ID, ACCOUNT_NAME):
            continue
        f = ent.field(t)
        if f.ref:  # "Account ID": the id; "客户" alone names the account (the link)
            names[_norm(f.label_en + " ID")] = names[_norm(f.label_zh + "ID")] = t
            if f.ref == "account" and link:
                continue
        for key in (f.label_en, f.label_zh):
            names[_norm(key)] = t
    for t in targets(ent):
        names[_norm(t)] = t
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in header:
        got = names.get(_norm(col))
        if got is not None and got not in used and col not in out:
            out[col] = got
            used.add(got)
    return out


def check_mapping(ent: Entity, header: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """The mapping restricted to the file's columns; raises ValidationError for a target
    the entity does not have, a target used twice, or a required field with no column."""
    allowed = set(targets(ent))
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for col, t in mapping.items():
        if not t or col not in header:
            continue
        if t not in allowed:
            raise ValidationError(f"Column '{col}': {ent.label_en} has no field '{t}'.", field=t)
        if t in seen:
            raise ValidationError(f"Columns '{seen[t]}' and '{col}' both fill '{t}'.", field=t)
        seen[t] = col
        out[col] = t
    for f in ent.fields:
        if f.required and f.name not in seen:
            raise ValidationError(
                f"The file has no column for {f.label_en} ({f.label_zh}), which every "
                f"{ent.label_en.lower()} needs; map one of the columns to it.", field=f.name)
    return out


# ------------------------------------------------------------ saved mappings
def mappings_dir(profile: Path) -> Path:
    return Path(profile) / MAPPINGS_DIR


def _safe(name: str) -> str:
    cleaned = re.sub(r"[^\w\-. ]", "_", name.strip())[:80].strip(". ")
    if not cleaned:
        raise ValidationError("A saved mapping needs a name.", field="name")
    return cleaned


def save_mapping(profile: Path, name: str, entity: str, mapping: dict[str, str]) -> Path:
    path = mappings_dir(profile) / f"{_safe(name)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"entity": entity, "columns": mapping}, ensure_ascii=False,
                              indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


def load_mapping(path: Path) -> tuple[str | None, dict[str, str]]:
    """(entity or None, {column: target}) from a saved mapping or a plain
    {"column": "field"} JSON object. Raises ValidationError when malformed."""
    try:
        raw: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{Path(path).name}: not a readable mapping ({exc}).") from exc
    entity = raw.get("entity") if isinstance(raw, dict) else None
    columns = raw.get("columns", raw) if isinstance(raw, dict) else None
    if not isinstance(columns, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
            if k != "entity"):
        raise ValidationError(f"{Path(path).name}: a mapping is {{\"column\": \"field\"}}.")
    return entity, {k: v for k, v in columns.items() if k != "entity"}


def saved_mappings(profile: Path, entity: str) -> dict[str, dict[str, str]]:
    """{name: mapping} of the mappings saved for `entity`."""
    out: dict[str, dict[str, str]] = {}
    folder = mappings_dir(profile)
    if not folder.is_dir():
        return out
    for p in sorted(folder.glob("*.json")):
        try:
            ent, cols = load_mapping(p)
        except ValidationError:
            continue
        if ent == entity:
            out[p.stem] = cols
    return out
