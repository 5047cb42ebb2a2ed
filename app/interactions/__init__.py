"""interactions feature package."""

from flask import Blueprint

bp = Blueprint("interactions", __name__)

from app.interactions import views  # noqa: E402,F401
