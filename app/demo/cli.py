"""CLI: ``flask demo seed``, ``flask demo logins`` and ``flask demo adds`` (synthetic adds)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.auth.services import hash_password
from app.core.extensions import db
from app.core.unit_of_work import command_unit_of_work
from app.demo.seed import demo_usernames, seed
from app.demo.synthetic_adds import ensure_synthetic_staff, generate, write_population
from app.org.models import User

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--days", default=30, show_default=True, help="Run dates (weekdays) to generate.")
@command_unit_of_work
def seed_command(days: int):
    """Seed the demo bank once (idempotent; deterministic)."""
    if not current_app.config.get("ALLOW_DEMO_ACCOUNTS"):
        raise click.ClickException("demo accounts are not allowed in this configuration")
    end_date = dt.date.fromisoformat(current_app.config["DEMO_DATE"])
    result = seed(current_app.config["DEMO_PASSWORD"], end_date, days)
    if not result.created:
        click.echo("demo data already present; nothing changed")
        return
    click.echo(f"demo seeded: {result.users} users, {result.templates} templates, "
               f"{result.plans} SOP plans, {result.days} days, {result.posts} posts, "
               f"{result.tasks} tasks, {result.events} interaction events, "
               f"{result.customers} customers with contacts and verifications")


@demo_cli.command("logins")
def logins_command():
    """Print the demo logins and the demo password."""
    users = {u.username: u for u in db.session.scalars(select(User).where(User.is_demo))}
    password = current_app.config["DEMO_PASSWORD"]
    click.echo(f"演示账号 demo logins (password: {password})")
    for username in demo_usernames():
        user = users.get(username)
        if user is not None and (not username.startswith("rm") or username <= "rm003"):
            click.echo(f"  {username:<12} {user.role_label}  {user.branch.name}")
    frontline = [u for u in users if u.startswith("rm")]
    if frontline:
        click.echo(f"  … front-line staff rm001–{max(frontline)}")
    click.echo("Open http://127.0.0.1:5000 and log in.")


@demo_cli.command("adds")
@click.option("--staff", "staff_count", default=50, show_default=True,
              help="Synthetic relationship managers (syn-rm-0001…).")
@click.option("--seed", default=1, show_default=True, help="Random seed (deterministic).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for customers.csv, contacts.csv, verifications.csv, labels.csv.")
@command_unit_of_work
def adds_command(staff_count: int, seed: int, out_dir: str):
    """Write a labelled SYNTHETIC population of adds (and create its synthetic staff)."""
    if not current_app.config.get("ALLOW_DEMO_ACCOUNTS"):
        raise click.ClickException("demo accounts are not allowed in this configuration")
    staff = ensure_synthetic_staff(staff_count, hash_password(current_app.config["DEMO_PASSWORD"]))
    counts = write_population(generate(staff, seed), Path(out_dir))
    click.echo(json.dumps({"synthetic": True, "out": out_dir, **counts}))
