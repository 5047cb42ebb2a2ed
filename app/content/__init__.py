"""content feature package."""

from flask import Blueprint

bp = Blueprint("content", __name__, url_prefix="/content")
#: ``POST /api/v1/compliance/check`` (bearer token, or the editor's session with CSRF header).
api_bp = Blueprint("compliance_api", __name__, url_prefix="/api/v1/compliance")

from app.content import api, views  # noqa: E402,F401
