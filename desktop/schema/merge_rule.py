"""The merge rule of sync: HLC stamps, last writer wins per field, and the markers a
merge leaves (overwritten stamps, redirects to a merged record's survivor)."""

from __future__ import annotations

import re

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
