"""CLI: ``flask audit verify``."""

import click
from flask.cli import AppGroup

from app.audit.chain import verify

audit_cli = AppGroup("audit", help="The audit log 审计日志.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the hash chain; print the first broken link and exit 1, else exit 0."""
    result = verify()
    if result.ok:
        click.echo(f"audit log OK: {result.checked} entries, chain intact")
        return
    where = f"entry {result.broken_id}" if result.broken_id is not None else "chain head"
    click.echo(f"audit log BROKEN at {where} after {result.checked} good entries: "
               f"{result.reason}", err=True)
    raise SystemExit(1)
