"""Issue 9: two schedulers on one database never run an occurrence twice.

Two threads tick at the same instant against a database of their own (a SQLite file, or a
scratch PostgreSQL database next to ``TEST_DATABASE_URL``); a barrier makes both claim at
the same moment, so the conditional UPDATE is what decides.
"""

import datetime as dt
import os
import threading

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.broadcasts import jobs, runs
from app.broadcasts.models import PlanRun, Post, RunStatus
from app.core.extensions import db as _db
from app.factory import create_app
from app.org.models import BranchLevel
from config import TestConfig
from tests import factories
from tests.broadcasts.test_run_day import BRIEF, approved_template

pytestmark = pytest.mark.timeout(120)
NOW = dt.datetime(2025, 4, 25, 0, 0, 30, tzinfo=dt.UTC)  # 08:00:30 Shanghai


def scratch_url(tmp_path, suffix: str = "ticks") -> str:
    """A fresh database of its own: a SQLite file, or ``<TEST_DATABASE_URL db>_<suffix>``."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        return f"sqlite:///{tmp_path / f'{suffix}.sqlite3'}"
    url = make_url(base)
    name = f"{url.database}_{suffix}"
    server = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def shared_app(tmp_path):
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=scratch_url(tmp_path),
                     CHART_OUTPUT_DIR=str(tmp_path / "charts"))
    with app.app_context():
        _db.create_all()
        factories.bind_session(_db.session)
        hq = factories.BranchFactory(level=BranchLevel.hq)
        for _ in range(3):
            factories.UserFactory(role="frontline", branch=hq)
        for send in ("0 8", "30 7", "45 7"):  # 08:00, 07:30, 07:45: all due at 08:00:30
            factories.SopPlanFactory(template=approved_template(BRIEF), branch=hq,
                                     calendar="daily", schedule=f"cron:{send} * * *",
                                     created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        _db.session.commit()
        _db.session.remove()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()  # the SQLite file goes with tmp_path; PostgreSQL's is recreated


def test_two_schedulers_ticking_at_once_claim_each_run_exactly_once(shared_app, monkeypatch):
    barrier = threading.Barrier(2, timeout=60)
    real_claim = runs.claim_due

    def claim_together(now, holder):
        barrier.wait()
        return real_claim(now, holder)

    monkeypatch.setattr(runs, "claim_due", claim_together)
    outcomes, errors = {}, []

    def scheduler(holder):
        try:
            with shared_app.app_context():
                outcomes[holder] = jobs.tick(holder, NOW)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=scheduler, args=(h,)) for h in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert outcomes["one"]["claimed"] + outcomes["two"]["claimed"] == 3
    with shared_app.app_context():
        due = _db.session.scalars(select(PlanRun).where(PlanRun.due_at <= NOW)).all()
        assert len(due) == 3
        assert all(r.status is RunStatus.published and r.attempts == 1 for r in due)
        assert {r.claimed_by for r in due} <= {"one", "two"}
        assert _db.session.scalar(select(func.count(Post.id))) == 3
        _db.session.remove()
