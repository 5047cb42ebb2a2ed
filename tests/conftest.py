"""Shared fixtures: app on SQLite (default) or ``TEST_DATABASE_URL``, per-test rollback."""

from __future__ import annotations

import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import event, text
from sqlalchemy.orm import scoped_session, sessionmaker

from app import create_app
from app.core.extensions import db as _db
from config import TestConfig
from tests import factories


def _reset_schema() -> None:
    """Drop every table (ours, Alembic's, APScheduler's) so ``upgrade`` starts clean."""
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
        _db.engine.dispose()
        _sqlite_real_transactions(_db.engine)
    return app


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
