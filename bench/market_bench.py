"""Timing of the market path on a fresh SQLite database, with a floor from the same run.

Run: ``.venv/bin/python bench/market_bench.py [--date 2025-04-25] [--repeat 3]``.

Times, for every registered series over ``MARKET_HISTORY_DAYS``: the snapshot provider
alone (cold and warm CSV cache), ``refresh_market_data`` (first load, then an idempotent
re-run that upserts the same rows), ``market_context``, ``render_charts`` (3 PNGs), and as
a floor a plain DBAPI ``executemany`` INSERT of the same number of bar-sized rows into a
scratch table. Prints numbers only (best of ``repeat``); asserts only row counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from app.core.extensions import db  # noqa: E402
from app.factory import create_app  # noqa: E402
from app.market.charts import render_charts  # noqa: E402
from app.market.instruments import SERIES_CODES  # noqa: E402
from app.market.models import PriceBar  # noqa: E402
from app.market.providers import get_provider  # noqa: E402
from app.market.services import market_context, refresh_market_data  # noqa: E402
from bench.timing import best  # noqa: E402
from config import TestConfig  # noqa: E402


def provider_read(run_date: dt.date, days: int) -> int:
    provider = get_provider()
    start = run_date - dt.timedelta(days=days)
    return sum(len(provider.daily_bars(code, start, run_date)) for code in SERIES_CODES)


def insert_floor(rows: int) -> float:
    connection = db.engine.raw_connection()
    cursor = connection.cursor()
    cursor.execute("CREATE TABLE scratch (code TEXT, day TEXT, o REAL, h REAL, l REAL, "
                   "c REAL, v REAL, src TEXT, at TEXT)")
    data = [("SSE", f"d{i}", 1.0, 2.0, 0.5, 1.5, 9.0, "snapshot", "t") for i in range(rows)]
    start = time.perf_counter()
    cursor.executemany("INSERT INTO scratch VALUES (?,?,?,?,?,?,?,?,?)", data)
    connection.commit()
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--date", default="2025-04-25")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run_date = dt.date.fromisoformat(args.date)
    base = Path(tempfile.mkdtemp(prefix="market_bench_"))
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=f"sqlite:///{base / 'b.sqlite3'}",
                     CHART_OUTPUT_DIR=str(base / "charts"), LOG_LEVEL="WARNING")
    with app.app_context():
        upgrade()
        days = int(app.config["MARKET_HISTORY_DAYS"])
        cold, bars = best(lambda: provider_read(run_date, days), 1)
        warm, _ = best(lambda: provider_read(run_date, days), args.repeat)
        first, _ = best(lambda: refresh_market_data(run_date), 1)
        db.session.commit()
        rows = db.session.scalar(select(func.count()).select_from(PriceBar))
        again, _ = best(lambda: refresh_market_data(run_date), args.repeat)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(PriceBar)) == rows
        context, _ = best(lambda: market_context(run_date), args.repeat)
        charts, results = best(lambda: render_charts(run_date), args.repeat)
        db.session.commit()
        floor = insert_floor(rows)
        db.session.execute(text("DROP TABLE scratch"))
    print(f"series={len(SERIES_CODES)} bars={bars} rows_stored={rows} date={run_date}")
    print(f"provider read      cold {cold * 1000:8.1f} ms   warm {warm * 1000:8.1f} ms")
    print(f"refresh (insert)        {first * 1000:8.1f} ms   floor executemany "
          f"{floor * 1000:8.1f} ms")
    print(f"refresh (upsert again)  {again * 1000:8.1f} ms")
    print(f"market_context          {context * 1000:8.1f} ms")
    print(f"render_charts ({len(results)} PNG)  {charts * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
