"""CLI: ``flask market ...`` (refresh bars, render charts, rebuild the snapshot)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.core.clock import business_today
from app.core.unit_of_work import command_unit_of_work
from app.market.charts import render_charts
from app.market.services import refresh_market_data
from app.market.snapshot_build import build_snapshot

market_cli = AppGroup("market", help="Market data 行情数据.")


def _run_date(value: dt.datetime | None) -> dt.date:
    if value is not None:
        return value.date()

    return business_today()


_DATE = click.option(
    "--date", "run_date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
    help="Run date YYYY-MM-DD (default: business today in Asia/Shanghai).",
)


@market_cli.command("refresh")
@_DATE
@command_unit_of_work
def refresh_command(run_date: dt.datetime | None) -> None:
    """Load bars from the configured provider; print {series: as_of} as JSON."""
    as_of = refresh_market_data(_run_date(run_date))
    click.echo(json.dumps({code: day.isoformat() for code, day in as_of.items()}))


@market_cli.command("charts")
@_DATE
@command_unit_of_work
def charts_command(run_date: dt.datetime | None) -> None:
    """Render the chart specs from stored bars; print the results as a JSON list."""
    results = render_charts(_run_date(run_date))
    click.echo(json.dumps([
        {"spec": r.spec, "path": r.path, "url": r.url, "as_of": r.as_of,
         "chart_image_id": r.chart_image_id}
        for r in results
    ], ensure_ascii=False))


@market_cli.command("build-snapshot")
@click.argument("source_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def build_snapshot_command(source_dir: Path) -> None:
    """Rebuild MARKET_SNAPSHOT_DIR's CSVs from the shared market-data folder."""
    report = build_snapshot(source_dir, Path(current_app.config["MARKET_SNAPSHOT_DIR"]))
    click.echo(json.dumps(report))
