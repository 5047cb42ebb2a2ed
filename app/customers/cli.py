"""CLI: ``flask import customers|contacts|verifications FILE``, ``adds report``, ``coverage``."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from app.core.unit_of_work import command_unit_of_work
from app.customers.files import UnreadableFile
from app.customers.imports import import_file

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
