"""The list filter shared by `fieldcrm ENTITY list`, the export and the app's lists:
owner, stage, changed since, and a search text, as one SQL condition on live records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.errors import ValidationError
from desktop.schema import Entity, FieldType

if TYPE_CHECKING:
    from desktop.store.store import Store

SEARCH_LIMIT = 100_000  # records a search text selects at most (accounts and contacts)
# The field `--stage` filters: a deal's stage, an account's lifecycle, an activity's kind.
STAGE_FIELDS = {"deal": "stage", "account": "lifecycle", "activity": "kind"}
SEARCHED_ENTITIES = ("account", "contact")  # those with search documents (pinyin, phone)


@dataclass(frozen=True)
class ListFilter:
    owner: str | None = None
    stage: str | None = None
    since: str | None = None  # changed at or after this date or moment (UTC)
    search: str | None = None

    def as_json(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}

    def __bool__(self) -> bool:
        return any(vars(self).values())


def since_iso(text: str) -> str:
    """A date (YYYY-MM-DD) or an ISO moment as the UTC text `updated_at` is stored in.
    Raises ValidationError when it is neither."""
    text = text.strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text).isoformat() + "T00:00:00"
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"'{text}' is not a date (YYYY-MM-DD) or a date and time.", field="since") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def where(store: Store, ent: Entity, flt: ListFilter) -> tuple[str, list[Any]]:
    """(SQL condition, parameters) selecting the records `flt` asks for; "" for all."""
    parts: list[str] = []
    params: list[Any] = []
    if flt.owner:
        if not ent.has_field("owner"):
            raise ValidationError(f"{ent.label_en} records have no owner.", field="owner")
        parts.append('"owner" = ?')
        params.append(flt.owner)
    if flt.stage:
        name = STAGE_FIELDS.get(ent.name)
        if name is None or not ent.has_field(name):
            raise ValidationError(f"{ent.label_en} records have no stage.", field="stage")
        f = ent.field(name)
        if f.type is FieldType.CHOICE and flt.stage not in f.choices:
            raise ValidationError(f"{f.label_en} must be one of {', '.join(f.choices)}",
                                  field="stage")
        parts.append(f'"{name}" = ?')
        params.append(flt.stage)
    if flt.since:
        parts.append("updated_at >= ?")
        params.append(since_iso(flt.since))
    if flt.search and flt.search.strip():
        sql, more = _search_condition(store, ent, flt.search.strip())
        parts.append(sql)
        params += more
    return " AND ".join(parts), params


def _search_condition(store: Store, ent: Entity, text: str) -> tuple[str, list[Any]]:
    if ent.name in SEARCHED_ENTITIES:
        # the app's search (name, pinyin, initials, phone, email), as a set of ids
        ids = [h.id for h in store.search(text, limit=SEARCH_LIMIT, entities=(ent.name,))]
        store.conn.execute("CREATE TEMP TABLE IF NOT EXISTS exchange_hits (id TEXT PRIMARY KEY)")
        store.conn.execute("DELETE FROM exchange_hits")
        store.conn.executemany("INSERT OR IGNORE INTO exchange_hits VALUES (?)",
                               [(i,) for i in ids])
        return "id IN (SELECT id FROM exchange_hits)", []
    # other entities: the title and the searchable text fields contain the text
    names = [ent.title_field] + [f.name for f in ent.fields
                                 if f.searchable and f.name != ent.title_field]
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    sql = " OR ".join(f'"{n}" LIKE ? ESCAPE \'\\\'' for n in names)
    return f"({sql})", [like] * len(names)
