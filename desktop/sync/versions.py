"""This app's version and what the sync server says about newer ones (no Qt).

The server names the newest release, the oldest it still serves and where the
organisation hosts the installer (desktop.sync.protocol headers, server.versions). The
client keeps the last answer in the store's meta table, so `fieldcrm status` and the
app's banner can tell without a network round trip. A client below the minimum is
answered 426 on every sync endpoint: the engine stops sending (UpdateRequired) and keeps
every journal entry until the app is updated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from desktop.store import Store
from desktop.sync.protocol import (
    DOWNLOAD_HEADER,
    LATEST_HEADER,
    MINIMUM_HEADER,
    parse_version,
)

CLIENT_VERSION = "0.1.0"  # = pyproject's version (a test checks); sent on every request
META_LATEST = "client_latest"
META_MINIMUM = "client_minimum"
META_DOWNLOAD = "client_download_url"
Update = Literal["none", "available", "required"]


@dataclass(frozen=True)
class ServerVersions:
    """What the server last said (None: it did not say)."""

    latest: str | None = None
    minimum: str | None = None
    download_url: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> ServerVersions | None:
        """The versions an answer carries; None when it carries none."""
        got = cls(headers.get(LATEST_HEADER), headers.get(MINIMUM_HEADER),
                  headers.get(DOWNLOAD_HEADER))
        return None if got == cls() else got

    def update(self, current: str | None = None) -> Update:
        """"required" below the minimum, "available" below the newest, else "none"
        (for this app's version unless `current` is given)."""
        have = parse_version(current or CLIENT_VERSION)
        if have is None:
            return "none"
        minimum, latest = parse_version(self.minimum), parse_version(self.latest)
        if minimum is not None and have < minimum:
            return "required"
        if latest is not None and have < latest:
            return "available"
        return "none"

    def to_json(self, current: str | None = None) -> dict[str, Any]:
        current = current or CLIENT_VERSION
        return {"client_version": current, **asdict(self), "update": self.update(current)}


def load(store: Store) -> ServerVersions:
    return ServerVersions(store.meta_get(META_LATEST) or None,
                          store.meta_get(META_MINIMUM) or None,
                          store.meta_get(META_DOWNLOAD) or None)


def save(store: Store, versions: ServerVersions) -> None:
    """Keep what the server said (only when it changed: no write per sync)."""
    if load(store) == versions:
        return
    for key, value in ((META_LATEST, versions.latest), (META_MINIMUM, versions.minimum),
                       (META_DOWNLOAD, versions.download_url)):
        store.meta_set(key, value or "")
