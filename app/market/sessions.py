"""Trading sessions: which days an exchange (or a series' market) trades.

Exchange sessions come from exchange-calendars (holidays included); a series is mapped to
its exchange in :data:`SERIES_EXCHANGES`. Gold futures and FX rates trade every weekday
here (their holiday closures are short and irregular), and days beyond an exchange
calendar's known range count as weekdays.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings

import exchange_calendars as xcals
import pandas as pd

#: Series code → exchange-calendars code of the market its closes come from.
SERIES_EXCHANGES = {"SSE": "XSHG", "HSI": "XHKG", "IXIC": "XNYS", "GSPC": "XNYS",
                    "N225": "XTKS"}


@functools.cache
def exchange_sessions(exchange: str) -> tuple[dt.date, dt.date, frozenset[dt.date]]:
    """First day, last day and the set of trading days of an exchange calendar.

    exchange-calendars 4.x trips a pandas 3.1 deprecation warning while it builds
    a calendar; it is silenced here only, for that one call.

    :param exchange: an exchange-calendars code such as ``XSHG``.
    :raises exchange_calendars.errors.InvalidCalendarName: for an unknown code.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=getattr(pd.errors, "Pandas4Warning", Warning))
        calendar = xcals.get_calendar(exchange)
    sessions = frozenset(calendar.sessions.date)
    return calendar.first_session.date(), calendar.last_session.date(), sessions


def is_session(code: str, day: dt.date) -> bool:
    """Whether the market of series ``code`` trades on ``day`` (a local calendar date).

    :param code: a series code (``SSE``, ``HSI`` …); unmapped series trade on weekdays.
    :returns: ``True`` on a trading day.
    """
    exchange = SERIES_EXCHANGES.get(code)
    if exchange is None:
        return day.weekday() < 5
    first, last, sessions = exchange_sessions(exchange)
    if not first <= day <= last:
        return day.weekday() < 5
    return day in sessions
