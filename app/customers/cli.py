"""CLI: ``flask import customers|contacts|verifications FILE``, ``adds report``, ``coverage``."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import and_, select, true

from app.auth.permissions import DataScope
from app.core.extensions import db
from app.core.unit_of_work import command_unit_of_work
from app.customers.adds import add_details, staff_summary
from app.customers.files import UnreadableFile
from app.customers.imports import import_file
from app.org.models import Branch, User

import_cli = AppGroup("import", help="Import the customer book, WeCom contacts, verifications.")

#: Exit status when the file cannot be read at all (not CSV or XLSX, no recognisable header).
EXIT_UNREADABLE = 2


def _echo_json(payload: dict) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, default=str))


def _import_command(kind: str):
    @click.argument("path", type=click.Path(dir_okay=False))
    @command_unit_of_work
    def command(path: str):
        with click.progressbar(length=1, label=f"importing {kind}", file=sys.stderr) as bar:
            def progress(position: int, size: int) -> None:
                bar.length = max(size, 1)
                bar.update(position - bar.pos)

            try:
                result = import_file(kind, path, progress=progress)
            except UnreadableFile as error:
                _echo_json({"error": error.message})
                raise SystemExit(EXIT_UNREADABLE) from None
        _echo_json(result.as_dict())

    command.__doc__ = (f"Import {kind} from a CSV or XLSX FILE; print "
                       '{"imported", "updated", "unchanged", "errors"} as JSON. '
                       f"Exit 2 when the file cannot be read.")
    return command


for _kind in ("customers", "contacts", "verifications"):
    import_cli.command(_kind)(_import_command(_kind))


adds_cli = AppGroup("adds", help="Valid adds 有效添加.")


def _staff_clause(branch_code: str | None, username: str | None):
    """Scope of a CLI report: a branch subtree and/or one staff member (ClickException else)."""
    clauses = []
    if branch_code:
        branch = db.session.scalar(select(Branch).where(Branch.code == branch_code))
        if branch is None:
            raise click.ClickException(f"no branch with code {branch_code}")
        clauses.append(DataScope(branch_path=branch.path).staff_clause)
    if username:
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            raise click.ClickException(f"no user {username}")
        clauses.append(lambda column: column == user_id)
    return lambda column: and_(true(), *[clause(column) for clause in clauses])


@adds_cli.command("report")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First add date (Asia/Shanghai), inclusive.")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Last add date, inclusive.")
@click.option("--branch", help="Branch code: that subtree only.")
@click.option("--staff", help="Username: that staff member only.")
@click.option("--details", is_flag=True, help="Also list every add with reasons and flags.")
def adds_report_command(start, end, branch, staff, details):
    """Print valid adds per staff member (and per add with --details) as JSON."""
    clause = _staff_clause(branch, staff)
    start, end = start.date(), end.date()
    payload = {"staff": [row.as_dict() for row in staff_summary(start, end, clause)]}
    if details:
        payload["adds"] = [add.as_dict() for add in add_details(start, end, clause)]
    _echo_json(payload)
