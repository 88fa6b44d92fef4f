"""`GET /v1/admin/webhooks`: the admin's view of the webhook subscriptions (issue 25), so a
subscription paused after a day of failures is seen (server.webhooks.list_all; the same
numbers as `fieldcrm-server webhook list` and, summed, the metrics
`fieldcrm_webhook_subscriptions_paused` and `fieldcrm_webhook_deliveries_pending`).

No `from __future__ import annotations`: the route's parameter types must be evaluated
where the route is made, where `current` (the app's authentication) is a local name."""

from typing import Any, Literal

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from desktop.schema import Role
from server import webhooks
from server.errors import api_error


class WebhookSubscription(BaseModel):
    id: str
    system: str = Field(description="the system (credential) it belongs to")
    url: str
    events: list[str]
    status: Literal["active", "paused"] = Field(
        description="paused: a delivery failed for 24 h; nothing is sent until "
                    "`fieldcrm-server webhook replay ID`")
    paused_at: str | None = Field(description="UTC, ISO-8601; null while active")
    pending: int = Field(description="deliveries waiting to go out (a paused one's wait)")
    retrying: int = Field(description="pending deliveries that failed at least once")
    delivered: int
    failed: int = Field(description="deliveries given up after 24 h of retries")
    last_error: str | None = Field(description="the newest delivery error (`HTTP 502`, "
                                   "`ConnectError: ...`), null if none")


class WebhookList(BaseModel):
    subscriptions: list[WebhookSubscription]
    paused: int = Field(description="how many subscriptions are paused")

    model_config = {"json_schema_extra": {"examples": [{"paused": 1, "subscriptions": [{
        "id": "6f1c2b9e-8d4a-4f0e-9a51-2c7d3e8b1f00", "system": "erp",
        "url": "https://erp.example.com/hooks", "events": ["deal.won", "payment.*"],
        "status": "paused", "paused_at": "2026-12-06T02:15:08.120000Z", "pending": 42,
        "retrying": 0, "delivered": 10880, "failed": 1,
        "last_error": "HTTP 502"}]}]}}


def add_routes(app: FastAPI, engine: sa.Engine, current: Any, err: Any) -> None:
    @app.get("/v1/admin/webhooks", response_model=WebhookList, tags=["admin"],
             summary="Webhook subscriptions and their state (admins)",
             responses={403: err("`admin_only`: the caller is not an admin.")})
    async def admin_webhooks(p: current) -> WebhookList:
        """Every subscription with its status, when it was paused, its deliveries by
        state and its last error. An admin's token only."""
        if p.role != Role.ADMIN:
            raise api_error(403, "admin_only", "Only an admin may see the webhook "
                            "subscriptions.")
        subs = await run_in_threadpool(webhooks.list_all, engine)
        return WebhookList.model_validate({
            "subscriptions": subs, "paused": sum(s["status"] == "paused" for s in subs)})
