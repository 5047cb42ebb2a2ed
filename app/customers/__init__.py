"""customers: the customer book, WeCom contacts, valid adds 有效添加, coverage 覆盖率."""

from flask import Blueprint

bp = Blueprint("customers", __name__, url_prefix="/customers")

from app.customers import views  # noqa: E402,F401
