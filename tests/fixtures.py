"""The suite's fixtures: app on SQLite (default) or ``TEST_DATABASE_URL``, per-test rollback.

Expensive read-only state is built once per session: the ``app`` fixture commits the
snapshot's bars for ``MARKET_DATE`` before any test's transaction begins, and
``chart_drawings`` draws each distinct chart image once (see their docstrings).

A plugin that ``tests/conftest.py`` loads in every process that runs tests, not in the
pytest-xdist controller, which runs none and so need not import the application.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import delete, event, text
from sqlalchemy.orm import scoped_session, sessionmaker
from werkzeug.security import generate_password_hash

from app.auth import services as auth_services
from app.core.extensions import db as _db
from app.factory import create_app
from app.market import charts
from app.market.models import PriceBar
from app.market.services import refresh_market_data
from config import TestConfig
from tests import factories

#: Run date whose bars (``MARKET_HISTORY_DAYS`` up to it) every test finds stored:
#: exactly what ``refresh_market_data(MARKET_DATE)`` loads, committed once per session.
MARKET_DATE = dt.date(2025, 4, 25)


def _reset_schema() -> None:
    """Drop every table so ``upgrade`` starts clean, including tables that no model knows
    any more (left by an older checkout's run on the same PostgreSQL database)."""
    if _db.engine.dialect.name == "postgresql":
        with _db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        return
    _db.drop_all()
    with _db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        conn.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("zhongtai")
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{base / 'test.sqlite3'}"
    app = create_app(
        TestConfig(),
        SQLALCHEMY_DATABASE_URI=url,
        CHART_OUTPUT_DIR=str(base / "charts"),
        WTF_CSRF_ENABLED=False,
    )
    with app.app_context():
        _reset_schema()
        upgrade()
        refresh_market_data(MARKET_DATE)
        _db.session.commit()
        _db.session.remove()
        _db.engine.dispose()
        _sqlite_real_transactions(_db.engine)
    yield app
    with app.app_context():  # close the pool's connections before the pool is collected
        _db.engine.dispose()


def _sqlite_real_transactions(engine) -> None:
    """Make pysqlite emit BEGIN itself (SQLAlchemy's documented recipe).

    Without it the driver starts no transaction before the per-test SAVEPOINT, so
    ``session.commit()`` (RELEASE of the outermost savepoint) commits for real and
    rows leak into later tests.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _explicit_begin(connection):
        connection.exec_driver_sql("BEGIN")


@pytest.fixture
def db(app):
    """A session bound to one outer transaction that is rolled back after the test.

    Code under test may ``commit()``: with ``create_savepoint`` that only releases
    a savepoint, and the outer rollback still undoes everything.
    """
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        _db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        )
        factories.bind_session(_db.session)
        try:
            yield _db
        finally:
            _db.session.remove()
            outer.rollback()
            connection.close()
            _db.session = original


@pytest.fixture
def no_price_bars(db):
    """An empty ``price_bars`` table: the session's bars are deleted inside the test
    transaction, so its rollback brings them back for the next test."""
    db.session.execute(delete(PriceBar))
    db.session.flush()


@pytest.fixture(scope="session", autouse=True)
def chart_drawings():
    """Draw each distinct chart once per session: ``render_chart`` is memoized.

    ``render_charts`` still runs for real (reads the bars, writes the PNG, upserts the
    ``chart_images`` row); only matplotlib's drawing of the same spec over the same bars
    is reused (drawing is deterministic, see ``test_render_chart_is_deterministic``).
    Yields the real ``render_chart``; tests about the drawing use ``real_chart_drawing``.
    """
    draw = charts.render_chart
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(charts, "render_chart", _drawing_once(draw))
        yield draw


def _drawing_once(draw):
    """``draw`` (``render_chart``) memoized by spec and by the bars of its series."""
    drawn: dict[tuple, bytes] = {}

    def render_once(spec, frames):
        key = (spec, *(_frame_digest(frames[code]) for code in spec.series))
        if key not in drawn:
            drawn[key] = draw(spec, frames)
        return drawn[key]

    return render_once


def _frame_digest(frame) -> str:
    digest = hashlib.sha256(repr(list(frame.columns)).encode())
    digest.update(frame.index.asi8.tobytes())
    digest.update(frame.to_numpy(dtype="float64").tobytes())
    return digest.hexdigest()


@pytest.fixture
def real_chart_drawing(chart_drawings, monkeypatch):
    """matplotlib draws each chart of this test, none reused from earlier tests."""
    monkeypatch.setattr(charts, "render_chart", _drawing_once(chart_drawings))


@pytest.fixture(scope="session", autouse=True)
def cheap_dummy_password_hash():
    """Unknown usernames are checked against a cheap scrypt hash (see ``factories``).

    Production keeps werkzeug's default scrypt cost; tests log in hundreds of times.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth_services, "_DUMMY_HASH",
                      generate_password_hash("not-a-real-password", factories.TEST_HASH_METHOD))
        yield


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def login_as(client, db):
    """``login_as(role_or_user)`` logs the test client in and returns the user."""

    def _login(who):
        user = who if not isinstance(who, str) else factories.UserFactory(role=who)
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
        return user

    return _login
