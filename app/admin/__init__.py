"""Administration 系统管理: users, the branch tree and the audit log of every change."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.admin import views  # noqa: E402,F401
