"""HTTP errors with a machine-readable code: `{"detail": {"code": ..., "message": ...}}`.

401 codes in `desktop.sync.protocol.WIPE_CODES` tell the client to wipe its local data.
"""

from __future__ import annotations

import datetime as dt

from fastapi import HTTPException


def api_error(status: int, code: str, message: str) -> HTTPException:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return HTTPException(status_code=status, detail={"code": code, "message": message},
                         headers=headers)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
