"""Read the bundled snapshot CSVs directly, to compare with what the code returns."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from app.market.instruments import get_series

SNAPSHOT_DIR = Path(__file__).resolve().parents[2] / "app" / "market" / "snapshot"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def csv_rows(code: str) -> dict[dt.date, dict[str, str]]:
    """Trade date → raw CSV row (strings) of a direct series in the bundle."""
    path = SNAPSHOT_DIR / get_series(code).snapshot_file
    with path.open(newline="", encoding="utf-8") as handle:
        return {dt.date.fromisoformat(row["Date"]): row for row in csv.DictReader(handle)}


def csv_close(code: str, day: dt.date) -> float:
    return float(csv_rows(code)[day]["Close"])


def last_two_closes(code: str, run_date: dt.date) -> tuple[tuple[dt.date, float], ...]:
    rows = csv_rows(code)
    days = sorted(day for day in rows if day <= run_date)[-2:]
    return tuple((day, float(rows[day]["Close"])) for day in days)
