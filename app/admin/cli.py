"""CLI: ``flask names check`` (compliance of staff and branch names)."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from app.admin.names import mark_checked_names
from app.core.unit_of_work import unit_of_work

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
