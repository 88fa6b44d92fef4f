"""Prometheus metrics (`prometheus-client`), served at `GET /metrics` in the text format.

Per process: every server process keeps its own registry and answers for itself (its
request metrics are fed by `server.logs.RequestObserver`). Run several workers each on
its own port (deploy/fieldcrm-server@.service) and let Prometheus scrape every port
(docs/server.md, "Metrics"); sum across instances in the query
(`sum(rate(fieldcrm_http_requests_total[5m]))`). Nothing is shared through files, so a
restarted worker leaves no stale numbers behind and the counters of each process simply
start again at zero (Prometheus' `rate` handles resets).

- `fieldcrm_http_requests_total{method,route,status}` and
  `fieldcrm_http_request_duration_seconds{method,route}`: by route template
  (`/v1/blobs/{sha256}`), never by raw path; a path no route matches is `unmatched`.
- `fieldcrm_push_entries_total{status}` (applied, rejected, duplicate) and
  `fieldcrm_pull_records_total`: the rows pushed and pulled.
- `fieldcrm_live_streams`: open SSE streams in this process.
- `fieldcrm_dedupe_backlog`: accounts and contacts changed since the duplicate checker's
  last pass (the server's one queue), read from the database at scrape time.
- `fieldcrm_webhook_subscriptions_paused` and `fieldcrm_webhook_deliveries_pending`:
  subscriptions paused after a day of failures (alert on > 0: nothing more is sent to
  that system until `fieldcrm-server webhook replay|resume`) and deliveries waiting to
  go out, both for the whole database, read at scrape time (server.webhooks.gauges).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import Scope

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED = "unmatched"
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class _FromDatabase(Collector):
    """Gauges read from the database at scrape time: `read` returns name -> value."""

    def __init__(self, helps: dict[str, str], read: Callable[[], dict[str, int]]) -> None:
        self._helps = helps
        self._read = read

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return [GaugeMetricFamily(name, text) for name, text in self._helps.items()]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            values = self._read()
        except Exception:  # a scrape never fails for a down database
            return
        for name, text in self._helps.items():
            g = GaugeMetricFamily(name, text)
            g.add_metric([], float(values[name]))
            yield g


class Metrics:
    """One registry per app (tests run several apps in one process)."""

    def __init__(self, backlog: Callable[[], int] | None = None,
                 webhooks: Callable[[], dict[str, int]] | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("fieldcrm_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=r)
        self.duration = Histogram("fieldcrm_http_request_duration_seconds",
                                  "Time from request to the end of the response",
                                  ["method", "route"], buckets=DURATION_BUCKETS, registry=r)
        self.pushed = Counter("fieldcrm_push_entries", "Journal entries pushed, by outcome",
                              ["status"], registry=r)
        self.pulled = Counter("fieldcrm_pull_records", "Records sent in pull pages", registry=r)
        self.streams = Gauge("fieldcrm_live_streams", "Open live-update (SSE) streams",
                             registry=r)
        if backlog is not None:
            r.register(_FromDatabase(
                {"fieldcrm_dedupe_backlog":
                 "Accounts and contacts waiting for the duplicate check"},
                lambda: {"fieldcrm_dedupe_backlog": backlog()}))
        if webhooks is not None:
            r.register(_FromDatabase(
                {"fieldcrm_webhook_subscriptions_paused":
                 "Webhook subscriptions paused after failing for a day (nothing is sent)",
                 "fieldcrm_webhook_deliveries_pending": "Webhook deliveries not yet delivered"},
                webhooks))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def route_of(scope: Scope) -> str:
    """The route template that answered (`/v1/blobs/{sha256}`), or `unmatched`."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED
