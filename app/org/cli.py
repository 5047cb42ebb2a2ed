"""CLI: ``flask demo seed|logins`` and ``flask users create|token``."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db

demo_cli = AppGroup("demo", help="Demo data.")
users_cli = AppGroup("users", help="User accounts.")


@demo_cli.command("seed")
@click.option("--days", default=30, show_default=True, help="Run dates (weekdays) to generate.")
def seed_command(days: int):
    """Seed the demo bank once (idempotent; deterministic)."""
    from app.org.demo import seed

    if not current_app.config.get("ALLOW_DEMO_ACCOUNTS"):
        raise click.ClickException("demo accounts are not allowed in this configuration")
    end_date = dt.date.fromisoformat(current_app.config["DEMO_DATE"])
    try:
        result = seed(current_app.config["DEMO_PASSWORD"], end_date, days)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if not result.created:
        click.echo("demo data already present; nothing changed")
        return
    click.echo(f"demo seeded: {result.users} users, {result.templates} templates, "
               f"{result.plans} SOP plans, {result.days} days, {result.posts} posts, "
               f"{result.tasks} tasks, {result.events} interaction events")


@demo_cli.command("logins")
def logins_command():
    """Print the demo logins and the demo password."""
    from app.org.demo import demo_usernames
    from app.org.models import User

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


@users_cli.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice(["editor", "reviewer", "frontline", "manager", "admin"]),
              required=True)
@click.option("--branch", "branch_code", required=True, help="Branch code, e.g. HZ-XH.")
@click.password_option()
def create_user_command(username, display_name, role, branch_code, password):
    """Create a user account (password prompted, never echoed or logged)."""
    from app.auth.services import hash_password
    from app.org.models import Branch, Role, User

    branch = db.session.scalar(select(Branch).where(Branch.code == branch_code))
    if branch is None:
        raise click.ClickException(f"unknown branch code {branch_code}")
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise click.ClickException(f"user {username} exists")
    db.session.add(User(username=username, display_name=display_name, role=Role(role),
                        branch=branch, password_hash=hash_password(password)))
    db.session.commit()
    click.echo(f"created {username}")


@users_cli.command("token")
@click.argument("username")
def token_command(username):
    """Issue a new API token for USERNAME and print it once."""
    from app.auth.services import issue_api_token
    from app.org.models import User

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"unknown user {username}")
    token = issue_api_token(user)
    db.session.commit()
    click.echo(token)
