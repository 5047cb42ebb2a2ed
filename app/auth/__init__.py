"""Login, logout, roles and permission decorators; API token auth."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import loaders, navigation, views  # noqa: E402,F401
