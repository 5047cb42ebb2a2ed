"""One import engine for customers, contacts and verifications: stream, parse, batch, upsert.

A file is read row by row (``app.customers.files``), each row parsed on its own
(``app.customers.import_rows``: a bad row becomes an error with its line number, the good
rows are kept), and the parsed rows are written in batches of ``IMPORT_BATCH_ROWS``
(``app.customers.writers``). Memory stays bounded by the batch size whatever the file size.
The caller owns the unit of work: the CLI commits once at the end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app

from app.audit.chain import record
from app.core.clock import utcnow
from app.customers.files import Cell, UnreadableFile, open_table
from app.customers.import_rows import KINDS, PARSERS, Kind, RowError, header_key
from app.customers.writers import WRITERS, Counts, ImportContext

logger = logging.getLogger(__name__)


@dataclass
class ImportResult:
    """What an import did: counts of rows new, changed and unchanged, and per-row errors.

    ``errors`` holds at most ``IMPORT_MAX_ERRORS`` entries ``{"line": n, "message": "…"}``
    sorted by line; ``error_count`` counts them all.
    """

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0

    def as_dict(self) -> dict:
        """The JSON contract: ``{"imported", "updated", "unchanged", "errors"}``."""
        return {"imported": self.imported, "updated": self.updated,
                "unchanged": self.unchanged, "errors": self.errors}

    def add(self, counts: Counts) -> None:
        """Add one batch's counts."""
        self.imported += counts.imported
        self.updated += counts.updated
        self.unchanged += counts.unchanged


def column_map(kind: Kind, header: list[str]) -> dict[str, int]:
    """Canonical field → column index, from canonical or Chinese header names.

    :raises UnreadableFile: a required column is missing (message lists them in Chinese).
    """
    names = {}
    for fieldname, aliases in kind.aliases.items():
        for alias in (fieldname, *aliases):
            names[header_key(alias)] = fieldname
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        fieldname = names.get(header_key(cell))
        if fieldname is not None and fieldname not in columns:
            columns[fieldname] = index
    missing = [name for name in kind.required if name not in columns]
    if missing:
        raise UnreadableFile(f"无法识别表头：缺少列 {'、'.join(missing)}（{kind.label}）")
    return columns


def _cells(row: list[Cell], columns: dict[str, int]) -> dict[str, Cell]:
    return {name: row[index] if index < len(row) else None for name, index in columns.items()}


class _Run:
    """State of one import run: the batch being filled, the result, the error sink."""

    def __init__(self, kind: Kind, effective_at: dt.datetime, batch_rows: int,
                 max_errors: int) -> None:
        self.kind, self.batch_rows, self.max_errors = kind, batch_rows, max_errors
        self.result = ImportResult()
        self.context = ImportContext(effective_at=effective_at, error=self.error)
        self.batch: list[tuple[int, dict]] = []
        self.keys: set[tuple] = set()

    def error(self, line: int, message: str) -> None:
        self.result.error_count += 1
        if len(self.result.errors) < self.max_errors:
            self.result.errors.append({"line": line, "message": message})

    def add(self, line: int, record: dict) -> None:
        key = tuple(record[name] for name in self.kind.key)
        if key in self.keys:  # the same row twice in a batch: the later one is compared
            self.flush()
        self.batch.append((line, record))
        self.keys.add(key)
        if len(self.batch) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            self.result.add(WRITERS[self.kind.name](self.batch, self.context))
        self.batch, self.keys = [], set()


def import_file(kind_name: str, path: str | Path, *, effective_at: dt.datetime | None = None,
                progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Import a customers, contacts or verifications file (CSV or XLSX) in batches.

    :param kind_name: ``customers``, ``contacts`` or ``verifications``.
    :param path: the file; see ``app.customers.files.open_table`` for what is read.
    :param effective_at: aware instant at which a change of a customer's RM takes effect;
        default now.
    :param progress: called after each batch with (position, size) in the file's unit.
    :returns: the :class:`ImportResult`; bad rows are listed with their line numbers and the
        good rows are written (flushed, not committed).
    :raises UnreadableFile: the file cannot be read at all, or has no recognisable header.
    :raises KeyError: unknown ``kind_name``.
    """
    kind, parse = KINDS[kind_name], PARSERS[kind_name]
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    run = _Run(kind, effective_at or utcnow(), current_app.config["IMPORT_BATCH_ROWS"],
               current_app.config["IMPORT_MAX_ERRORS"])
    with open_table(path) as table:
        columns = column_map(kind, table.header)
        for line, row in table.rows:
            try:
                run.add(line, parse(_cells(row, columns), zone))
            except RowError as error:
                run.error(line, error.message)
            if progress is not None and not run.batch:
                progress(table.position(), table.size)
        run.flush()
        if progress is not None:
            progress(table.size, table.size)
    run.result.errors.sort(key=lambda e: e["line"])
    logger.info("import kind=%s imported=%s updated=%s unchanged=%s errors=%s", kind_name,
                run.result.imported, run.result.updated, run.result.unchanged,
                run.result.error_count)
    return run.result


@dataclass
class Preview:
    """The first rows of a file as they would be imported, and their errors (nothing written)."""

    columns: list[str]
    rows: list[dict]
    errors: list[dict]


def preview_file(kind_name: str, path: str | Path, limit: int = 20) -> Preview:
    """Parse the first ``limit`` data rows of a file without writing anything.

    :returns: a :class:`Preview` with the recognised canonical columns, parsed rows
        (``{"line", ...fields}``) and the per-row parse errors among them.
    :raises UnreadableFile: as :func:`import_file`.
    """
    kind, parse = KINDS[kind_name], PARSERS[kind_name]
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    rows, errors = [], []
    with open_table(path) as table:
        columns = column_map(kind, table.header)
        for line, row in table.rows:
            try:
                rows.append({"line": line, **parse(_cells(row, columns), zone)})
            except RowError as error:
                errors.append({"line": line, "message": error.message})
            if len(rows) + len(errors) >= limit:
                break
    return Preview(columns=list(columns), rows=rows, errors=errors)


def record_import(actor_id: int | None, kind_name: str, path: str | Path, filename: str,
                  result: ImportResult, job_id: int | None = None) -> None:
    """Write the audit entry of a finished import (web upload or CLI), in the caller's unit.

    :param actor_id: who uploaded, or ``None`` for ``flask import …`` (the system).
    :param kind_name: ``customers``, ``contacts`` or ``verifications``.
    :param path: the imported file; its SHA-256 is the entry's content hash.
    :param filename: the file's name as given by the user (shown in the log).
    :param result: what the import did (rows processed and rows in error are recorded).
    :param job_id: the web upload's ``import_jobs`` id (the entry's object), ``None`` for the CLI.
    """
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    record(actor_id, "import_completed", "import", job_id, content_sha256=digest,
           after={"file": filename, "kind": kind_name,
                  "rows": result.imported + result.updated + result.unchanged,
                  "errors": result.error_count})
