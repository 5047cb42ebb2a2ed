"""Read the bundled snapshot CSVs directly, to compare with what the code returns."""

from __future__ import annotations

import csv
import datetime as dt
import functools
from pathlib import Path
from zoneinfo import ZoneInfo

from app.market.instruments import get_series

SNAPSHOT_DIR = Path(__file__).resolve().parents[2] / "app" / "market" / "snapshot"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@functools.cache
def csv_rows(code: str) -> dict[dt.date, dict[str, str]]:
    """Trade date → raw CSV row (strings) of a direct series in the bundle.

    Read once per session (the bundle does not change during a run): do not modify it.
    """
    path = SNAPSHOT_DIR / get_series(code).snapshot_file
    with path.open(newline="", encoding="utf-8") as handle:
        return {dt.date.fromisoformat(row["Date"]): row for row in csv.DictReader(handle)}


def csv_close(code: str, day: dt.date) -> float:
    return float(csv_rows(code)[day]["Close"])


def publication_cutoff(run_date: dt.date, cutoff_time: dt.time = dt.time(8, 0)) -> dt.datetime:
    """The default market cutoff: ``run_date`` at 08:00 Asia/Shanghai (MARKET_CUTOFF_TIME)."""
    return dt.datetime.combine(run_date, cutoff_time, tzinfo=ZoneInfo("Asia/Shanghai"))


def published_days(code: str, run_date: dt.date, cutoff_time: dt.time = dt.time(8, 0),
                   ) -> list[dt.date]:
    """CSV trade dates of ``code`` whose bar is published by the cutoff, ascending.

    Derived series use the dates both legs have (and have published).
    """
    return list(_published_days(code, run_date, cutoff_time))


@functools.cache
def _published_days(code: str, run_date: dt.date, cutoff_time: dt.time) -> tuple[dt.date, ...]:
    series = get_series(code)
    legs = (series.left, series.right) if series.is_derived else (code,)
    days = set.intersection(*(set(csv_rows(leg)) for leg in legs))
    cutoff = publication_cutoff(run_date, cutoff_time)
    return tuple(sorted(day for day in days if series.published_at(day) <= cutoff))


def last_two_published(code: str, run_date: dt.date, cutoff_time: dt.time = dt.time(8, 0),
                       ) -> tuple[tuple[dt.date, float], ...]:
    """The last two (date, CSV close) of a direct series published by the cutoff."""
    rows = csv_rows(code)
    days = published_days(code, run_date, cutoff_time)[-2:]
    return tuple((day, float(rows[day]["Close"])) for day in days)
