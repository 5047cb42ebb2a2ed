"""CLI: ``flask import customers|contacts|verifications FILE``, ``adds report``, ``coverage``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import and_, select, true

from app.auth.permissions import DataScope
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.unit_of_work import command_unit_of_work
from app.customers.adds import add_details, staff_summary
from app.customers.coverage import branch_coverage, staff_coverage
from app.customers.files import UnreadableFile
from app.customers.flags import flag_adds
from app.customers.imports import import_file, record_import
from app.customers.snapshots import take_snapshot
from app.customers.targets import progress, set_target
from app.org.models import Branch, User
from app.org.services import in_subtree, tree_order

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
        record_import(None, kind, path, Path(path).name, result)
        _echo_json(result.as_dict())

    command.__doc__ = (f"Import {kind} from a CSV or XLSX FILE; print "
                       '{"imported", "updated", "unchanged", "errors"} as JSON. '
                       "The audit log records the file's SHA-256 and counts. "
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
        payload["adds"] = [add.as_dict() for add in flag_adds(add_details(start, end, clause))]
    _echo_json(payload)


coverage_cli = AppGroup("coverage", help="Coverage rate 覆盖率.")
_DATE = click.DateTime(["%Y-%m-%d"])


@coverage_cli.command("report")
@click.option("--date", "on", required=True, type=_DATE, help="Date (Asia/Shanghai).")
@click.option("--branch", help="Branch code: that subtree only.")
def coverage_report_command(on, branch):
    """Print coverage per RM and segment, and per branch and segment, as JSON."""
    rows = staff_coverage(on.date(), _staff_clause(branch, None))
    _echo_json({"rows": [row.as_dict("staff") for row in rows],
                "branches": [row.as_dict("branch") for row in
                             branch_coverage(rows, _report_branches(branch))]})


def _report_branches(code: str | None) -> list[Branch]:
    statement = select(Branch)
    if code:
        root = db.session.scalar(select(Branch).where(Branch.code == code))
        statement = statement.where(in_subtree(root.path))
    return tree_order(db.session.scalars(statement))


@coverage_cli.command("snapshot")
@click.option("--date", "on", required=True, type=_DATE, help="Date (Asia/Shanghai).")
@command_unit_of_work
def coverage_snapshot_command(on):
    """Store the day's coverage per RM and segment and month-to-date adds (idempotent).

    The scheduler takes yesterday's snapshot every night; this takes any date by hand.
    """
    click.echo(json.dumps(take_snapshot(on.date()).as_dict()))


@coverage_cli.command("set-target")
@click.option("--segment", required=True, help="Segment code: private, vip, payroll, mass.")
@click.option("--from", "start", required=True, type=_DATE)
@click.option("--to", "end", required=True, type=_DATE)
@click.option("--rate", required=True, type=float, help="Target coverage rate, 0..1.")
@command_unit_of_work
def coverage_set_target_command(segment, start, end, rate):
    """Set the coverage target of a segment for a period."""
    try:
        set_target(segment, start.date(), end.date(), rate)
    except ValidationFailed as error:
        raise click.ClickException(error.message) from None


@coverage_cli.command("progress")
@click.option("--date", "on", required=True, type=_DATE, help="Date (Asia/Shanghai).")
@click.option("--branch", help="Branch code: that subtree only.")
def coverage_progress_command(on, branch):
    """Print each RM's coverage per segment against the target in force, as JSON."""
    rows = staff_coverage(on.date(), _staff_clause(branch, None))
    _echo_json({"rows": [p.as_dict() for p in progress(on.date(), rows)]})
