"""Authentication: login attempts, passwords, sessions and API tokens.

Who may do what is ``app.auth.permissions``; the per-account lock is ``app.auth.throttle``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth import throttle
from app.auth.passwords import password_problems
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.org.models import User

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class LoginAttempt:
    """The outcome of :func:`attempt_login`: a user, a lock, or neither (bad credentials)."""

    user: User | None = None
    locked_until: dt.datetime | None = None


def attempt_login(username: str, password: str, now: dt.datetime) -> LoginAttempt:
    """Check credentials under the per-account lock.

    A locked username is refused without checking the password (the correct one
    included); a failure is counted and may lock it; a success clears its failures.
    Unknown usernames are counted and locked the same way, so no answer tells whether
    an account exists.

    :param username: as typed (stripped).
    :param password: as typed.
    :param now: aware UTC instant of the attempt.
    :returns: :class:`LoginAttempt` with ``user`` on success, ``locked_until`` (aware UTC)
        while locked, or both ``None`` for wrong credentials.
    """
    until = throttle.locked_until(username, now)
    if until is not None:
        return LoginAttempt(locked_until=until)
    user = authenticate(username, password)
    if user is None:
        return LoginAttempt(locked_until=throttle.record_failure(username, now))
    throttle.clear_failures(username)
    return LoginAttempt(user=user)


def require_strong_password(password: str, username: str, field: str = "password") -> None:
    """Raise unless ``password`` meets the policy (``app.auth.passwords``).

    :raises ValidationFailed: ``errors`` maps ``field`` to the list of Chinese messages.
    """
    problems = password_problems(password, username, current_app.config["PASSWORD_MIN_LENGTH"])
    if problems:
        raise ValidationFailed("密码不符合要求", errors={field: problems})


def revoke_sessions(user: User) -> None:
    """End every login session of ``user`` (their cookies stop working at the next request)."""
    user.session_version = (user.session_version or 0) + 1
    db.session.flush()


def set_password(user: User, password: str, *, must_change: bool, now: dt.datetime,
                 field: str = "password") -> None:
    """Give ``user`` a new password under the policy and revoke their sessions.

    :param must_change: ``True`` for an initial or reset password the user must replace.
    :param now: aware UTC instant, stored as ``password_changed_at``.
    :param field: form field named in the ``ValidationFailed`` errors.
    :raises ValidationFailed: the password breaks the policy.
    """
    require_strong_password(password, user.username, field)
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    user.password_changed_at = now
    if user.id is not None:
        revoke_sessions(user)


def change_own_password(user: User, current: str, new: str, now: dt.datetime) -> None:
    """The user replaces their password; every other session of theirs ends.

    :raises ValidationFailed: wrong ``current_password``, or a ``new_password`` that is
        unchanged or breaks the policy.
    """
    if not check_password_hash(user.password_hash, current):
        raise ValidationFailed("当前密码不正确", errors={"current_password": ["当前密码不正确"]})
    if new == current:
        raise ValidationFailed("新密码不能与当前密码相同",
                               errors={"new_password": ["新密码不能与当前密码相同"]})
    set_password(user, new, must_change=False, now=now, field="new_password")
    logger.info("password changed user_id=%s", user.id)


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

