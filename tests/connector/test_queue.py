"""WeCom pushes and pulls run through the task queue: Dramatiq on the real Redis here.

The scheduler's connector jobs only queue ``app.connector.tasks``; a real Dramatiq worker
(threads in this process) then talks to the fake WeCom server over HTTP.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.broadcasts.models import Task, TaskStatus
from app.connector import jobs as connector_jobs
from app.connector import tasks as connector_tasks
from app.connector.models import PushState, WeComPush
from app.content.models import Channel
from app.core import tasks
from app.core.extensions import db as _db
from app.core.task_metrics import queue_depths
from app.factory import create_app
from app.org.models import Role
from app.wecom.setup import use_client
from config import TestConfig
from tests import factories
from tests.connector.conftest import DAY, DUE
from tests.ops.conftest import REDIS, run_worker

STAFF = 2


@pytest.fixture
def queued_app(tmp_path, fake, wecom, monkeypatch):
    """An app on its own SQLite file, queue on the real Redis, WeCom pointed at the fake."""
    namespace = f"zt-test-{uuid.uuid4().hex[:8]}"
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'w.sqlite3'}",
                     TASK_QUEUE_URL=REDIS, TASK_QUEUE_NAMESPACE=namespace,
                     STORAGE_DIR=str(tmp_path / "files"), BUSINESS_DATE=DAY.isoformat(),
                     WECOM_CORP_ID=fake.corp_id, WECOM_SECRET=fake.secret,
                     WECOM_API_BASE=fake.base_url)
    use_client(app, wecom)
    monkeypatch.setattr("app.broadcasts.jobs._APP", app)  # as ``flask scheduler run`` binds it
    with app.app_context():
        _db.create_all()
        factories.bind_session(_db.session)
        plan = factories.SopPlanFactory(
            template=factories.ContentTemplateFactory(channel=Channel.mass_message))
        post = factories.PostFactory(sop_plan=plan, run_date=DAY)
        for _ in range(STAFF):
            staff = factories.UserFactory(role=Role.frontline)
            staff.wecom_userid = f"rm{staff.id}"
            fake.add_staff(staff.wecom_userid, customers=3)
            factories.TaskFactory(post=post, staff=staff, body="今日市场速览", due_at=DUE)
        _db.session.commit()
        _db.session.remove()
    broker = app.extensions["task_queue"].broker
    yield app
    for key in broker.client.scan_iter(f"{namespace}:*"):
        broker.client.delete(key)
    broker.close()
    with app.app_context():
        _db.engine.dispose()


def _count(model, *criteria) -> int:
    return _db.session.scalar(select(func.count()).select_from(model).where(*criteria))


def test_the_push_job_queues_and_a_worker_pushes_to_wecom(queued_app, fake):
    app = queued_app
    broker = app.extensions["task_queue"].broker
    message_id = connector_jobs.push_job()  # what the scheduler runs every minute
    assert message_id
    with app.app_context():
        assert queue_depths(broker)[("wecom", "ready")] == 1
        assert _count(WeComPush) == 0  # nothing ran in the scheduler
    assert fake.count("externalcontact/add_msg_template") == 0
    run_worker(app, "wecom")
    with app.app_context():
        assert queue_depths(broker)[("wecom", "ready")] == 0
        sent = _db.session.scalars(select(WeComPush)).all()
        assert [p.state for p in sent] == [PushState.sent] * STAFF
        assert {fake.msgs[msgid]["sender"] for p in sent for msgid in p.msgids} == {
            f"rm{staff_id}" for staff_id in _db.session.scalars(select(Task.staff_id))}
        _db.session.remove()
    assert fake.count("externalcontact/add_msg_template") == STAFF


def test_the_pull_job_queues_and_a_worker_records_what_wecom_measured(queued_app, fake,
                                                                      clock):
    app = queued_app
    connector_jobs.push_job()
    run_worker(app, "wecom")
    clock.advance(60)  # WeCom has dispatched the mass messages
    for msgid in list(fake.msgs):
        fake.staff_sends(msgid, at=DUE.timestamp() - 600)  # pressed send in WeCom
    assert connector_jobs.pull_today_job()
    with app.app_context():
        assert _count(Task, Task.status == TaskStatus.done) == 0
    run_worker(app, "wecom")
    with app.app_context():
        assert _count(Task, Task.status == TaskStatus.done, Task.reach_count == 3) == STAFF
        assert _count(WeComPush, WeComPush.state == PushState.confirmed) == STAFF
        _db.session.remove()


def test_connector_tasks_are_declared_on_the_wecom_queue():
    for fn in (connector_tasks.push_day, connector_tasks.pull_days):
        assert tasks.REGISTRY[fn.task_name].queue_name == "wecom"
    assert tasks.REGISTRY[connector_tasks.push_day.task_name].max_age_ms == 120_000


def test_in_process_the_push_job_runs_at_once(app, connected, make_post, fake, monkeypatch):
    monkeypatch.setattr("app.broadcasts.jobs._APP", app)
    make_post(Channel.mass_message, staff_count=1)
    assert connector_jobs.push_job() is None  # no queue: run inline, no message
    assert fake.count("externalcontact/add_msg_template") == 1

