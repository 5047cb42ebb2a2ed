"""Operational endpoints: ``/healthz`` (liveness), ``/readyz`` (readiness), ``/metrics``.

No authentication on the two probes (they reveal no data); ``/metrics`` needs the
``METRICS_TOKEN`` bearer token.
"""

from __future__ import annotations

import logging

from flask import jsonify

from app.broadcasts.runs import last_tick, overdue_runs
from app.core.clock import to_local, utcnow
from app.core.extensions import csrf, db
from app.ops import bp
from app.ops.metrics import metrics_response
from app.ops.readiness import readiness

logger = logging.getLogger(__name__)


@bp.route("/healthz")
@csrf.exempt
def healthz():
    """Liveness: the process answers requests: always 200 ``{"status": "ok", "scheduler": …}``.

    ``scheduler`` is ``{"last_tick_at": ISO 8601 UTC or null, "overdue_runs": n}`` (plan runs
    still pending more than five minutes after they were due), or ``null`` when the database
    cannot be read. These are facts for monitoring and never change the status: a process
    manager restarts a web process that fails this, and the database and the other
    dependencies are ``/readyz``'s business.
    """
    return jsonify({"status": "ok", "scheduler": scheduler_health()})


@bp.route("/readyz")
@csrf.exempt
def readyz():
    """Readiness: 200 when every check passes, else 503; body ``{"status", "checks"}``.

    ``checks`` maps ``database``, ``migrations``, ``scheduler`` and ``queue`` to
    ``{"ok": bool, "detail": str}`` (see ``app.ops.readiness``).
    """
    ready, checks = readiness()
    return jsonify({"status": "ok" if ready else "error", "checks": checks}), (
        200 if ready else 503)


@bp.route("/metrics")
@csrf.exempt
def metrics():
    """Prometheus text format for ``Authorization: Bearer <METRICS_TOKEN>``.

    401 without the token; 404 when no token is configured.
    """
    return metrics_response()


@bp.app_template_filter("local_dt")
def local_dt(instant, fmt: str = "%Y-%m-%d %H:%M"):
    """Jinja filter: aware UTC instant → text in Asia/Shanghai (``—`` for None)."""
    local = to_local(instant)
    return local.strftime(fmt) if local else "—"


def scheduler_health() -> dict | None:
    """``{"last_tick_at": ISO 8601 UTC or None, "overdue_runs": n}``, or ``None``.

    ``None`` when the database cannot be read.
    """
    try:
        tick = last_tick()
        return {"last_tick_at": tick.ticked_at.isoformat() if tick else None,
                "overdue_runs": overdue_runs(utcnow())}
    except Exception:  # noqa: BLE001 - liveness never fails on the database
        logger.exception("health check: scheduler state unreadable")
        db.session.rollback()
        return None
