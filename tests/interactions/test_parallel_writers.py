"""Issue 6, case 5: the per-task limits hold with real parallel writers, on both backends.

The per-test rollback fixture shares one connection, so it cannot show a race. Each test
here gets its own database (a SQLite file in ``tmp_path``, or a throwaway PostgreSQL
database on the server of ``TEST_DATABASE_URL``) and its own app; every thread sends its
request through its own test client, so each request has its own app context, session,
connection and commit, as with several gunicorn workers.
"""

from __future__ import annotations

import os
import threading
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.auth.services import issue_api_token
from app.broadcasts.models import Task, TaskStatus
from app.core.extensions import db as _db
from app.core.locks import lock_rows
from app.factory import create_app
from app.interactions.models import InteractionEvent
from app.org.models import Role
from config import TestConfig
from tests import factories
from tests.frontline_fixtures import SENT_AT

WRITERS = 20
REACH = 10


def _postgres_server_url():
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("TEST_DATABASE_URL is not PostgreSQL")
    return make_url(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def own_database(request, tmp_path):
    """URL of an empty database of its own, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'parallel.sqlite3'}"
        return
    server = _postgres_server_url()
    name = f"zt_parallel_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def parallel_app(own_database, tmp_path, fixed_clock):
    """An app on ``own_database`` with the schema created; factories bound to its session."""
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=own_database,
                     CHART_OUTPUT_DIR=str(tmp_path / "charts"))
    with app.app_context():
        _db.create_all()
        factories.bind_session(_db.session)
        try:
            yield app
        finally:
            _db.session.remove()
            _db.engine.dispose()


def _sent_task(reach: int) -> tuple[int, str]:
    """A done task with ``reach`` owned by a new front-line user; returns (task id, token)."""
    staff = factories.UserFactory(role=Role.frontline)
    task = factories.TaskFactory(staff=staff, status=TaskStatus.done, reach_count=reach,
                                 completed_at=SENT_AT)
    token = issue_api_token(staff)
    _db.session.commit()
    return task.id, token


def _in_parallel(app, requests: list[tuple[str, dict]], token: str) -> list:
    """POST every ``(path, json)`` at once, one thread and test client each.

    :returns: per request ``(status, json)``, or the exception it raised.
    """
    start = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def send(index: int, path: str, body: dict) -> None:
        client = app.test_client()
        start.wait()
        try:
            response = client.post(path, json=body,
                                   headers={"Authorization": f"Bearer {token}"})
            results[index] = (response.status_code, response.get_json())
        except Exception as error:  # noqa: BLE001 - reported by the assertions
            results[index] = error

    threads = [threading.Thread(target=send, args=(i, path, body))
               for i, (path, body) in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _likes(task_id: int) -> int:
    _db.session.rollback()
    return _db.session.scalar(
        select(func.coalesce(func.sum(InteractionEvent.quantity), 0))
        .where(InteractionEvent.task_id == task_id))


def test_parallel_like_batches_stay_within_the_reach(parallel_app):
    task_id, token = _sent_task(REACH)
    batches = [("/api/v1/interactions", {"events": [
        {"event_id": f"like-{n}", "task_id": task_id, "kind": "like"}]})
        for n in range(WRITERS)]

    results = _in_parallel(parallel_app, batches, token)

    assert not [r for r in results if isinstance(r, Exception)]  # no "database is locked"
    assert {status for status, _ in results} == {200}
    items = [body["results"][0] for _, body in results]
    created = [item for item in items if item["status"] == "created"]
    refused = [item for item in items if item["status"] == "error"]
    assert len(created) == REACH and len(refused) == WRITERS - REACH
    for item in refused:
        assert item["errors"] == {"quantity": f"点赞累计不能超过发送人数 {REACH}"
                                              f"（已登记 {REACH}，本次 1）"}
    assert _likes(task_id) == REACH


def test_parallel_reach_corrections_never_go_below_the_logged_likes(parallel_app):
    task_id, token = _sent_task(REACH)
    likes = [("/api/v1/interactions", {"events": [
        {"event_id": f"like-{n}", "task_id": task_id, "kind": "like"}]})
        for n in range(WRITERS // 2)]
    corrections = [(f"/api/v1/tasks/{task_id}/complete", {"reach_count": reach})
                   for reach in range(1, WRITERS // 2 + 1)]
    mixed = [request for pair in zip(likes, corrections, strict=True) for request in pair]

    results = _in_parallel(parallel_app, mixed, token)

    assert not [r for r in results if isinstance(r, Exception)]
    like_results, correction_results = results[0::2], results[1::2]
    assert {status for status, _ in like_results} == {200}
    assert {status for status, _ in correction_results} <= {200, 422}
    for status, body in correction_results:
        if status == 422:
            assert body["errors"]["reach_count"].startswith("已登记的客户反馈要求发送人数至少为")
    final_reach = _db.session.scalar(select(Task.reach_count).where(Task.id == task_id))
    assert _likes(task_id) <= final_reach


def test_a_locked_row_is_locked_for_every_other_writer(parallel_app):
    """Deterministic core of the two tests above: ``lock_rows`` excludes a second writer."""
    task_id, _ = _sent_task(REACH)
    engine = _db.engine
    with engine.connect() as first, engine.connect() as second:
        first.begin()
        lock_rows(first, Task, Task.id == task_id)
        second.begin()
        if engine.dialect.name == "sqlite":
            second.exec_driver_sql("PRAGMA busy_timeout = 0")
        else:
            second.exec_driver_sql("SET LOCAL lock_timeout = '1ms'")
        with pytest.raises(OperationalError):
            lock_rows(second, Task, Task.id == task_id)
        second.rollback()
        first.rollback()
