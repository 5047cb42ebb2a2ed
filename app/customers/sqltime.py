"""Portable SQL for instants stored by ``UtcDateTime`` (PostgreSQL ``timestamptz``, SQLite text).

Asia/Shanghai has kept UTC+8 without daylight saving since 1991, so on SQLite local
calendar values are computed with a fixed offset; PostgreSQL uses the zone by name.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Interval, cast, func, literal

from app.core.extensions import db


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _sqlite_offset(zone: str) -> str:
    """SQLite date modifier for ``zone``'s fixed offset, e.g. ``'+8 hours'``."""
    hours = ZoneInfo(zone).utcoffset(dt.datetime(2000, 1, 1)).total_seconds() / 3600
    return f"{hours:+.0f} hours"


def local_month(instant, zone: str) -> ColumnElement[str]:
    """SQL ``'YYYY-MM'`` of ``instant`` in ``zone`` (the calendar month of an add)."""
    if _dialect() == "postgresql":
        return func.to_char(func.timezone(zone, instant), "YYYY-MM")
    return func.strftime("%Y-%m", instant, _sqlite_offset(zone))


def local_date(instant, zone: str) -> ColumnElement:
    """SQL calendar date of ``instant`` in ``zone`` (the day of an add).

    A ``date`` on PostgreSQL, ``'YYYY-MM-DD'`` text on SQLite: read it with :func:`as_date`.
    """
    if _dialect() == "postgresql":
        return func.date(func.timezone(zone, instant))
    return func.date(instant, _sqlite_offset(zone))


def as_date(value: dt.date | str) -> dt.date:
    """A :func:`local_date` value read back, as a ``date`` on either database."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def at_most_days_after(later, earlier, days: int) -> ColumnElement[bool]:
    """SQL ``later <= earlier + days`` for two instant columns (``days`` whole days)."""
    if _dialect() == "postgresql":
        return later <= earlier + cast(literal(f"{int(days)} days"), Interval)
    return func.julianday(later) <= func.julianday(earlier) + int(days)


def local_day_bounds(start: dt.date, end: dt.date, zone: str) -> tuple[dt.datetime, dt.datetime]:
    """``[start 00:00, end+1 00:00)`` in ``zone`` as aware UTC instants (inclusive dates)."""
    tz = ZoneInfo(zone)
    low = dt.datetime.combine(start, dt.time(), tz).astimezone(dt.UTC)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
    return low, high
