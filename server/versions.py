"""Client versions: the server tells every client the newest desktop release, the oldest
one it still serves and where the organisation hosts the installer (response headers
named in desktop.sync.protocol), and answers a client older than the minimum 426
`update_required` on the sync endpoints, so it keeps its journal and asks its user to
update. A pure ASGI middleware (live streams pass through untouched).

A desktop build names its version in `X-FieldCRM-Version`; one that sends a FieldCRM
User-Agent but no version predates versions and counts as older than any minimum. Other
callers (scripts, the lead intake, health checks) are never refused.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desktop.errors import FieldCRMError
from desktop.sync.protocol import (
    CLIENT_VERSION_HEADER,
    DESKTOP_AGENT_PREFIX,
    DOWNLOAD_HEADER,
    LATEST_HEADER,
    MINIMUM_HEADER,
    UPDATE_REQUIRED,
    parse_version,
)
from server.config import Settings

# The sync endpoints an outdated client is refused on (health, readiness, metrics and
# the lead intake of web forms are not the desktop's).
SYNC_PREFIXES = ("/v1/auth/", "/v1/me", "/v1/push", "/v1/pull", "/v1/events", "/v1/blobs/",
                 "/v1/duplicates")
UPGRADE_DESCRIPTION = ("This FieldCRM app is older than the oldest version the server "
                       "serves: `update_required`, with `minimum`, `latest` and "
                       "`download_url`. The app keeps its unsent changes until it is updated.")


class BadVersionSetting(FieldCRMError):
    """A client version setting is not a version like 1.4.2."""


def check(settings: Settings) -> None:
    """Raises BadVersionSetting for a client version setting that is not a version."""
    for name in ("client_latest", "client_minimum"):
        value = getattr(settings, name)
        if value is not None and parse_version(value) is None:
            raise BadVersionSetting(f"{name.replace('_', '-')} '{value}' is not a "
                                    "version like 1.4.2")


class ClientVersions:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        check(settings)
        self.minimum = parse_version(settings.client_minimum)
        self.settings = settings
        self.headers = [(name.lower().encode(), value.encode()) for name, value in (
            (LATEST_HEADER, settings.client_latest), (MINIMUM_HEADER, settings.client_minimum),
            (DOWNLOAD_HEADER, settings.client_download_url)) if value]
        self.version_key = CLIENT_VERSION_HEADER.lower().encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.headers:
            await self.app(scope, receive, send)
            return
        if self.minimum is not None and self._outdated(scope):
            await self._refuse(send)
            return

        async def send_with_versions(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_versions)

    def _outdated(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        if not path.startswith(SYNC_PREFIXES):
            return False
        version: bytes | None = None
        agent = b""
        for key, value in scope.get("headers") or ():
            if key == self.version_key:
                version = value
            elif key == b"user-agent":
                agent = value
        if version is None:  # a desktop build from before versions were sent
            return agent.decode("latin-1").startswith(DESKTOP_AGENT_PREFIX)
        have = parse_version(version.decode("latin-1"))
        return have is not None and self.minimum is not None and have < self.minimum

    async def _refuse(self, send: Send) -> None:
        s = self.settings
        where = f" from {s.client_download_url}" if s.client_download_url else ""
        body = json.dumps({"detail": {
            "code": UPDATE_REQUIRED,
            "message": f"This FieldCRM app is too old for the sync server: install version "
                       f"{s.client_latest or s.client_minimum} or newer{where}. Your unsent "
                       "changes are kept on this computer and are sent once you have updated.",
            "minimum": s.client_minimum, "latest": s.client_latest,
            "download_url": s.client_download_url}}).encode()
        await send({"type": "http.response.start", "status": 426, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            *self.headers]})
        await send({"type": "http.response.body", "body": body})
