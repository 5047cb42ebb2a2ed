"""The latest date with a bar of every stored series, for one date or many at once."""

import datetime as dt

import pytest
from sqlalchemy import event, select

from app.content.rendering import latest_market_date, latest_market_dates
from app.market.models import PriceBar

D = dt.date
#: Around the Lunar New Year (Shanghai closed 2025-01-28 .. 02-04), a weekend, the first
#: bars of the session's history and days after its last bar.
DAYS = [D(2024, 1, 1), D(2024, 4, 29), D(2024, 4, 30), D(2025, 1, 25), D(2025, 1, 26),
        D(2025, 1, 27), D(2025, 1, 28), D(2025, 1, 31), D(2025, 2, 3), D(2025, 2, 5),
        D(2025, 4, 24), D(2025, 4, 25), D(2025, 4, 26), D(2025, 5, 10)]


def _by_hand(db, day):
    """The smallest of the series' last trade dates up to ``day``, from all stored bars."""
    last = {}
    for code, trade_date in db.session.execute(select(PriceBar.series_code, PriceBar.trade_date)):
        if trade_date <= day:
            last[code] = max(trade_date, last.get(code, trade_date))
    return min(last.values(), default=None)


def test_many_dates_answer_as_each_date_alone(db):
    alone = {day: latest_market_date(day) for day in DAYS}
    assert alone == {day: _by_hand(db, day) for day in DAYS}
    assert latest_market_dates(reversed(DAYS)) == alone
    assert alone[D(2024, 1, 1)] is None  # before the stored history
    assert alone[D(2025, 5, 10)] == alone[D(2025, 4, 25)] is not None
    assert alone[D(2025, 1, 26)] == alone[D(2025, 1, 25)]  # a weekend adds no bar


@pytest.mark.parametrize("count", [1, 30])
def test_many_dates_cost_two_queries(db, count):
    statements = []

    def collect(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):  # not the session's SAVEPOINT
            statements.append(statement)

    days = [D(2025, 3, 3) + dt.timedelta(days=i) for i in range(count)]
    event.listen(db.engine, "before_cursor_execute", collect)
    try:
        latest_market_dates(days)
    finally:
        event.remove(db.engine, "before_cursor_execute", collect)
    assert len(statements) == min(count, 2)
