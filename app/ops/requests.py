"""Per-request observability: a request id, one log line and the latency histogram.

Every response carries ``X-Request-ID``: the proxy's value when it is a plain token
(8-64 of ``A-Z a-z 0-9 . _ -``), else a new random one. One log record per request
(logger ``app.ops.requests``) gives method, route, status and duration; the user id and
request id are added to it, as to every record, by ``app.core.logs``. Query strings,
bodies, headers and client addresses are not logged (they may carry tokens or personal
data).
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import g, request

from app.ops import bp
from app.ops.metrics import observe_request

logger = logging.getLogger(__name__)
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
#: Probes and scrapes are logged at DEBUG only: they come every few seconds.
QUIET_ENDPOINTS = frozenset({"ops.healthz", "ops.readyz", "ops.metrics", "static"})


@bp.before_app_request
def start_request() -> None:
    """Take or make the request id; start the clock."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


@bp.after_app_request
def finish_request(response):
    """Log the request, observe its latency and echo ``X-Request-ID``.

    :param response: the outgoing response.
    :returns: the same response.
    """
    started = g.get("request_started")
    if started is None:  # a response made before ``start_request`` ran
        return response
    duration = time.perf_counter() - started
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    observe_request(request.method, route, response.status_code, duration)
    response.headers[REQUEST_ID_HEADER] = g.request_id
    level = logging.DEBUG if request.endpoint in QUIET_ENDPOINTS else logging.INFO
    logger.log(level, "request %s %s %s %.1fms", request.method, route,
               response.status_code, duration * 1000,
               extra={"method": request.method, "route": route,
                      "status": response.status_code,
                      "duration_ms": round(duration * 1000, 1)})
    return response
