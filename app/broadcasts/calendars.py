"""Which dates an SOP plan runs on: exchange trading days, weekdays or every day."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import warnings

import exchange_calendars as xcals
import pandas as pd

logger = logging.getLogger(__name__)

#: Plan calendars offered in the UI: code → Chinese label.
CALENDAR_LABELS = {
    "XSHG": "A股交易日（上交所）",
    "XHKG": "港股交易日（港交所）",
    "weekdays": "工作日（周一至周五）",
    "daily": "每天",
}


@functools.cache
def _sessions(code: str) -> tuple[dt.date, dt.date, frozenset[dt.date]]:
    """First day, last day and the set of trading days of an exchange calendar.

    exchange-calendars 4.x trips a pandas 3.1 deprecation warning while it builds
    a calendar; it is silenced here only, for that one call.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=getattr(pd.errors, "Pandas4Warning", Warning))
        exchange = xcals.get_calendar(code)
    sessions = frozenset(exchange.sessions.date)
    return exchange.first_session.date(), exchange.last_session.date(), sessions


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
    first, last, sessions = _sessions(calendar)
    if not first <= day <= last:
        logger.warning("calendar %s has no data for %s; using weekdays", calendar, day)
        return day.weekday() < 5
    return day in sessions


def cron_day_of_week(calendar: str) -> str:
    """The APScheduler ``day_of_week`` field that pre-filters a calendar's run days."""
    return "*" if calendar == "daily" else "mon-fri"
