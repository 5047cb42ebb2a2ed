"""Routes of the market package: rendered chart images."""

from __future__ import annotations

import datetime as dt

from flask import Response, request
from flask_login import login_required

from app.core.errors import NotFound
from app.market import bp
from app.market.charts import chart_image as stored_chart


@bp.get("/charts/<run_date>/<spec_name>.png")
@login_required
def chart_image(run_date: str, spec_name: str):
    """Serve a rendered chart PNG to any logged-in user (404 if not rendered)."""
    try:
        day = dt.date.fromisoformat(run_date)
    except ValueError:
        raise NotFound("图表不存在") from None
    png, sha256 = stored_chart(day, spec_name)
    response = Response(png, mimetype="image/png")
    response.set_etag(sha256)
    response.cache_control.max_age = 300
    response.cache_control.private = True
    return response.make_conditional(request)
