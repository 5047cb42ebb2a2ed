"""Build the bundled market snapshot from the shared market-data folder.

The bundle in ``app/market/snapshot/`` was produced by ``build_snapshot`` (CLI:
``flask market build-snapshot SOURCE_DIR``). Rules, also written in the bundle's
``SOURCES.md``:

* only the files named by ``app.market.instruments.SERIES`` are copied;
* rows before ``start`` (2023-01-01) and Saturday/Sunday rows are dropped;
* rows from ``raw/yfinance-multiindex-*/<symbol>.csv`` are appended only for dates
  the normalized file does not have;
* every number is copied as the source string, byte for byte (no value edited).
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from pathlib import Path

import pandas as pd

from app.market.instruments import SERIES

logger = logging.getLogger(__name__)

HEADER = ["Date", "Open", "High", "Low", "Close", "Volume"]
SNAPSHOT_START = dt.date(2023, 1, 1)


def _keep(day: dt.date, start: dt.date) -> bool:
    return day >= start and day.weekday() < 5


def read_normalized_rows(path: Path) -> dict[dt.date, list[str]]:
    """Read a normalized ``Date,Open,High,Low,Close,Volume`` CSV as raw strings.

    :param path: a CSV file with that header.
    :returns: trade date → ``[open, high, low, close, volume]`` strings, unparsed.
    """
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if header != HEADER:
            raise ValueError(f"{path.name}: unexpected header {header}")
        return {dt.date.fromisoformat(row[0]): row[1:] for row in reader if row}


def read_yfinance_rows(path: Path) -> dict[dt.date, list[str]]:
    """Read a yfinance ``download().to_csv()`` file (3 header lines) as raw strings.

    :param path: CSV whose column levels are ``Price`` and ``Ticker``.
    :returns: trade date → ``[open, high, low, close, volume]`` strings, unparsed.
    """
    frame = pd.read_csv(path, header=[0, 1], index_col=0, dtype=str)
    frame.columns = frame.columns.get_level_values(0)
    rows = {}
    for stamp, values in frame.iterrows():
        rows[dt.date.fromisoformat(str(stamp)[:10])] = [
            values[name] for name in ("Open", "High", "Low", "Close", "Volume")
        ]
    return rows


def _raw_dir(source_dir: Path) -> Path | None:
    candidates = sorted((source_dir / "raw").glob("yfinance-multiindex-*"))
    return candidates[-1] if candidates else None


def build_snapshot(
    source_dir: Path, dest_dir: Path, start: dt.date = SNAPSHOT_START
) -> dict[str, dict[str, int]]:
    """Copy, trim and merge the snapshot CSVs the registry needs.

    :param source_dir: the shared market-data folder (normalized CSVs plus ``raw/``).
    :param dest_dir: the bundle folder to (over)write, e.g. ``app/market/snapshot``.
    :param start: first trade date kept.
    :returns: per written file ``{"rows": n, "from_raw": m, "dropped_weekend": k}``.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    raw_dir = _raw_dir(source_dir)
    report = {}
    for series in SERIES.values():
        if series.snapshot_file is None:
            continue
        rows = read_normalized_rows(source_dir / series.snapshot_file)
        added: set[dt.date] = set()
        raw_path = raw_dir / f"{series.yahoo_symbol}.csv" if raw_dir else None
        if raw_path is not None and raw_path.exists():
            for day, values in read_yfinance_rows(raw_path).items():
                if day not in rows:
                    rows[day] = values
                    added.add(day)
        weekend = sum(1 for day in rows if day >= start and day.weekday() >= 5)
        kept = sorted(day for day in rows if _keep(day, start))
        with (dest_dir / series.snapshot_file).open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(HEADER)
            writer.writerows([day.isoformat(), *rows[day]] for day in kept)
        report[series.snapshot_file] = {
            "rows": len(kept),
            "from_raw": sum(1 for day in kept if day in added),
            "dropped_weekend": weekend,
        }
        logger.info("snapshot %s: %s", series.snapshot_file, report[series.snapshot_file])
    return report
