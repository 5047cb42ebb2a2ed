"""Trading sessions per series: exchange holidays from exchange-calendars, else weekdays."""

import datetime as dt

from app.market.sessions import is_session


def test_sessions_follow_each_exchange():
    assert not is_session("SSE", dt.date(2025, 1, 29))  # Lunar New Year
    assert is_session("HSI", dt.date(2025, 1, 28)) and not is_session("HSI", dt.date(2025, 1, 29))
    assert is_session("IXIC", dt.date(2025, 1, 29))
    assert not is_session("IXIC", dt.date(2025, 1, 20))  # Martin Luther King Jr. Day
    assert is_session("USDCNY", dt.date(2025, 1, 29))  # FX: weekdays
    assert not is_session("GOLD", dt.date(2025, 2, 1))  # a Saturday


def test_days_beyond_the_calendar_count_as_weekdays():
    assert is_session("SSE", dt.date(2090, 1, 2)) and not is_session("SSE", dt.date(2090, 1, 1))
