"""Flask-Login user loader and Flask-HTTPAuth token verification."""

from __future__ import annotations

from flask import jsonify

from app.auth.services import user_for_token
from app.core.extensions import db, login_manager, token_auth
from app.org.models import User


@login_manager.user_loader
def load_user(session_user_id: str) -> User | None:
    """Reload the session's user from ``"<id>:<session_version>"`` (``User.get_id``).

    The session counts only while its version is the user's current one: logout, a
    password change or reset and deactivation raise it, so a copied cookie stops working.
    A bare ``"<id>"`` is version 0 (a user who never logged out since this rule existed).
    Inactive users are logged out.
    """
    user_id, _, version = session_user_id.partition(":")
    try:
        user_id, version = int(user_id), int(version or 0)
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.session_version != version:
        return None
    return user


@token_auth.verify_token
def verify_token(token: str) -> User | None:
    """Return the active user owning this bearer token, or ``None``."""
    return user_for_token(token)


@token_auth.error_handler
def token_error(status: int):
    """JSON body for a missing or bad token."""
    return jsonify({"error": "缺少或无效的 API 令牌"}), status
