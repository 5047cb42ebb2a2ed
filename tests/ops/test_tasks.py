"""The task queue: in-process by default, Dramatiq on the real Redis (127.0.0.1:6379)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from app.core import tasks
from app.core.extensions import db as _db
from app.core.storage import storage
from app.core.task_metrics import TASK_RUNS, queue_depths
from app.factory import create_app
from app.ops.reports import generate_scorecard_report, report_key, request_scorecard_report
from app.org.models import Role, User
from config import TestConfig
from tests import factories
from tests.ops.conftest import REDIS, run_worker

DAY = dt.date(2025, 4, 25)
CALLS: list[tuple] = []


@tasks.task(queue_name="test-failing", max_retries=0)
def always_fails(marker: str) -> None:
    """A task that raises, for the failure and dead-letter path."""
    CALLS.append(("fails", marker))
    raise RuntimeError(f"boom {marker}")


def test_in_process_by_default_runs_at_once(app, db, make_task):
    manager = factories.UserFactory(role=Role.manager)
    make_task(factories.UserFactory(role=Role.frontline, branch=manager.branch))
    with app.app_context():
        before = TASK_RUNS.labels(generate_scorecard_report.task_name, "succeeded")._value.get()
        key, message_id = request_scorecard_report(manager.id, None, DAY, DAY)
        assert message_id is None and key == report_key(manager.id, None, DAY, DAY)
        csv = storage("reports").get(key).decode("utf-8-sig")
    assert csv.startswith("考核看板") and DAY.isoformat() in csv
    after = TASK_RUNS.labels(generate_scorecard_report.task_name, "succeeded")._value.get()
    assert after == before + 1


def test_in_process_errors_reach_the_caller(app, db):
    with app.app_context(), pytest.raises(RuntimeError, match="boom now"):
        tasks.enqueue(always_fails, "now")


def test_only_declared_tasks_can_be_queued(app):
    with app.app_context(), pytest.raises(KeyError, match="not a task"):
        tasks.enqueue(print, "x")


def test_other_schemes_are_refused():
    with pytest.raises(ValueError, match="TASK_QUEUE_URL"):
        tasks.build_broker("amqp://guest@127.0.0.1/", "x")


@pytest.fixture
def queued_app(tmp_path):
    """An app on its own SQLite file whose queue is the real Redis, in a fresh namespace."""
    namespace = f"zt-test-{uuid.uuid4().hex[:8]}"
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'q.sqlite3'}",
                     TASK_QUEUE_URL=REDIS, TASK_QUEUE_NAMESPACE=namespace,
                     STORAGE_DIR=str(tmp_path / "files"), BUSINESS_DATE=DAY.isoformat())
    with app.app_context():
        _db.create_all()
        factories.bind_session(_db.session)
        manager = factories.UserFactory(role=Role.manager)
        _db.session.commit()
        manager_id = manager.id
        _db.session.remove()
    broker = app.extensions["task_queue"].broker
    yield app, manager_id
    client = broker.client
    for key in client.scan_iter(f"{namespace}:*"):
        client.delete(key)
    broker.close()
    with app.app_context():
        _db.engine.dispose()


def test_redis_message_is_sent_on_commit_and_run_by_a_worker(queued_app):
    app, manager_id = queued_app
    broker = app.extensions["task_queue"].broker
    with app.app_context():
        _db.session.execute(select(User.id))  # the caller is inside a transaction
        key, message_id = request_scorecard_report(manager_id, None, DAY, DAY)
        assert message_id and queue_depths(broker)[("reports", "ready")] == 0  # not yet
        _db.session.commit()
        assert queue_depths(broker)[("reports", "ready")] == 1
        assert not storage("reports").exists(key)
    run_worker(app, "reports")
    with app.app_context():
        assert storage("reports").get(key).decode("utf-8-sig").startswith("考核看板")
        assert queue_depths(broker)[("reports", "ready")] == 0


def test_a_rolled_back_caller_sends_nothing(queued_app):
    app, manager_id = queued_app
    broker = app.extensions["task_queue"].broker
    with app.app_context():
        _db.session.execute(select(User.id))
        request_scorecard_report(manager_id, None, DAY, DAY)
        _db.session.rollback()
        assert queue_depths(broker)[("reports", "ready")] == 0


def test_a_failing_task_ends_in_the_dead_letter_set(queued_app):
    app, _ = queued_app
    broker = app.extensions["task_queue"].broker
    marker = uuid.uuid4().hex
    before = TASK_RUNS.labels(always_fails.task_name, "failed")._value.get()
    with app.app_context():
        assert tasks.enqueue(always_fails, marker)  # no transaction: sent at once
    run_worker(app, "test-failing")
    assert ("fails", marker) in CALLS
    assert TASK_RUNS.labels(always_fails.task_name, "failed")._value.get() == before + 1
    with app.app_context():
        assert queue_depths(broker)[("test-failing", "dead")] == 1


def test_worker_command_needs_a_queue(runner):
    result = runner.invoke(args=["tasks", "worker"])
    assert result.exit_code == 1 and "TASK_QUEUE_URL is empty" in result.output


def test_scorecard_report_command_runs_in_process(app, runner, make_task):
    manager = factories.UserFactory(role=Role.manager)
    _db.session.commit()
    result = runner.invoke(args=["tasks", "scorecard-report", "--user", manager.username,
                                 "--start", "2025-04-21", "--end", "2025-04-25"])
    assert result.exit_code == 0, result.output
    assert f'"key": "scorecard/u{manager.id}/' in result.output
    assert '"message_id": null' in result.output
