"""Prometheus metrics: ``GET /metrics`` with ``Authorization: Bearer <METRICS_TOKEN>``.

Exported (text format 0.0.4):

- ``zhongtai_http_request_duration_seconds{method, route, status}``: histogram of request
  latency per route template (``/api/v1/tasks/<int:task_id>/complete``), never per URL.
- ``zhongtai_task_runs_total{task, outcome}``: background task runs in this process.
- ``zhongtai_queue_messages{queue, state}``: messages waiting (``ready``), delayed and
  dead-lettered per queue, read from Redis at scrape time.
- ``zhongtai_posts{status}`` and ``zhongtai_tasks{status}``: the daily run's outcome for
  the business date (posts published, front-line tasks assigned or done), read at scrape.
- ``zhongtai_scheduler_up``: 1 while a scheduler holds its lock (see ``readiness``).

Under gunicorn with several workers set ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py
does), so the counters of every worker are summed. Without ``METRICS_TOKEN`` the route
answers 404: metrics are never public.
"""

from __future__ import annotations

import hmac
import logging
import os

from flask import Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from app.ops.readiness import scrape_gauges

logger = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "zhongtai_http_request_duration_seconds", "HTTP request latency by route",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Record one request in ``zhongtai_http_request_duration_seconds``."""
    REQUEST_SECONDS.labels(method, route, str(status)).observe(seconds)


class ScrapeTimeCollector:
    """Figures read when scraped: queue depth, today's run outcome, scheduler lock."""

    def collect(self):
        """Yield the gauge families (an unreachable source is logged and left out)."""
        yield from scrape_gauges(GaugeMetricFamily)


def exposition() -> bytes:
    """The metrics text: process counters (all workers under multiprocess) + scrape gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        counters = generate_latest(registry)
    else:
        counters = generate_latest(REGISTRY)
    scraped = CollectorRegistry()
    scraped.register(ScrapeTimeCollector())
    return counters + generate_latest(scraped)


def authorised() -> bool:
    """Whether the request carries ``Bearer <METRICS_TOKEN>`` (constant-time compare).

    :raises NotFound: (404) when ``METRICS_TOKEN`` is not configured.
    """
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())


def metrics_response() -> Response:
    """The ``/metrics`` response: 200 text, 401 without the token, 404 when disabled."""
    if not authorised():
        return Response("unauthorised\n", 401, {"WWW-Authenticate": "Bearer"},
                        mimetype="text/plain")
    return Response(exposition(), mimetype=CONTENT_TYPE_LATEST)
