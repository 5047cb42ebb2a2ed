"""Welcome sequences: ``after-add:N@HH:MM`` plans 欢迎任务.

Such a plan is checked every day at ``HH:MM`` (its time zone): a run on date D gives a task
to each staff member of its audience who added a contact (still followed) on date D − N,
and to no one else; its 群发 goes only to those contacts (``app.connector.segments``).
A day on which nobody of the audience added anyone is skipped with code ``no_new_contacts``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.broadcasts.plan_texts import StaffRow
from app.broadcasts.schedules import Schedule, occurrences, parse_schedule
from app.core.extensions import db
from app.customers.models import WecomContact

#: Staff ids per query (bound parameters stay far below every driver's limit).
_CHUNK = 1000


def plan_occurrences(schedule: Schedule, timezone: str, start: dt.datetime,
                     end: dt.datetime) -> list[dt.datetime]:
    """The run instants of a plan in ``[start, end)`` (``after-add``: a daily check).

    ``after-add:N@HH:MM`` plans are checked every day at ``HH:MM``; others run at their
    schedule's occurrences.

    :returns: aware datetimes in ``timezone``, ascending.
    """
    if not schedule.fires_per_customer:
        return occurrences(schedule, timezone, start, end)
    daily = parse_schedule(f"cron:{schedule.time.minute} {schedule.time.hour} * * *")
    return occurrences(daily, timezone, start, end)


def is_welcome(expression: str) -> bool:
    """Whether a schedule expression is an ``after-add`` welcome sequence."""
    return expression.strip().startswith("after-add:")


def added_window(expression: str, timezone: str, run_date: dt.date) -> tuple[dt.datetime,
                                                                           dt.datetime]:
    """``[start, end)`` (aware UTC) of the add date a run on ``run_date`` welcomes: D − N."""
    schedule = parse_schedule(expression)
    zone = ZoneInfo(timezone)
    day = run_date - dt.timedelta(days=schedule.day)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def staff_to_welcome(expression: str, timezone: str, run_date: dt.date,
                     staff: list[StaffRow]) -> list[StaffRow]:
    """The members of ``staff`` who added a contact (still followed) on date D − N.

    One indexed query per 1,000 staff (``wecom_contacts (staff_id, added_at)``).
    """
    start, end = added_window(expression, timezone, run_date)
    ids = [row.id for row in staff]
    found: set[int] = set()
    for first in range(0, len(ids), _CHUNK):
        found.update(db.session.scalars(select(WecomContact.staff_id).distinct().where(
            WecomContact.staff_id.in_(ids[first:first + _CHUNK]),
            WecomContact.added_at >= start, WecomContact.added_at < end,
            WecomContact.removed_at.is_(None))))
    return [row for row in staff if row.id in found]


def contacts_to_welcome(expression: str, timezone: str, run_date: dt.date,
                        staff_id: int) -> list[str]:
    """``external_userid``s the staff member added on D − N and still follows, sorted."""
    start, end = added_window(expression, timezone, run_date)
    return list(db.session.scalars(
        select(WecomContact.external_userid).distinct()
        .where(WecomContact.staff_id == staff_id, WecomContact.added_at >= start,
               WecomContact.added_at < end, WecomContact.removed_at.is_(None))
        .order_by(WecomContact.external_userid)))
