"""The per-field merge, pure: last writer wins by HLC (`desktop.schema.wins`), the
same rule the client runs, so the order in which entries arrive does not matter."""

from __future__ import annotations

from typing import Any

from desktop.schema import OVERWROTE, overwritten_stamps, wins
from desktop.sync import protocol

# Stamp of values the server fills in itself (the owner of a record pushed without
# one): lower than any real HLC, so any real write wins over it.
SERVER_STAMP = protocol.SERVER_STAMP

FieldMap = dict[str, dict[str, Any]]  # {"name": {"value": v, "hlc": "..."[, "overwrote": [...]]}}
MAX_OVERWROTE = 8  # stamps a field remembers losing; a device further behind gets no conflict


def merge_fields(current: FieldMap, writes: dict[str, tuple[Any, str, str | None]]
                 ) -> tuple[FieldMap, bool, list[str]]:
    """Merge `writes` ({field: (value, hlc, base)}) into `current`.

    Returns (new field map, whether anything changed, fields whose write lost to a newer
    stamp already stored). A write with exactly the stored stamp is the same write
    again: neither a change nor a loss. A winning write whose `base` is not the stored
    stamp replaced a value its writer never saw; when the values differ the field
    records the stamp it overwrote (OVERWROTE, newest first), so the device that wrote
    that value learns on its next pull that its edit lost to a concurrent one. Later
    writes keep the list: a device that has not pulled since must still learn it, and a
    device that has pulled holds a newer stamp, which no list names.
    """
    out = dict(current)
    changed = False
    superseded: list[str] = []
    for name, (value, hlc, base) in writes.items():
        cur = out.get(name)
        cur_hlc = cur["hlc"] if cur else None
        if wins(hlc, cur_hlc):
            field: dict[str, Any] = {"value": value, "hlc": hlc}
            lost = list(overwritten_stamps(cur.get(OVERWROTE))) if cur else []
            if (cur is not None and cur_hlc != SERVER_STAMP and base != cur_hlc
                    and cur.get("value") != value):
                lost = [cur["hlc"], *lost]
            if lost:
                field[OVERWROTE] = lost[:MAX_OVERWROTE]
            out[name] = field
            changed = True
        elif hlc != cur_hlc:
            superseded.append(name)
    return out, changed, superseded
