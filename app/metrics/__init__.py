"""metrics feature package."""

from flask import Blueprint

bp = Blueprint("metrics", __name__, url_prefix="/metrics")

from app.metrics import views  # noqa: E402,F401
