"""Web imports on the task queue: Dramatiq on the real Redis (127.0.0.1:6379), a real worker.

The app runs on its own database (a SQLite file, or a scratch PostgreSQL database when
``TEST_DATABASE_URL`` names one) with ``TASK_QUEUE_URL`` set: confirming sends a message on
commit, the worker imports the stored file and writes counts, errors and progress on the
``import_jobs`` row, which any other process reads.
"""

from __future__ import annotations

import datetime as dt
import io
import tracemalloc
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text, update

from app.core.clock import utcnow
from app.core.extensions import db as _db
from app.core.task_metrics import queue_depths
from app.customers import uploads
from app.customers.models import Customer, ImportJob, ImportStatus
from app.factory import create_app
from app.org.models import Role
from config import TestConfig
from tests import factories
from tests.ops.conftest import REDIS, postgres_url, run_worker, scratch_app

ROWS = 3000  # more than one batch of IMPORT_BATCH_ROWS (1000 here)


@contextmanager
def _database(tmp_path, **config):
    if postgres_url():
        with scratch_app("test_import_queue", [], {}, **config) as app:
            yield app
        return
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'q.sqlite3'}",
                     **config)
    with app.app_context():
        upgrade()
        _db.session.remove()
    try:
        yield app
    finally:
        with app.app_context():
            _db.engine.dispose()


@pytest.fixture
def queued_app(tmp_path):
    """The app on its own database, its queue on Redis in a fresh namespace; an admin, an RM."""
    namespace = f"zt-test-{uuid.uuid4().hex[:8]}"
    with _database(tmp_path, TASK_QUEUE_URL=REDIS, TASK_QUEUE_NAMESPACE=namespace,
                   STORAGE_DIR=str(tmp_path / "files"), IMPORT_BATCH_ROWS=1000) as app:
        with app.app_context():
            factories.bind_session(_db.session)
            admin = factories.UserFactory(role=Role.admin)
            factories.UserFactory(username="q_rm", role=Role.frontline)
            _db.session.commit()
            admin_id = admin.id
            _db.session.remove()
        broker = app.extensions["task_queue"].broker
        try:
            yield app, admin_id
        finally:
            for key in broker.client.scan_iter(f"{namespace}:*"):
                broker.client.delete(key)
            broker.close()


def _upload(app, admin_id: int, content: bytes | Path, kind: str = "customers") -> int:
    """Upload ``content`` (bytes, or a file streamed as werkzeug's spooled upload is)."""
    with app.app_context(), (content.open("rb") if isinstance(content, Path)
                             else io.BytesIO(content)) as stream:
        job_id = uploads.save_upload(kind, "客户.csv", stream, admin_id)
        _db.session.commit()
        _db.session.remove()
    return job_id


def _confirm_and_work(app, job_id: int) -> None:
    with app.app_context():
        uploads.confirm(job_id)
        _db.session.commit()
        _db.session.remove()
    run_worker(app, "imports")


def _book(rows: int) -> bytes:
    lines = ["customer_id,rm,segment,has_account,province,aum_cny"]
    lines += [f"Q{n:06d},q_rm,vip,Y,浙江,{n}" for n in range(rows)]
    lines.append("QBAD,nobody,vip,Y,浙江,1")
    return ("\n".join(lines) + "\n").encode()


def test_confirm_queues_on_commit_and_a_worker_imports_with_progress(queued_app):
    app, admin_id = queued_app
    job_id = _upload(app, admin_id, _book(ROWS))
    broker = app.extensions["task_queue"].broker
    with app.app_context():
        assert uploads.confirm(job_id)
        assert queue_depths(broker)[("imports", "ready")] == 0  # sent only on commit
        _db.session.commit()
        assert queue_depths(broker)[("imports", "ready")] == 1
        assert not uploads.confirm(job_id)  # a second confirm queues nothing
        _db.session.commit()
        assert _db.session.get(ImportJob, job_id).status is ImportStatus.queued
        _db.session.remove()
    run_worker(app, "imports")
    with app.app_context():
        job = _db.session.get(ImportJob, job_id)
        assert job.status is ImportStatus.done and job.finished_at is not None
        assert (job.imported, job.updated, job.unchanged, job.error_count) == (ROWS, 0, 0, 1)
        assert job.errors == [{"line": ROWS + 2, "message": "客户经理不存在：nobody"}]
        assert job.position == job.size > 1 and job.percent == 100
        assert _db.session.scalar(select(func.count()).select_from(Customer)) == ROWS
        assert queue_depths(broker)[("imports", "ready")] == 0
        _db.session.remove()


def test_a_second_delivery_of_the_message_does_nothing(queued_app):
    app, admin_id = queued_app
    job_id = _upload(app, admin_id, _book(10))
    _confirm_and_work(app, job_id)
    with app.app_context():
        assert uploads.run_import(job_id) == "skipped"
        _db.session.commit()
        assert _db.session.get(ImportJob, job_id).imported == 10
        _db.session.remove()


def test_a_failing_import_is_rolled_back_and_recorded(queued_app):
    app, admin_id = queued_app
    job_id = _upload(app, admin_id, b"\xff\xfe\x00garbage\x00\x01", kind="contacts")
    _confirm_and_work(app, job_id)
    with app.app_context():
        job = _db.session.get(ImportJob, job_id)
        assert job.status is ImportStatus.failed and job.message
        assert _db.session.scalar(text("SELECT count(*) FROM wecom_contacts")) == 0
        _db.session.remove()


def test_a_job_whose_worker_died_or_message_was_lost_is_queued_again_and_imported(queued_app):
    app, admin_id = queued_app
    stalled, recent, lost = (_upload(app, admin_id, _book(n)) for n in (10, 5, 7))
    started = utcnow() - uploads.STALLED_AFTER
    with app.app_context():  # two claimed by a worker that died mid-import
        for job_id, at in ((stalled, started - dt.timedelta(minutes=1)),
                           (recent, started + dt.timedelta(minutes=5))):
            _db.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(
                status=ImportStatus.running, started_at=at))
        _db.session.execute(update(ImportJob).where(ImportJob.id == lost).values(  # no message
            status=ImportStatus.queued, created_at=started - dt.timedelta(minutes=1)))
        _db.session.commit()
        assert uploads.requeue_stalled() == sorted([stalled, lost])
        _db.session.commit()
        _db.session.remove()
    run_worker(app, "imports")
    with app.app_context():
        jobs = [_db.session.get(ImportJob, job) for job in (stalled, lost)]
        assert [job.status for job in jobs] == [ImportStatus.done] * 2
        assert [job.imported + job.unchanged for job in jobs] == [10, 7]  # same first ids
        assert _db.session.get(ImportJob, recent).status is ImportStatus.running
        assert uploads.requeue_stalled() == []  # done now: never again
        _db.session.remove()


def test_upload_and_worker_copy_stream_the_file(queued_app, tmp_path):
    """A file much larger than the copy buffers goes to storage and back in flat memory."""
    app, admin_id = queued_app
    content = _book(200_000)  # about 6 MB
    spooled = tmp_path / "upload.csv"
    spooled.write_bytes(content)
    tracemalloc.start()
    try:
        job_id = _upload(app, admin_id, spooled)
        with app.app_context(), uploads._LocalCopy(_db.session.get(ImportJob, job_id)) as path:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert path.read_bytes() == content
            _db.session.remove()
    finally:
        tracemalloc.stop()
    assert peak < len(content) / 4, (peak, len(content))


@pytest.mark.skipif(postgres_url() is None, reason="progress aside needs PostgreSQL")
def test_progress_is_visible_to_other_connections_while_the_import_runs(queued_app):
    app, admin_id = queued_app
    job_id = _upload(app, admin_id, _book(10))
    with app.app_context():
        uploads.confirm(job_id)
        _db.session.commit()
        _db.session.execute(select(ImportJob.id))  # the worker's unit of work is open
        assert uploads._claim(job_id)
        uploads._Progress(job_id)(500, 1000)
        with _db.engine.connect() as other:
            seen = other.execute(select(ImportJob.status, ImportJob.position, ImportJob.size)
                                 .where(ImportJob.id == job_id)).one()
        assert seen == (ImportStatus.running, 500, 1000)
        _db.session.rollback()
        _db.session.remove()
