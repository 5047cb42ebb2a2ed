"""content feature package."""

from flask import Blueprint

bp = Blueprint("content", __name__, url_prefix="/content")

from app.content import api, views  # noqa: E402,F401
