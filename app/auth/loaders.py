"""Flask-Login user loader and Flask-HTTPAuth token verification."""

from __future__ import annotations

from flask import jsonify

from app.auth.services import user_for_token
from app.core.extensions import db, login_manager, token_auth
from app.org.models import User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Reload the session's user by id; inactive users are logged out."""
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None


@token_auth.verify_token
def verify_token(token: str) -> User | None:
    """Return the active user owning this bearer token, or ``None``."""
    return user_for_token(token)


@token_auth.error_handler
def token_error(status: int):
    """JSON body for a missing or bad token."""
    return jsonify({"error": "缺少或无效的 API 令牌"}), status
