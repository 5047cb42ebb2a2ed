"""broadcasts feature package."""

from flask import Blueprint

bp = Blueprint("broadcasts", __name__)

from app.broadcasts import views  # noqa: E402,F401
