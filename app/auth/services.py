"""Authentication: passwords and API tokens (who may do what: ``app.auth.permissions``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.extensions import db
from app.org.models import User

_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    """Return a salted scrypt hash (werkzeug) of ``password``."""
    return generate_password_hash(password)


def authenticate(username: str, password: str) -> User | None:
    """Return the active user with these credentials, or ``None``.

    Takes the same time whether or not the username exists.
    """
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    return user


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_api_token(user: User) -> str:
    """Create a new bearer token for ``user``, replacing any previous one.

    :returns: the token (43 URL-safe characters); only its SHA-256 is stored.
    """
    token = secrets.token_urlsafe(32)
    user.api_token_sha256 = _token_digest(token)
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    """Return the active user whose token digest matches, or ``None``."""
    if not token:
        return None
    digest = _token_digest(token)
    user = db.session.scalar(select(User).where(User.api_token_sha256 == digest))
    if user is None or not user.is_active or not hmac.compare_digest(
        user.api_token_sha256 or "", digest
    ):
        return None
    return user

