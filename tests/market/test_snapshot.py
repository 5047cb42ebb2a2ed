import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest

from app.market.instruments import SERIES, DerivedSeries, get_series
from app.market.snapshot_build import build_snapshot, read_yfinance_rows
from tests.market.helpers import FIXTURES, SNAPSHOT_DIR, csv_rows

SHARED = Path(__file__).resolve().parents[3] / "shared" / "market-data"


def test_every_direct_series_has_a_bundled_file_with_recent_rows():
    for series in SERIES.values():
        if isinstance(series, DerivedSeries):
            assert series.snapshot_file is None and series.is_derived
            assert "推算" in series.source
            continue
        rows = csv_rows(series.code)
        assert min(rows) >= dt.date(2023, 1, 1)
        assert max(rows) >= dt.date(2026, 2, 23), series.code
        assert all(day.weekday() < 5 for day in rows), series.code
    assert (SNAPSHOT_DIR / "SOURCES.md").read_text(encoding="utf-8").count("raw/") >= 2


def test_raw_merge_extends_hsi_to_march_2026_with_raw_values():
    rows = csv_rows("HSI")
    raw = read_yfinance_rows(FIXTURES / "yf_download_HSI.csv")
    assert max(rows) == dt.date(2026, 3, 6)
    for day in (dt.date(2025, 9, 8), dt.date(2026, 3, 6)):
        assert [rows[day][k] for k in ("Open", "High", "Low", "Close", "Volume")] == raw[day]
    assert not any(dt.date(2025, 4, 30) <= day < dt.date(2025, 9, 8) for day in rows)


def test_get_series_unknown_code():
    assert get_series("SSE").yahoo_symbol == "000001.SS"
    with pytest.raises(KeyError, match="unknown market series"):
        get_series("XXX")


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([["Date", "Open", "High", "Low", "Close", "Volume"], *rows])


def test_build_snapshot_trims_drops_weekends_merges_raw_and_keeps_strings(tmp_path):
    source = tmp_path / "src"
    raw_dir = source / "raw" / "yfinance-multiindex-2025-09_2026-03"
    raw_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "yf_download_HSI.csv", raw_dir / "^HSI.csv")
    for series in SERIES.values():
        if series.snapshot_file:
            _write(source / series.snapshot_file, [
                ["2022-12-30", "1", "1", "1", "1.0", "0"],
                ["2025-09-06", "9", "9", "9", "9.0", "0"],  # a Saturday
                ["2025-09-08", "1.50", "2.50", "0.50", "2.0000", "7"],
            ])
    report = build_snapshot(source, tmp_path / "out")
    with (tmp_path / "out" / "hang_seng_HSI.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows[1] == ["2025-09-08", "1.50", "2.50", "0.50", "2.0000", "7"]  # normalized wins
    assert rows[2][0] == "2025-09-09" and rows[-1][0] == "2026-03-06"
    assert report["hang_seng_HSI.csv"] == {"rows": 121, "from_raw": 120, "dropped_weekend": 1}
    assert report["sse_composite_000001.SS.csv"]["rows"] == 1


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared market-data folder not present")
def test_bundle_is_reproducible_from_the_shared_folder(tmp_path):
    build_snapshot(SHARED, tmp_path)
    for series in SERIES.values():
        if series.snapshot_file:
            expected = (SNAPSHOT_DIR / series.snapshot_file).read_bytes()
            assert (tmp_path / series.snapshot_file).read_bytes() == expected
