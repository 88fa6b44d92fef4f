"""A custom field's type change: every stored value converted to the new type by the
same function on every replica, or kept aside with the reason (docs/fields.md)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from desktop.errors import ValidationError
from desktop.schema.checks import LIST_SEPARATORS, validate_value_for
from desktop.schema.fields import Field, FieldType

T = FieldType


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
        items = value if isinstance(value, list) else LIST_SEPARATORS.split(text)
        return True, [s for s in dict.fromkeys(str(i).strip() for i in items) if s] or None, ""
    return False, None, f"cannot convert to {t}"
