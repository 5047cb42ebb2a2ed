"""Freshness of market commentary 时效: a post quoting data too many sessions old is not published.

Pure function for the daily run (``app.broadcasts``) and previews: given each series' as-of
date (the last close published by the market cutoff) and the run date, it names the series
whose close is more than ``max_sessions`` trading sessions behind. Sessions are the weekdays
strictly between the as-of date and the run date, or the caller's calendar
(``is_session(code, day)``, e.g. from ``exchange_calendars``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

#: Default freshness limit of market commentary, in trading sessions.
MAX_SESSIONS_BEHIND = 1


def _weekday(_code: str, day: dt.date) -> bool:
    return day.weekday() < 5


def sessions_behind(as_of: dt.date, run_date: dt.date, code: str = "",
                    is_session: Callable[[str, dt.date], bool] | None = None) -> int:
    """Trading sessions strictly between ``as_of`` and ``run_date`` (closes missing since).

    :param as_of: date of the last close used.
    :param run_date: the content run date (Asia/Shanghai calendar date).
    :param code: series code passed to ``is_session``.
    :param is_session: ``(code, day) -> bool``; weekdays when ``None``.
    :returns: a count ≥ 0 (0 when ``as_of`` is the previous session or later).
    """
    check = is_session or _weekday
    days = (run_date - as_of).days
    return sum(1 for n in range(1, days) if check(code, as_of + dt.timedelta(days=n)))


def stale_series(as_of: Mapping[str, dt.date], run_date: dt.date,
                 max_sessions: int = MAX_SESSIONS_BEHIND,
                 is_session: Callable[[str, dt.date], bool] | None = None) -> dict[str, str]:
    """Series whose data is too old for a market commentary on ``run_date``.

    :param as_of: series code → date of its last close (e.g. ``market.<CODE>.as_of``).
    :param run_date: the content run date.
    :param max_sessions: most sessions a close may lag (default 1: at most one close missing).
    :param is_session: trading calendar ``(code, day) -> bool``; weekdays when ``None``.
    :returns: code → Chinese reason (「上证指数数据截至 2025-04-21，落后 3 个交易日（上限 1 个）」
        uses the code; callers may substitute names), only for stale series; ``{}`` if fresh.
    """
    out = {}
    for code, day in sorted(as_of.items()):
        behind = sessions_behind(day, run_date, code, is_session)
        if behind > max_sessions:
            out[code] = (f"{code} 数据截至 {day.isoformat()}，落后 {behind} 个交易日"
                         f"（时效上限 {max_sessions} 个）")
    return out
