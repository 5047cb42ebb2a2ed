"""market feature package."""

from flask import Blueprint

bp = Blueprint("market", __name__)

from app.market import views  # noqa: E402,F401
