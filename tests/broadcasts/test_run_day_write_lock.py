"""Issue 6: on SQLite the daily run holds no write lock while it renders.

Each test builds its own SQLite file (whatever ``TEST_DATABASE_URL`` says): the lock is
SQLite's. While a plan is being rendered, a hook inside rendering writes through a second
connection that does not wait for locks (``timeout=0``): it succeeds when the run renders
outside a write transaction, and fails at once with "database is locked" otherwise.
"""

import datetime as dt
import json
import sqlite3

import pytest
from sqlalchemy import func, select

from app.broadcasts import plan_texts
from app.broadcasts import run_day as run_day_module
from app.broadcasts.models import Post, Task
from app.core.extensions import db as _db
from app.core.unit_of_work import unit_of_work
from app.factory import create_app
from app.org.models import BranchLevel, User
from config import TestConfig
from tests import factories
from tests.broadcasts.test_run_day import BRIEF, approved_template

RUN_DATE = dt.date(2025, 4, 25)


@pytest.fixture
def sqlite_file_app(tmp_path):
    path = tmp_path / "run.sqlite3"
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                     CHART_OUTPUT_DIR=str(tmp_path / "charts"))
    with app.app_context():
        _db.create_all()
        factories.bind_session(_db.session)
        hq = factories.BranchFactory(level=BranchLevel.hq)
        for _ in range(3):
            factories.UserFactory(role="frontline", branch=hq)
        factories.SopPlanFactory(template=approved_template(BRIEF), branch=hq,
                                 calendar="weekdays",
                                 created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        _db.session.commit()
        _db.session.remove()
    yield app, path
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture
def write_while_rendering(sqlite_file_app, monkeypatch):
    """While rendering, another connection renames user 1; returns the outcomes seen."""
    _app, path = sqlite_file_app
    outcomes = []
    real = plan_texts.render_isolated_many

    def render_and_write(*args, **kwargs):
        other = sqlite3.connect(path, timeout=0)
        try:
            other.execute("UPDATE users SET display_name = '改名' WHERE id = 1")
            other.commit()
            outcomes.append("written")
        except sqlite3.OperationalError as error:
            outcomes.append(str(error))
        finally:
            other.close()
        return real(*args, **kwargs)

    monkeypatch.setattr(plan_texts, "render_isolated_many", render_and_write)
    return outcomes


def test_ops_run_day_lets_another_connection_write_while_rendering(sqlite_file_app,
                                                                    write_while_rendering):
    app, _path = sqlite_file_app
    result = app.test_cli_runner().invoke(args=["ops", "run-day", "--date",
                                                RUN_DATE.isoformat()])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tasks_created"] == 3
    assert write_while_rendering == ["written"]
    with app.app_context():
        assert _db.session.get(User, 1).display_name == "改名"
        assert _db.session.scalar(select(func.count(Task.id))) == 3
        assert _db.session.scalar(select(func.count(Post.id))) == 1


def test_the_scheduler_tick_lets_another_connection_write_while_rendering(
        sqlite_file_app, write_while_rendering):
    app, _path = sqlite_file_app
    from app.broadcasts import jobs

    with app.app_context():
        counts = jobs.tick("test", now=dt.datetime(2025, 4, 25, 0, 31, tzinfo=dt.UTC))
        assert counts["claimed"] == counts["published"] == 1
        assert _db.session.scalar(select(func.count(Task.id))) == 3
    assert write_while_rendering == ["written"]


def test_one_unit_of_work_around_the_whole_run_would_block_the_writer(sqlite_file_app,
                                                                      write_while_rendering):
    """The control: the same hook sees the lock when market step and render share a unit."""
    app, _path = sqlite_file_app
    with app.app_context(), unit_of_work():
        run_day_module.run_day(RUN_DATE)
    assert write_while_rendering == ["database is locked"]
