"""Server settings: where the data lives and which database to use."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
ACCESS_TOKEN_TTL_S = 15 * 60
SSE_PING_S = 15.0
MAX_PUSH_ENTRIES = 5000
MAX_PUSH_BYTES = 64 * 1024 * 1024
MAX_PULL_LIMIT = 10000
MAX_LONG_POLL_S = 60.0
MAX_BLOB_BYTES = 512 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024  # any other request body (login, refresh, ...)
# A request body is ended (408) after this long without a byte, or when it arrives slower
# on average than MIN_BODY_RATE bytes/s after the first BODY_IDLE_S (server.connections).
BODY_IDLE_S = 30.0
DEDUPE_INTERVAL_S = 5.0  # changed accounts and contacts are checked for duplicates this often
MIN_BODY_RATE = 4096.0
LEADS_INTERVAL_S = 30.0  # the lead escalation pass (server.leads.tick) runs this often
WEBHOOK_INTERVAL_S = 0.05  # the webhook worker (server.webhooks) looks for work this often
DATA_ENV = "FIELDCRM_SERVER_DATA"
DATABASE_ENV = "FIELDCRM_DATABASE_URL"
JWT_SECRET_ENV = "FIELDCRM_JWT_SECRET"
# Client versions (server.versions): the newest desktop release, the oldest still served,
# and the URL where the organisation hosts the installer.
CLIENT_LATEST_ENV = "FIELDCRM_CLIENT_LATEST"
CLIENT_MINIMUM_ENV = "FIELDCRM_CLIENT_MINIMUM"
CLIENT_DOWNLOAD_ENV = "FIELDCRM_CLIENT_DOWNLOAD_URL"


def default_data_dir() -> Path:
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else Path(
        platformdirs.user_data_dir("fieldcrm-server", appauthor=False))


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None = None
    access_ttl_s: int = ACCESS_TOKEN_TTL_S
    sse_ping_s: float = SSE_PING_S
    body_idle_s: float = BODY_IDLE_S
    min_body_rate: float = MIN_BODY_RATE
    dedupe_interval_s: float = DEDUPE_INTERVAL_S  # 0: only when duplicates are listed
    leads_interval_s: float = LEADS_INTERVAL_S  # 0: only `fieldcrm-server leads tick`
    client_latest: str | None = None  # e.g. "1.4.0"; None: not told
    client_minimum: str | None = None  # older clients get 426 update_required
    client_download_url: str | None = None
    webhook_interval_s: float = WEBHOOK_INTERVAL_S  # 0: no webhook worker in this process

    @classmethod
    def from_args(cls, data: str | Path | None, database_url: str | None,
                  client_latest: str | None = None, client_minimum: str | None = None,
                  client_download_url: str | None = None) -> Settings:
        url = database_url or os.environ.get(DATABASE_ENV) or None
        env = os.environ.get
        return cls(Path(data) if data else default_data_dir(), url,
                   client_latest=client_latest or env(CLIENT_LATEST_ENV) or None,
                   client_minimum=client_minimum or env(CLIENT_MINIMUM_ENV) or None,
                   client_download_url=client_download_url or env(CLIENT_DOWNLOAD_ENV) or None)

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'server.db'}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"
