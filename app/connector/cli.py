"""CLI: ``flask wecom push|pull|sync-contacts|fake``; each prints a JSON summary."""

from __future__ import annotations

import json
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from app.connector import contacts_sync, tasks
from app.core.clock import business_today
from app.core.extensions import db
from app.core.unit_of_work import unit_of_work
from app.wecom.errors import WeComError
from app.wecom.fake import CallbackDriver, FakeWeCom, start_fake_wecom
from app.wecom.fake.base import FakeClock
from app.wecom.fake.simulation import run_simulation
from app.wecom.setup import business_clock, wecom_client, wecom_enabled

wecom_cli = AppGroup("wecom", help="WeCom 企业微信 connector: push, pull, contacts.")


#: ``YYYY-MM-DD`` options (click parses and reports a bad date itself).
DATE = click.DateTime(formats=["%Y-%m-%d"])


def _client():
    if not wecom_enabled():
        raise click.ClickException("WeCom is not configured (set WECOM_CORP_ID and "
                                   "WECOM_SECRET); the product runs in manual mode")
    return wecom_client()


def _echo(summary: dict) -> None:
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2))


@wecom_cli.command("push")
@click.option("--date", "run_date", type=DATE, help="Run date YYYY-MM-DD (default today).")
def push_command(run_date):
    """Push a date's 群发 / 朋友圈 posts to WeCom, send cancels and reminders."""
    _client()
    try:
        with unit_of_work():
            day = run_date.date() if run_date else business_today()
            summary = tasks.push_day(day.isoformat())
    except WeComError as error:
        raise click.ClickException(str(error)) from error
    _echo(summary)


@wecom_cli.command("pull")
@click.option("--from", "start", type=DATE, required=True, help="First run date.")
@click.option("--to", "end", type=DATE, required=True, help="Last run date (inclusive).")
@click.option("--behavior/--no-behavior", "with_behavior", default=True,
              help="Also staff behaviour data.")
def pull_command(start, end, with_behavior):
    """Pull measured results (mass messages, Moments, staff behaviour) for run dates."""
    start, end = start.date(), end.date()
    if end < start:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    _client()
    try:
        with unit_of_work():
            summary = tasks.pull_days(start.isoformat(), end.isoformat(), with_behavior)
    except WeComError as error:
        raise click.ClickException(str(error)) from error
    _echo(summary)


@wecom_cli.command("sync-contacts")
def sync_contacts_command():
    """Read every member's customers from WeCom into the contact events (idempotent)."""
    client = _client()
    try:
        with unit_of_work():
            summary = contacts_sync.sync_contacts(client, db.session.commit)
    except WeComError as error:
        raise click.ClickException(str(error)) from error
    _echo(summary)


@wecom_cli.command("fake")
@click.option("--port", default=5055, show_default=True, help="Loopback port of the fake.")
@click.option("--app-url", default="http://127.0.0.1:5000", show_default=True,
              help="Where the app runs (callbacks go to <app-url>/wecom/callback).")
@click.option("--customers", default=20, show_default=True, help="Customers per staff member.")
@click.option("--every", default=10.0, show_default=True, help="Seconds between rounds.")
def fake_command(port, app_url, customers, every):
    """Demo: serve a fake WeCom on loopback with simulated staff and customers (Ctrl+C stops).

    Links the demo's front-line users to WeCom userids (their usernames) if unset; use
    with ``WECOM_API_BASE=http://127.0.0.1:<port>/cgi-bin/`` (``make run WECOM_FAKE=1``).
    """
    config = current_app.config
    with unit_of_work():
        userids = contacts_sync.link_demo_staff()
    fake = FakeWeCom(corp_id=config.get("WECOM_CORP_ID") or "wwfakecorp",
                     secret=config.get("WECOM_SECRET") or "fake-secret",
                     clock=FakeClock(), dispatch_seconds=5)
    fake.clock.offset = business_clock(current_app)() - fake.clock()
    for userid in userids:
        fake.add_staff(userid, customers=customers, prefix=userid)
    start_fake_wecom(fake, port=port)
    driver = None
    if config.get("WECOM_CALLBACK_TOKEN") and config.get("WECOM_CALLBACK_AES_KEY"):
        driver = CallbackDriver(f"{app_url}/wecom/callback", token=config["WECOM_CALLBACK_TOKEN"],
                                aes_key=config["WECOM_CALLBACK_AES_KEY"], corp_id=fake.corp_id)
    click.echo(f"fake WeCom at {fake.base_url} with {len(userids)} staff (Ctrl+C to stop)")
    stop = threading.Event()
    try:
        run_simulation(fake, stop, every_seconds=every, driver=driver)
    except KeyboardInterrupt:
        stop.set()
    finally:
        fake.stop()
