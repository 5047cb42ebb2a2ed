"""Routes of the market package: rendered chart images."""

from __future__ import annotations

import datetime as dt

from flask import send_file
from flask_login import login_required

from app.core.errors import NotFound
from app.market import bp
from app.market.charts import chart_image_path


@bp.get("/charts/<run_date>/<spec_name>.png")
@login_required
def chart_image(run_date: str, spec_name: str):
    """Serve a rendered chart PNG to any logged-in user (404 if not rendered)."""
    try:
        day = dt.date.fromisoformat(run_date)
    except ValueError:
        raise NotFound("图表不存在") from None
    path = chart_image_path(day, spec_name)
    return send_file(path, mimetype="image/png", max_age=300)
