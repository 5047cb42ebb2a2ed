"""Which dates an SOP plan runs on: exchange trading days, weekdays or every day."""

from __future__ import annotations

import datetime as dt
import logging

from app.market.sessions import exchange_sessions

logger = logging.getLogger(__name__)

#: Plan calendars offered in the UI: code → Chinese label.
CALENDAR_LABELS = {
    "XSHG": "A股交易日（上交所）",
    "XHKG": "港股交易日（港交所）",
    "weekdays": "工作日（周一至周五）",
    "daily": "每天",
}


def runs_on(calendar: str, day: dt.date) -> bool:
    """True when a plan on ``calendar`` runs on ``day``.

    ``XSHG``/``XHKG`` use exchange-calendars sessions (holidays included);
    beyond the calendar's last known year we fall back to weekdays and log it.

    :raises ValueError: for a calendar code not in ``CALENDAR_LABELS``.
    """
    if calendar not in CALENDAR_LABELS:
        raise ValueError(f"unknown calendar {calendar!r}")
    if calendar == "daily":
        return True
    if calendar == "weekdays":
        return day.weekday() < 5
    first, last, sessions = exchange_sessions(calendar)
    if not first <= day <= last:
        logger.warning("calendar %s has no data for %s; using weekdays", calendar, day)
        return day.weekday() < 5
    return day in sessions


def cron_day_of_week(calendar: str) -> str:
    """The APScheduler ``day_of_week`` field that pre-filters a calendar's run days."""
    return "*" if calendar == "daily" else "mon-fri"
