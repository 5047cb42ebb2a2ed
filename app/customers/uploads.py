"""Imports from the web: upload, preview, confirm, then a task-queue job with its progress.

An upload stores the file in the ``imports`` storage area and creates an ``import_jobs``
row (``uploaded``). The preview parses the file's first rows from storage. Confirming
claims the row (``uploaded`` → ``queued``, a conditional UPDATE, so a second confirm does
nothing) and queues :func:`run_import` on ``app.core.tasks`` (queue ``imports``): in-process
by default (it runs inside the confirm request), on Dramatiq workers with
``TASK_QUEUE_URL``. The worker claims ``queued`` → ``running``, imports through the same
engine as the CLI in one unit of work and stores counts and errors with status ``done``;
any failure rolls the import back and stores ``failed`` with the reason. Web nodes keep no
state: the file is in storage, everything else in the database.

Progress: a queue worker on PostgreSQL claims the job and writes ``position``/``size`` on a
connection of its own, committed at once (about every 2 % of the file), so every web node
sees them while the import transaction is still open. In-process, and on SQLite (one
writer at a time), the row goes from ``queued`` to its result when the import commits.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import tempfile
from pathlib import Path

from sqlalchemy import select, update

from app.core.clock import utcnow
from app.core.errors import NotFound
from app.core.extensions import db
from app.core.storage import storage
from app.core.tasks import enqueue, queue, task
from app.customers.files import UnreadableFile
from app.customers.imports import (
    ImportResult,
    Preview,
    import_file,
    preview_file,
    record_import,
)
from app.customers.models import ImportJob, ImportStatus

logger = logging.getLogger(__name__)
PROGRESS_STEP = 0.02  # write progress about every 2 % of the file
#: Dramatiq stops an import after this long (TimeLimitExceeded: the job is marked failed).
TIME_LIMIT_SECONDS = 3600
#: A job still ``running`` this long after it started lost its worker (killed, host gone):
#: the time limit and a margin. Its import was one transaction, so nothing of it was kept.
STALLED_AFTER = dt.timedelta(seconds=TIME_LIMIT_SECONDS + 600)
FAILED_MESSAGE = "导入失败，未写入任何数据"


def save_upload(kind: str, filename: str, stream, user_id: int) -> int:
    """Store an uploaded file and create its import job.

    werkzeug spools the upload to disk and it is streamed to storage: memory stays flat
    whatever the file's size.

    :param kind: ``customers``, ``contacts`` or ``verifications``.
    :returns: the new ``import_jobs`` id (status ``uploaded``); flushed, not committed.
    """
    suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    key = f"uploads/{utcnow():%Y-%m-%d}/{secrets.token_hex(16)}{suffix}"
    content_type = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                    if suffix == ".xlsx" else "text/csv")
    storage("imports").put_file(key, stream, content_type)
    job = ImportJob(kind=kind, filename=filename[:255], storage_key=key, created_by_id=user_id)
    db.session.add(job)
    db.session.flush()
    logger.info("import uploaded job_id=%s kind=%s user_id=%s", job.id, kind, user_id)
    return job.id


def get_job(job_id: int) -> ImportJob:
    """The import job ``job_id``.

    :raises NotFound: no such job.
    """
    job = db.session.get(ImportJob, job_id)
    if job is None:
        raise NotFound("导入任务不存在")
    return job


class _LocalCopy:
    """The job's stored file, streamed to a temporary local file (``with``: its path)."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job

    def __enter__(self) -> Path:
        suffix = Path(self.job.storage_key).suffix
        with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as handle:
            self.path = Path(handle.name)
            try:
                storage("imports").get_file(self.job.storage_key, handle)
            except BaseException:
                self.path.unlink(missing_ok=True)
                raise
        return self.path

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)


def preview(job_id: int) -> tuple[ImportJob, Preview | None, str | None]:
    """The job, a preview of its file's first rows (or ``None``), an unreadable-file message.

    :raises NotFound: no such job.
    """
    job = get_job(job_id)
    if job.status is not ImportStatus.uploaded:
        return job, None, None
    with _LocalCopy(job) as path:
        try:
            return job, preview_file(job.kind, path), None
        except UnreadableFile as error:
            return job, None, error.message


def confirm(job_id: int) -> bool:
    """Queue the import of an uploaded file, once (a second confirm is ignored).

    :returns: whether this call queued it.
    :raises NotFound: no such job.
    """
    get_job(job_id)
    claimed = db.session.execute(
        update(ImportJob).where(ImportJob.id == job_id,
                                ImportJob.status == ImportStatus.uploaded)
        .values(status=ImportStatus.queued)).rowcount
    if claimed:
        enqueue(run_import, job_id)
    return bool(claimed)


@task(queue_name="imports", max_retries=0, time_limit_seconds=TIME_LIMIT_SECONDS)
def run_import(job_id: int) -> str:
    """Task: import a queued job's file, storing progress, counts and errors on the job.

    Runs in its own unit of work (in-process: the confirm request's). A message delivered
    twice finds the job no longer ``queued`` and does nothing. An unreadable file or any
    error rolls the import back and leaves the job ``failed`` with the reason.

    :returns: the job's final status.
    """
    if not _claim(job_id):
        logger.info("import job_id=%s not queued: skipped", job_id)
        return "skipped"
    job = get_job(job_id)
    try:
        with db.session.begin_nested():
            result = _import(job)
    except UnreadableFile as error:
        _fail(job_id, error.message)
        return ImportStatus.failed.value
    except Exception:
        logger.exception("import failed job_id=%s", job_id)
        _fail(job_id, FAILED_MESSAGE)
        return ImportStatus.failed.value
    job.status, job.finished_at = ImportStatus.done, utcnow()
    job.imported, job.updated, job.unchanged = result.imported, result.updated, result.unchanged
    job.errors, job.error_count = result.errors, result.error_count
    logger.info("import done job_id=%s", job_id)
    return ImportStatus.done.value


def requeue_stalled(now: dt.datetime | None = None) -> list[int]:
    """Queue again every job whose worker died or whose message was lost (``STALLED_AFTER``).

    A worker killed mid-import leaves its job ``running`` with nothing written (the import
    is one transaction): it goes back to ``queued`` with a conditional UPDATE (two
    schedulers never queue one twice). A job still ``queued`` that long after its upload
    (the broker lost the message) is sent again. A message delivered twice is harmless:
    only one run claims the job.

    :param now: aware UTC (default: the clock).
    :returns: the ids queued again.
    """
    cutoff = (now or utcnow()) - STALLED_AFTER
    ids = list(db.session.scalars(
        update(ImportJob).where(ImportJob.status == ImportStatus.running,
                                ImportJob.started_at < cutoff)
        .values(status=ImportStatus.queued)
        .returning(ImportJob.id)))
    ids += db.session.scalars(select(ImportJob.id).where(
        ImportJob.status == ImportStatus.queued, ImportJob.created_at < cutoff,
        ImportJob.id.not_in(ids)))
    for job_id in sorted(ids):
        logger.warning("import job_id=%s stalled since before %s: queued again", job_id,
                       cutoff.isoformat())
        enqueue(run_import, job_id)
    return sorted(ids)


def _import(job: ImportJob) -> ImportResult:
    with _LocalCopy(job) as path:
        progress = _Progress(job.id)
        result = import_file(job.kind, path, progress=progress)
        record_import(job.created_by_id, job.kind, path, job.filename, result, job_id=job.id)
    job.position, job.size = progress.position, progress.size
    return result


def _fail(job_id: int, message: str) -> None:
    """Mark the job failed in this unit of work (the import's savepoint is rolled back)."""
    db.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(
        status=ImportStatus.failed, message=message[:500], finished_at=utcnow()))


def _writes_aside() -> bool:
    """Whether status and progress are committed on a connection of their own.

    Only a queue worker on PostgreSQL does: row locks let the import transaction and these
    small commits run side by side. In-process the job runs inside the confirm request,
    whose transaction already holds the job row; SQLite has one writer at a time.
    """
    return queue().broker is not None and db.engine.dialect.name == "postgresql"


def _claim(job_id: int) -> bool:
    """``queued`` → ``running`` with a conditional UPDATE; whether this run got the job."""
    statement = (update(ImportJob)
                 .where(ImportJob.id == job_id, ImportJob.status == ImportStatus.queued)
                 .values(status=ImportStatus.running, started_at=utcnow()))
    if _writes_aside():
        with db.engine.begin() as connection:
            return bool(connection.execute(statement).rowcount)
    return bool(db.session.execute(statement).rowcount)


class _Progress:
    """``import_file``'s ``progress(position, size)``: the latest figures, shared when aside.

    With :func:`_writes_aside` it commits them on its own connection about every 2 % of the
    file; the final figures are stored with the result either way.
    """

    def __init__(self, job_id: int) -> None:
        self.job_id, self.aside = job_id, _writes_aside()
        self.position, self.size, self.written = 0, 1, -1.0

    def __call__(self, position: int, size: int) -> None:
        self.size = max(size, 1)
        self.position = min(position, self.size)
        if not self.aside or (self.position - self.written < self.size * PROGRESS_STEP
                              and self.position < self.size):
            return
        self.written = self.position
        with db.engine.begin() as connection:
            connection.execute(update(ImportJob).where(ImportJob.id == self.job_id)
                               .values(position=self.position, size=self.size))


def jobs_of(user_id: int, limit: int = 10) -> list[ImportJob]:
    """The latest import jobs uploaded by ``user_id``, newest first."""
    return list(db.session.scalars(select(ImportJob).where(ImportJob.created_by_id == user_id)
                                   .order_by(ImportJob.id.desc()).limit(limit)))
