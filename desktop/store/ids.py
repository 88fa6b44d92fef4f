"""Record ids and timestamps made on the device."""

from __future__ import annotations

import datetime as dt

import uuid6


def new_id() -> str:
    """A UUIDv7 string: time-ordered, so new records cluster at the end of indexes."""
    return str(uuid6.uuid7())


def utc_now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
