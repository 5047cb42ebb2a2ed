"""SQLite under concurrency: pragmas on every connection, and what ``lock_rows`` relies on.

Each test uses a SQLite file of its own, whatever ``TEST_DATABASE_URL`` says.
"""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError

from app.broadcasts.models import Task
from app.broadcasts.scheduler import database_engine
from app.core.extensions import db as _db
from app.core.locks import lock_rows
from app.core.sqlite import configure_sqlite_engine
from app.factory import create_app
from config import TestConfig

BEFORE_CHECKS = "f1170b4c52a2"  # the revision before the table rebuilds of 65bca8b170dc


@pytest.fixture
def sqlite_app(tmp_path):
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.sqlite3'}",
                     SQLITE_BUSY_TIMEOUT_MS=1234)
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


def _pragmas(connection) -> tuple:
    return tuple(connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                 for name in ("journal_mode", "busy_timeout", "foreign_keys"))


def test_every_app_connection_gets_wal_busy_timeout_and_foreign_keys(sqlite_app):
    with _db.engine.connect() as connection:
        assert _pragmas(connection) == ("wal", 1234, 1)


def test_the_scheduler_lock_connections_get_them_too(sqlite_app):
    engine = database_engine(sqlite_app)
    with engine.connect() as connection:
        assert _pragmas(connection) == ("wal", 1234, 1)
    engine.dispose()


def test_foreign_keys_are_enforced(sqlite_app):
    _db.create_all()
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        with _db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO tasks (post_id, staff_id, body, body_sha256, status, due_at, "
                "created_at) VALUES (999, 999, 'x', 'x', 'assigned', '2025-04-25 02:30:00', "
                "'2025-04-25 00:00:00')"))


def test_a_read_opens_no_transaction_and_lock_rows_takes_the_write_lock(sqlite_app):
    """``app.core.locks`` relies on pysqlite's default transaction handling; keep it."""
    _db.create_all()
    with _db.engine.connect() as connection:
        driver = connection.connection.driver_connection
        connection.execute(select(Task.id))
        assert not driver.in_transaction  # reads run outside a transaction
        lock_rows(connection, Task, Task.id == 1)
        assert driver.in_transaction  # the no-op UPDATE began it, holding the write lock
        with create_engine(sqlite_app.config["SQLALCHEMY_DATABASE_URI"]).connect() as other:
            other.exec_driver_sql("PRAGMA busy_timeout = 0")
            with pytest.raises(Exception, match="database is locked"):
                other.exec_driver_sql("BEGIN IMMEDIATE")
        connection.rollback()


def test_migrations_rebuild_referenced_tables_with_foreign_keys_enforced(sqlite_app):
    upgrade(revision=BEFORE_CHECKS)
    with _db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO branches (id, code, name, level, path) VALUES (1, 'HQ', '总行', 'hq', "
            "'/1/')"))
        connection.execute(text(
            "INSERT INTO users (id, username, display_name, password_hash, role, branch_id, "
            "is_active_account, is_demo, created_at) VALUES (1, 'u', 'u', 'x', 'editor', 1, 1, "
            "0, '2025-01-01 00:00:00')"))
    upgrade()  # rebuilds branches and users, which other rows reference
    downgrade(revision=BEFORE_CHECKS)
    upgrade()
    with _db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM users")).scalar() == 1
        assert _pragmas(connection)[2] == 1  # enforcement back on for the app


@pytest.mark.parametrize("value", [-1, "15000", True])
def test_a_bad_busy_timeout_is_refused(value):
    engine = create_engine("sqlite://")
    with pytest.raises(ValueError, match="SQLITE_BUSY_TIMEOUT_MS"):
        configure_sqlite_engine(engine, value)
