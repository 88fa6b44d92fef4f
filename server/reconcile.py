"""`fieldcrm-server reconcile --system erp FILE`: the CRM's records beside another
system's export (issue 25, "When two systems disagree"): records on one side only, fields
that differ, duplicates on either side; a CSV report and a JSON summary.

The file is read by the desktop importer's reader (desktop.exchange.readers: CSV in UTF-8
with or without BOM or GBK/GB18030, XLSX) and its columns are mapped as the import maps
them (desktop.exchange.mapping.auto_mapping: field names, English and Chinese labels,
common synonyms). The column holding the other system's ids is found by its name
(`erp_id`, `erp`, `ERP ID`, `ERP编号`, `external_id`, `外部编号`) or named with
`id_column`.

Matching, one pair at most per record and row:
1. by external id: the row's id is the id `external_ids` holds for a CRM record;
2. then, between CRM records without an id of that system and rows whose id no CRM record
   holds, by credit code (USCC, desktop.dedupe.identifiers.uscc_key);
3. then by phone (E.164, desktop.dedupe.identifiers.phone_e164, as the duplicate matcher
   compares them) where one of the two has no credit code (two different codes are two
   companies, whatever their phones).
Duplicates are groups of records on one side that share an identifier the matching uses:
an external id (only a file can repeat one: the CRM keeps them unique), a credit code,
or, among records without a credit code, a phone. Values are compared after the
schema's own normalisation (validate_value: a phone in E.164, a date as ISO, a number as
a number), so `138 1234 5678` and `+8613812345678` agree.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from desktop.dedupe.identifiers import phone_e164, uscc_key
from desktop.errors import FieldCRMError, ValidationError
from desktop.exchange.mapping import ACCOUNT_NAME, ID, auto_mapping
from desktop.exchange.readers import UNGUARD, Sheet
from desktop.schema import DELETED, ENTITIES, MERGED_INTO, Entity, validate_value
from server import tables as t
from server.integrations import API_ENTITIES

EXIT_UNKNOWN = 2  # an unknown system or entity
EXIT_BAD_FILE = 3  # a file that cannot be read as a spreadsheet of that entity
REPORT_HEADER = ("kind", "crm_id", "external_id", "field", "crm_value", "other_value")
KINDS = ("crm_only", "other_only", "differs", "duplicate_crm", "duplicate_other")


class ReconcileError(FieldCRMError):
    """The comparison could not be made."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Finding:
    kind: str
    crm_id: str = ""
    external_id: str = ""
    field: str = ""
    crm_value: str = ""
    other_value: str = ""
    group: int = 0  # duplicates: the records of one group share it (not in the CSV)

    def row(self) -> list[str]:
        return [_guard(v) for v in (self.kind, self.crm_id, self.external_id, self.field,
                                    self.crm_value, self.other_value)]


@dataclass
class _Side:
    """One record of either side: its id there, its values and its match keys."""

    key: str  # CRM: the record id; file: "line N"
    external_id: str
    values: dict[str, Any]
    uscc: str | None
    phones: set[str] = field(default_factory=set)


@dataclass
class Result:
    summary: dict[str, Any]
    findings: list[Finding]


def _guard(value: str) -> str:
    """A value that a spreadsheet would run as a formula is written as text (the
    exporter's guard; the importer's reader takes it off again)."""
    return "'" + value if value[:1] in UNGUARD else value


def _canon(value: Any) -> str:
    """One text form for comparing: numbers by value, lists as sets, text NFKC-trimmed."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        try:
            return format(Decimal(str(value)).normalize(), "f")
        except InvalidOperation:
            return str(value)
    if isinstance(value, list):
        return " | ".join(sorted(_canon(v) for v in value))
    return unicodedata.normalize("NFKC", str(value)).strip()


def _cell_value(ent: Entity, name: str, text: str) -> Any:
    """A file's cell as the schema would store it; the text itself when it does not fit
    (then it differs from any stored value, and the report shows it as written)."""
    try:
        return validate_value(ent, name, text)
    except ValidationError:
        return text.strip()


def _phones(ent: Entity, values: dict[str, Any]) -> set[str]:
    raw: list[Any] = []
    for name in ("phone", "phones"):
        if ent.has_field(name):
            v = values.get(name)
            raw += v if isinstance(v, list) else [v]
    return {p for p in (phone_e164(str(r)) for r in raw if r) if p}


def known_systems(engine: sa.Engine) -> set[str]:
    """Systems with a credential (even revoked) or with ids on records."""
    with engine.connect() as conn:
        names = set(conn.execute(sa.select(t.integrations.c.name)).scalars())
        names |= set(conn.execute(sa.select(t.external_ids.c.system).distinct()).scalars())
    return names


def _norm(text: str) -> str:
    """A header as the importer's mapping compares them: NFKC, lower case, no spaces."""
    return re.sub(r"[\s_*:：]+", "", unicodedata.normalize("NFKC", text).strip().lower())


def id_column(header: list[str], system: str, given: str | None) -> str | None:
    if given is not None:
        if given not in header:
            raise ReconcileError(f"The file has no column '{given}' (its columns: "
                                 f"{', '.join(header)}).", EXIT_BAD_FILE)
        return given
    names = {_norm(n) for n in (f"{system}_id", system, f"{system} id", f"{system}编号",
                                f"{system}ID", "external_id", "外部编号", "外部ID")}
    return next((c for c in header if _norm(c) in names), None)


def _crm_records(engine: sa.Engine, ent: Entity, system: str) -> list[_Side]:
    r, x = t.records, t.external_ids
    with engine.connect() as conn:
        ext = dict(conn.execute(sa.select(x.c.record_id, x.c.external_id).where(
            x.c.system == system, x.c.entity == ent.name)).all())
        rows = conn.execute(sa.select(r.c.record_id, r.c.fields).where(
            r.c.entity == ent.name).order_by(r.c.record_id)).all()
    out = []
    for rid, raw in rows:
        fields = orjson.loads(raw)
        values = {k: v.get("value") for k, v in fields.items()}
        if values.get(DELETED) or values.get(MERGED_INTO):
            continue
        out.append(_Side(rid, ext.get(rid, ""), values,
                         uscc_key(values.get("uscc")) if ent.has_field("uscc") else None,
                         _phones(ent, values)))
    return out


def _file_records(sheet: Sheet, ent: Entity, mapping: dict[str, str], id_col: str | None
                  ) -> Iterator[_Side]:
    header = sheet.header
    width = len(header)
    cols = [(i, mapping[c]) for i, c in enumerate(header) if c in mapping]
    id_at = header.index(id_col) if id_col is not None else None
    for line, cells in sheet.rows():
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            raise ReconcileError(f"{sheet.path.name}, line {line}: {len(cells)} cells, but "
                                 f"the header names {width} columns.", EXIT_BAD_FILE)
        values = {name: _cell_value(ent, name, cells[i]) for i, name in cols
                  if i < len(cells) and cells[i].strip()}
        ext = cells[id_at].strip() if id_at is not None and id_at < len(cells) else ""
        yield _Side(f"line {line}", ext, values,
                    uscc_key(values.get("uscc")) if "uscc" in values else None,
                    _phones(ent, values))


def _duplicates(sides: list[_Side], kind: str, crm: bool, first_group: int
                ) -> list[list[Finding]]:
    """Groups of records sharing an external id (files only: the CRM keeps them unique),
    a credit code, or (between records without one) a phone; records linked through
    several keys are one group. Each group is a list of findings, one per record, with
    `field` naming the shared keys and the value column showing them."""
    parent = list(range(len(sides)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_of: dict[tuple[str, str], int] = {}
    shared: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for i, s in enumerate(sides):
        keys = [("external_id", s.external_id)] if not crm and s.external_id else []
        keys += [("uscc", s.uscc)] if s.uscc else [("phone", p) for p in sorted(s.phones)]
        for k in keys:
            j = first_of.setdefault(k, i)
            if j != i:
                parent[root(i)] = root(j)
                shared[i].add(k)
                shared[j].add(k)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(sides)):
        if i in shared:
            members[root(i)].append(i)
    groups = []
    for n, idx in enumerate(members.values(), start=first_group):
        keys = sorted({k for i in idx for k in shared[i]})
        names = ",".join(dict.fromkeys(name for name, _v in keys))
        value = ", ".join(v for _name, v in keys)
        groups.append([Finding(kind, sides[i].key if crm else "", sides[i].external_id, names,
                               value if crm else "", "" if crm else f"{value} ({sides[i].key})",
                               group=n) for i in idx])
    return groups


def reconcile(engine: sa.Engine, system: str, path: Path, *, entity: str = "account",
              id_col: str | None = None, encoding: str | None = None) -> Result:
    """Compare; raises ReconcileError (exit_code EXIT_UNKNOWN for an unknown system or
    entity, EXIT_BAD_FILE for a file that cannot be read or has no usable column)."""
    if entity not in API_ENTITIES:
        raise ReconcileError(f"--entity must be one of {', '.join(API_ENTITIES)}.",
                             EXIT_UNKNOWN)
    systems = known_systems(engine)
    if system not in systems:
        raise ReconcileError(f"No system named '{system}' (known: "
                             f"{', '.join(sorted(systems)) or 'none'}; "
                             "fieldcrm-server integration list).", EXIT_UNKNOWN)
    ent = ENTITIES[entity]
    try:
        sheet = Sheet(Path(path), encoding)
    except ValidationError as exc:
        raise ReconcileError(exc.message, EXIT_BAD_FILE) from None
    id_name = id_column(sheet.header, system, id_col)
    mapping = {c: f for c, f in auto_mapping(ent, sheet.header).items()
               if c != id_name and f not in (ID, ACCOUNT_NAME)}
    if not mapping and id_name is None:
        raise ReconcileError(f"{Path(path).name}: none of its columns ({', '.join(sheet.header)})"
                             f" is a field of {entity} or {system}'s id.", EXIT_BAD_FILE)
    crm = _crm_records(engine, ent, system)
    try:
        other = list(_file_records(sheet, ent, mapping, id_name))
    except ValidationError as exc:
        raise ReconcileError(exc.message, EXIT_BAD_FILE) from None
    pairs, how, repeated = _match(crm, other)
    findings: list[Finding] = []
    paired_crm = {id(c) for c, _o in pairs}
    paired_other = {id(o) for _c, o in pairs} | repeated
    findings += [Finding("crm_only", c.key, c.external_id) for c in crm
                 if id(c) not in paired_crm]
    findings += [Finding("other_only", "", o.external_id, "", "", o.key) for o in other
                 if id(o) not in paired_other]
    fields = sorted(set(mapping.values()), key=ent.field_names.index)
    differing = 0
    for c, o in pairs:
        diffs = [Finding("differs", c.key, o.external_id or c.external_id, name,
                         _canon(c.values.get(name)), _canon(o.values.get(name)))
                 for name in fields if _canon(c.values.get(name)) != _canon(o.values.get(name))]
        differing += bool(diffs)
        findings += diffs
    dup_crm = _duplicates(crm, "duplicate_crm", True, 1)
    dup_other = _duplicates(other, "duplicate_other", False, len(dup_crm) + 1)
    for group in dup_crm + dup_other:
        findings += group
    summary = {
        "system": system, "entity": entity, "file": str(path),
        "crm_only": sum(f.kind == "crm_only" for f in findings),
        "other_only": sum(f.kind == "other_only" for f in findings),
        "differing": differing, "differing_fields": sum(f.kind == "differs" for f in findings),
        "duplicates_crm": len(dup_crm), "duplicates_other": len(dup_other),
        "matched": len(pairs), "matched_by": how, "crm_records": len(crm),
        "other_records": len(other), "id_column": id_name, "columns": mapping,
    }
    return Result(summary, findings)


def _match(crm: list[_Side], other: list[_Side]
           ) -> tuple[list[tuple[_Side, _Side]], dict[str, int], set[int]]:
    """The pairs, how many were paired by which key, and the rows that repeat an id an
    earlier row was paired by (file duplicates, not records the CRM lacks)."""
    pairs: list[tuple[_Side, _Side]] = []
    repeated: set[int] = set()
    how = {"external_id": 0, "uscc": 0, "phone": 0}
    by_ext = {c.external_id: c for c in crm if c.external_id}
    used: set[int] = set()
    rest: list[_Side] = []
    for o in other:
        c = by_ext.get(o.external_id) if o.external_id else None
        if c is not None and id(c) not in used:
            used.add(id(c))
            pairs.append((c, o))
            how["external_id"] += 1
        elif c is None:
            rest.append(o)
        else:
            repeated.add(id(o))  # a duplicate of the file, not a second pair
    # the fallbacks pair only records that no external id ties to anything
    free = [c for c in crm if not c.external_id]
    by_uscc: dict[str, list[_Side]] = defaultdict(list)
    by_phone: dict[str, list[_Side]] = defaultdict(list)
    for c in free:
        if c.uscc:
            by_uscc[c.uscc].append(c)
        for p in c.phones:
            by_phone[p].append(c)

    def take(candidates: Iterable[_Side], o: _Side) -> _Side | None:
        for c in candidates:
            if id(c) not in used and not (c.uscc and o.uscc and c.uscc != o.uscc):
                used.add(id(c))
                return c
        return None

    for o in rest:
        c = take(by_uscc.get(o.uscc, []), o) if o.uscc else None
        if c is not None:
            how["uscc"] += 1
        else:
            c = take((x for p in sorted(o.phones) for x in by_phone.get(p, [])), o)
            if c is None:
                continue
            how["phone"] += 1
        pairs.append((c, o))
    return pairs, how, repeated


def write_report(findings: list[Finding], out: Path) -> None:
    """One line per finding; UTF-8 with a BOM, so Excel shows the Chinese."""
    with Path(out).open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(REPORT_HEADER)
        for f in sorted(findings, key=lambda f: KINDS.index(f.kind)):
            w.writerow(f.row())
