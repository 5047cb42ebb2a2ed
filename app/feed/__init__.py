"""Front office 前台: today's tasks page and the JSON API."""

from flask import Blueprint

bp = Blueprint("feed", __name__)
api_bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.feed import api, views  # noqa: E402,F401
