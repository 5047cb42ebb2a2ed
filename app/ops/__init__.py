"""Operational endpoints: health check, security headers."""

from flask import Blueprint

bp = Blueprint("ops", __name__)

from app.ops import headers, views  # noqa: E402,F401
