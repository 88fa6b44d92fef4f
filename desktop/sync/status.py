"""What the sync engine tells the rest of the app: its state and counts (for the status
bar and `fieldcrm status`) and what one sync round did."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class State(StrEnum):
    IDLE = "idle"  # online and up to date
    SYNCING = "syncing"
    OFFLINE = "offline"  # the server cannot be reached: normal, changes wait
    NOT_ANSWERING = "not_answering"  # reached, then silent past the timeout: changes wait
    SIGNED_OUT = "signed_out"
    WIPED = "wiped"
    ERROR = "error"
    UPDATE_REQUIRED = "update_required"  # the server serves newer apps only: changes wait
    STOPPED = "stopped"


@dataclass(frozen=True)
class Progress:
    done: int
    total: int | None  # None: unknown

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


@dataclass(frozen=True)
class SyncStatus:
    state: State = State.STOPPED
    pending: int = 0
    parked: int = 0
    conflicts: int = 0
    last_fresh: float | None = None  # epoch seconds: server confirmed this device was current
    live: bool = False  # the live-update stream is connected
    message: str = ""
    progress: Progress | None = None
    server_version: int | None = None
    cursor: int = 0
    update: str = "none"  # "available", "required" (desktop.sync.versions)
    latest_version: str | None = None  # the newest app the server names
    download_url: str | None = None  # where the organisation hosts it

    @property
    def online(self) -> bool:
        return self.state in (State.IDLE, State.SYNCING)

    def fresh_text(self, now: float | None = None, tz: dt.tzinfo | None = None) -> str:
        """"synced 14:32:05, 0.4 s ago" (local time), or "never synced"."""
        if self.last_fresh is None:
            return "never synced"
        now = time.time() if now is None else now
        at = dt.datetime.fromtimestamp(self.last_fresh, tz or dt.datetime.now().astimezone().tzinfo)
        return f"synced {at:%H:%M:%S}, {_ago(max(0.0, now - self.last_fresh))} ago"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"] = self.state.value
        out["online"] = self.online
        out["progress"] = None if self.progress is None else asdict(self.progress)
        return out


def _ago(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


@dataclass
class SyncReport:
    """What one `sync_once` did."""

    pushed: int = 0  # entries the server applied or already had
    parked: int = 0  # entries the server rejected (kept locally with the reason)
    pulled: int = 0  # changes received
    applied: int = 0  # records changed locally
    conflicts: int = 0
    blobs: int = 0  # attachment files downloaded
    cursor: int = 0
    complete: bool = False
    skipped: list[str] = field(default_factory=list)
    # why fields of pushed entries were not saved: their user may not read them, or only
    # the server sets them (desktop.schema.SERVER_ONLY: a record's ids in other systems)
    refused: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
