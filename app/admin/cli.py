"""CLI: ``flask users create|token`` (audited account changes), ``flask names check``.

``names check`` runs the compliance engine over staff and branch names.
"""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.admin import services as admin
from app.admin.names import mark_checked_names
from app.auth.services import issue_api_token
from app.core.clock import utcnow
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.unit_of_work import command_unit_of_work, unit_of_work
from app.org.models import Branch, Role, User

users_cli = AppGroup("users", help="User accounts.")


@users_cli.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice(["editor", "reviewer", "frontline", "manager", "admin"]),
              required=True)
@click.option("--branch", "branch_code", required=True, help="Branch code, e.g. HZ-XH.")
@click.password_option()
@command_unit_of_work
def create_user_command(username, display_name, role, branch_code, password):
    """Create a user account (password prompted, never echoed or logged).

    The password must meet the policy (``app.auth.passwords``); it is an initial password,
    so the user must change it at first login. The audit log gets a ``user_created`` entry
    without an actor (the system).
    """
    branch = db.session.scalar(select(Branch).where(Branch.code == branch_code))
    if branch is None:
        raise click.ClickException(f"unknown branch code {branch_code}")
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise click.ClickException(f"user {username} exists")
    try:
        admin.create_user(None, username, display_name, Role(role), branch.id, None, password,
                          utcnow())
    except ValidationFailed as error:
        messages = (error.errors or {}).get("password") or [error.message]
        raise click.ClickException("；".join(messages)) from None
    click.echo(f"created {username} (must change the password at first login)")


@users_cli.command("token")
@click.argument("username")
@command_unit_of_work
def token_command(username):
    """Issue a new API token for USERNAME and print it once."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"unknown user {username}")
    token = issue_api_token(user)
    click.echo(token)


names_cli = AppGroup("names", help="Compliance of staff display names and branch names.")


@names_cli.command("check")
def check_names_command():
    """Check every name not checked on save, once each; mark the clean ones.

    Prints ``{"checked", "marked", "refused": [{"type", "id", "name", "message"}]}``; exits
    1 when a name has a blocking finding (rename it in 系统管理), else 0; the clean names
    are marked (committed) either way. Safe to run again.
    """
    with unit_of_work():
        result = mark_checked_names()
    click.echo(json.dumps(result, ensure_ascii=False))
    if result["refused"]:
        raise SystemExit(1)
