"""Fixtures of the operations tests: scratch PostgreSQL databases, live servers."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.frontline_fixtures import make_task, pinned_business_date  # noqa: F401


def postgres_url() -> str | None:
    """``TEST_DATABASE_URL`` when it names PostgreSQL, else ``None``."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


needs_postgres = pytest.mark.skipif(postgres_url() is None,
                                    reason="needs TEST_DATABASE_URL on PostgreSQL")


def create_database(name: str) -> str:
    """Create an empty database ``name`` beside the test database; returns its URL."""
    base = make_url(postgres_url())
    admin = create_engine(base, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    """Drop ``name``, ending its sessions first."""
    admin = create_engine(make_url(postgres_url()), poolclass=NullPool,
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = :name AND pid <> pg_backend_pid()"),
                           {"name": name})
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture
def scratch_database():
    """URL of a new empty PostgreSQL database, dropped after the test (PostgreSQL runs only)."""
    if postgres_url() is None:
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")
    name = f"{make_url(postgres_url()).database}_scratch_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    try:
        yield url
    finally:
        drop_database(name)


@pytest.fixture
def make_app(app, db):
    """``make_app(**overrides)``: another app on the test database, sharing the test session."""
    from app.factory import create_app
    from config import TestConfig

    def _make(**overrides):
        settings = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                    "CHART_OUTPUT_DIR": app.config["CHART_OUTPUT_DIR"],
                    "BUSINESS_DATE": "2025-04-25", "WTF_CSRF_ENABLED": False}
        settings.update(overrides)
        return create_app(TestConfig(), **settings)

    return _make


@pytest.fixture
def api_headers(db):
    """``api_headers(user)``: a bearer token header for ``user`` (committed to the test session)."""
    from app.auth.services import issue_api_token

    def _headers(user) -> dict:
        token = issue_api_token(user)
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return _headers


@contextmanager
def scratch_app(prefix: str, build: list[str], params: dict, **config):
    """An app on a new scratch database, migrated, filled by ``build`` (SQL) and ANALYZEd.

    Skips the test without PostgreSQL; drops the database afterwards.
    """
    from flask_migrate import upgrade

    from app.core.extensions import db
    from app.factory import create_app
    from config import TestConfig

    if postgres_url() is None:
        pytest.skip("EXPLAIN checks need TEST_DATABASE_URL on PostgreSQL")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=create_database(name), **config)
    try:
        with app.app_context():
            upgrade()
            for statement in build:
                db.session.execute(text(statement), params)
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("ANALYZE"))
            db.session.remove()
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(name)


def plan_scans(plan: dict) -> list[tuple[str, str]]:
    """(node type, relation) of every scan node in an EXPLAIN (FORMAT JSON) plan."""
    found = [(plan["Node Type"], plan["Relation Name"])] if "Relation Name" in plan else []
    for child in plan.get("Plans", []):
        found += plan_scans(child)
    return found


#: The real Redis of this machine and CI; database 15, keys namespaced per test.
REDIS = "redis://127.0.0.1:6379/15"


def run_worker(app, queue_name: str) -> None:
    """Process every message of ``queue_name`` with a real Dramatiq worker, then stop it."""
    import dramatiq

    broker = app.extensions["task_queue"].broker
    with app.app_context():
        app.extensions["task_queue"].declare_all()
    worker = dramatiq.Worker(broker, queues={queue_name}, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        broker.join(queue_name, timeout=60_000)
        worker.join()
    finally:
        worker.stop()
