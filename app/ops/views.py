"""``GET /healthz``: database reachable → 200 ``{"status": "ok"}``, else 503.

The body also reports the scheduler: ``{"last_tick_at": ISO or null, "overdue_runs": n}``
(plan runs still pending more than five minutes after they were due). Both are facts for
monitoring; neither changes the status code.
"""

from __future__ import annotations

import logging

from flask import jsonify
from sqlalchemy import text

from app.broadcasts.runs import last_tick, overdue_runs
from app.core.clock import to_local, utcnow
from app.core.extensions import csrf, db
from app.ops import bp

logger = logging.getLogger(__name__)


@bp.route("/healthz")
@csrf.exempt
def healthz():
    """Liveness and database readiness, no authentication, no secrets."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any DB failure means not ready
        logger.exception("health check: database unreachable")
        db.session.rollback()
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok", "scheduler": scheduler_health()})


@bp.app_template_filter("local_dt")
def local_dt(instant, fmt: str = "%Y-%m-%d %H:%M"):
    """Jinja filter: aware UTC instant → text in Asia/Shanghai (``—`` for None)."""
    local = to_local(instant)
    return local.strftime(fmt) if local else "—"


def scheduler_health() -> dict:
    """The scheduler's last tick (ISO 8601 UTC, or ``None``) and the number of overdue runs."""
    tick = last_tick()
    return {"last_tick_at": tick.ticked_at.isoformat() if tick else None,
            "overdue_runs": overdue_runs(utcnow())}
