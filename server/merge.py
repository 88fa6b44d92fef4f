"""The per-field merge, pure: last writer wins by HLC (`desktop.schema.wins`), the
same rule the client runs, so the order in which entries arrive does not matter."""

from __future__ import annotations

from typing import Any

from desktop.schema import wins
from desktop.sync import protocol

# Stamp of values the server fills in itself (the owner of a record pushed without
# one): lower than any real HLC, so any real write wins over it.
SERVER_STAMP = protocol.SERVER_STAMP

FieldMap = dict[str, dict[str, Any]]  # {"name": {"value": v, "hlc": "..."}}


def merge_fields(current: FieldMap, writes: dict[str, tuple[Any, str]]) -> tuple[FieldMap, bool, list[str]]:
    """Merge `writes` ({field: (value, hlc)}) into `current`.

    Returns (new field map, whether anything changed, fields whose write lost to a newer
    stamp already stored). A write with exactly the stored stamp is the same write
    again: neither a change nor a loss.
    """
    out = dict(current)
    changed = False
    superseded: list[str] = []
    for name, (value, hlc) in writes.items():
        cur = out.get(name)
        cur_hlc = cur["hlc"] if cur else None
        if wins(hlc, cur_hlc):
            out[name] = {"value": value, "hlc": hlc}
            changed = True
        elif hlc != cur_hlc:
            superseded.append(name)
    return out, changed, superseded
