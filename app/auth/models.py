"""Per-account login throttle: failed logins per typed username (``app.auth.throttle``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UtcDateTime
from app.core.extensions import db


class LoginThrottle(db.Model):
    """Recent failed logins for one username, and the lock they caused.

    Keyed by the username as typed, not by a user id: an unknown username is counted and
    locked exactly like a real one, so the lock message never tells whether an account
    exists. ``failure_count`` counts failures since ``window_started_at``; reaching
    ``LOGIN_MAX_FAILURES`` within ``LOGIN_FAILURE_WINDOW_MINUTES`` sets ``locked_until``
    and starts a new count. A successful login deletes the row.
    """

    __tablename__ = "login_throttles"
    __table_args__ = (
        CheckConstraint("failure_count >= 0", name="failure_count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    failure_count: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    def __repr__(self) -> str:
        return f"<LoginThrottle {self.username} {self.failure_count}>"
