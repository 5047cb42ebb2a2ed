"""Issue 11: the leader scheduler dies (SIGKILL), the standby takes over, nothing runs twice.

Two real ``flask scheduler run --standby`` processes share one database: a scratch
PostgreSQL database next to ``TEST_DATABASE_URL`` (advisory lock) or a SQLite file (lease
row). The test never sleeps for time: it polls the database (and the processes' output)
until a bounded deadline.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.broadcasts import jobs
from app.broadcasts.models import PlanRun, Post, RunStatus, SchedulerTick, Task
from app.core.extensions import db as _db
from app.factory import create_app
from app.org.models import Branch, BranchLevel
from config import TestConfig
from tests import factories
from tests.broadcasts.test_run_day import approved_template
from tests.broadcasts.test_two_schedulers import scratch_url

pytestmark = pytest.mark.timeout(300)
LEASE_SECONDS = 6
DEADLINE_SECONDS = 150  # process start-up on a loaded 2-core machine included
STAFF = 3
NOTICE = "【每日提示】{{ date }}\n市场有风险，投资须谨慎。{{ staff.name }}·{{ staff.branch }}"
SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[2]


def _add_plan(app, minutes_ago: int) -> int:
    """A daily plan whose occurrence today fell ``minutes_ago`` minutes before now (real clock)."""
    due = dt.datetime.now(SHANGHAI) - dt.timedelta(minutes=minutes_ago)
    with app.app_context():
        factories.bind_session(_db.session)
        hq = _db.session.scalars(select(Branch)).first()
        plan = factories.SopPlanFactory(
            template=approved_template(NOTICE, chart_spec=None), branch=hq, calendar="daily",
            schedule=f"cron:{due.minute} {due.hour} * * *",
            created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        _db.session.commit()
        plan_id = plan.id
        _db.session.remove()
    return plan_id


@pytest.fixture
def shared_app(tmp_path):
    url = scratch_url(tmp_path, "failover")
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        _db.create_all()
        factories.bind_session(_db.session)
        hq = factories.BranchFactory(level=BranchLevel.hq)
        for _ in range(STAFF):
            factories.UserFactory(role="frontline", branch=hq)
        _db.session.commit()
        _db.session.remove()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


class _Scheduler:
    """One ``flask scheduler run --standby`` process; output goes to a file."""

    def __init__(self, app, tmp_path: Path, name: str) -> None:
        self.log = tmp_path / f"{name}.log"
        env = {**os.environ, "ZHONGTAI_ENV": "development", "FLASK_APP": "app.factory",
               "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
               "SCHEDULER_TICK_SECONDS": "1", "SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
               "CHART_OUTPUT_DIR": str(tmp_path / "charts"),
               "STORAGE_DIR": str(tmp_path / "files"), "RENDER_WORKER_PROCESSES": "1",
               "TASK_QUEUE_URL": "", "BUSINESS_DATE": "", "WECOM_CORP_ID": "",
               "WECOM_SECRET": "", "PYTHONUNBUFFERED": "1"}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "scheduler", "run", "--standby"], cwd=ROOT,
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def _wait_for(condition, what: str, processes, deadline_seconds: float = DEADLINE_SECONDS):
    """Poll ``condition()`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        for scheduler in processes:
            if scheduler.process.poll() is not None and scheduler.process.returncode != -9:
                pytest.fail(f"scheduler {scheduler.pid} exited: {scheduler.output()}")
        time.sleep(0.1)  # polling interval, not a wait for time to pass
    pytest.fail(f"timed out waiting for {what}: "
                + " | ".join(s.output()[-2000:] for s in processes))


def _runs(app, plan_id: int) -> list[PlanRun]:
    with app.app_context():
        found = _db.session.scalars(select(PlanRun).where(PlanRun.sop_plan_id == plan_id)
                                    .where(PlanRun.due_at <= func.now())).all()
        _db.session.remove()
    return found


def _published(app, plan_id: int) -> PlanRun | None:
    due = [r for r in _runs(app, plan_id) if r.status is not RunStatus.pending]
    return next((r for r in due if r.status is RunStatus.published), None)


def _tick_holder(app) -> str | None:
    with app.app_context():
        tick = _db.session.get(SchedulerTick, "scheduler")
        holder = tick.holder if tick else None
        _db.session.remove()
    return holder


def test_killing_the_leader_hands_over_to_the_standby_without_a_double_run(shared_app,
                                                                          tmp_path):
    app = shared_app
    first_plan = _add_plan(app, minutes_ago=3)
    leader = _Scheduler(app, tmp_path, "leader")
    processes = [leader]
    try:
        run = _wait_for(lambda: _published(app, first_plan), "the leader's first run",
                        processes)
        assert f":{leader.pid}:" in run.claimed_by
        standby = _Scheduler(app, tmp_path, "standby")
        processes.append(standby)
        _wait_for(lambda: "standby: " in standby.output(), "the standby to wait", processes)
        assert f":{leader.pid}:" in _tick_holder(app)

        os.killpg(leader.pid, signal.SIGKILL)
        leader.process.wait(timeout=30)
        killed_at = time.monotonic()
        second_plan = _add_plan(app, minutes_ago=1)  # due while nobody leads
        _wait_for(lambda: "scheduler started" in standby.output(), "the standby to take the "
                  "lock", processes)
        takeover_seconds = time.monotonic() - killed_at
        _wait_for(lambda: f":{standby.pid}:" in (_tick_holder(app) or ""),
                  "the standby's first tick", processes)
        run = _wait_for(lambda: _published(app, second_plan), "the standby's run", processes)
        assert f":{standby.pid}:" in run.claimed_by
    finally:
        for scheduler in processes:
            scheduler.stop()

    # Within the lease: PostgreSQL frees the advisory lock with the dead connection, so the
    # standby needs one poll (a third of the lease); SQLite waits for the lease to expire.
    is_postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    bound = LEASE_SECONDS if is_postgres else LEASE_SECONDS * 4 / 3
    print(f"took the lock {takeover_seconds:.1f} s after the kill (bound {bound:.0f} s)")
    assert takeover_seconds < bound + 3, f"took over after {takeover_seconds:.1f} s"

    with app.app_context():
        runs = _db.session.scalars(select(PlanRun).where(PlanRun.due_at <= func.now())).all()
        assert sorted((r.sop_plan_id, r.status, r.attempts) for r in runs) == [
            (first_plan, RunStatus.published, 1), (second_plan, RunStatus.published, 1)]
        posts = _db.session.execute(select(Post.sop_plan_id, func.count())
                                    .group_by(Post.sop_plan_id)).all()
        assert sorted(posts) == [(first_plan, 1), (second_plan, 1)]
        assert _db.session.scalar(select(func.count(Task.id))) == 2 * STAFF
        _db.session.remove()


def test_a_new_leader_queues_again_the_runs_a_dead_scheduler_left_claimed(shared_app,
                                                                          monkeypatch):
    app = shared_app
    plan_id = _add_plan(app, minutes_ago=5)
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        for minutes, holder in ((5, "gone-host:4242:deadbeef"), (4, "cli:web-1:77:cafe0000")):
            _db.session.add(PlanRun(sop_plan_id=plan_id, scheduled_at=now - dt.timedelta(
                minutes=minutes), run_date=now.date(), due_at=now - dt.timedelta(
                minutes=minutes), status=RunStatus.claimed, claimed_by=holder, claimed_at=now,
                attempts=1, rule_ids=[], created_at=now))
        _db.session.commit()
        monkeypatch.setattr(jobs, "_APP", app)
        assert jobs.release_orphans_job() == 1
        found = dict(_db.session.execute(select(PlanRun.claimed_by, PlanRun.status)).all())
        assert found == {"gone-host:4242:deadbeef": RunStatus.pending,
                         "cli:web-1:77:cafe0000": RunStatus.claimed}
        _db.session.remove()
