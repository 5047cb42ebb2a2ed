"""Suite-wide hooks: a PostgreSQL database per xdist worker, the browser journeys' group,
the garbage collector kept off the session's long-lived objects.

The fixtures live in ``tests/fixtures.py``, loaded here in each process that runs tests:
the pytest-xdist controller only hands out tests, and importing the application there
would delay every worker's start by its import time.
"""

from __future__ import annotations

import gc
import os

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.browser.helpers import browser_group


def pytest_configure(config):
    """Load the fixtures where tests run; give each xdist worker a PostgreSQL database.

    ``make test`` runs the suite in parallel (``-n auto``). On PostgreSQL the workers would
    share ``TEST_DATABASE_URL``'s database, so worker ``gwN`` gets ``<database>_gwN`` on the
    same server instead (created when missing; every ``app`` fixture resets its schema).
    SQLite needs nothing: each worker's ``tmp_path_factory`` is its own.
    """
    if not _xdist_controller(config):
        config.pluginmanager.import_plugin("tests.fixtures")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not worker or not url.startswith("postgresql"):
        return
    server = make_url(url)
    name = f"{server.database}_{worker}"
    # the server's maintenance database: the named one need not exist
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": name})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    os.environ["TEST_DATABASE_URL"] = server.set(database=name).render_as_string(
        hide_password=False)


def _xdist_controller(config) -> bool:
    """True in the pytest-xdist controller process of a parallel run (``-n N``, N > 0)."""
    return not hasattr(config, "workerinput") and bool(
        getattr(config.option, "numprocesses", 0))


def pytest_itemcollected(item):
    """Keep the browser journeys on one xdist worker (``--dist loadgroup``): the demo server
    is seeded and chromium started once per run, and a journey's later steps find the state
    its earlier steps left. Each journey module also passes alone (its first step signs in
    afresh). A server and chromium per worker, journeys spread over both, measured slower:
    seeding twice cost more than the balance gained (full suite 90 s against 86 s).

    Marked as each item is collected: xdist reads the ``xdist_group`` marks in its
    ``pytest_collection_modifyitems``, which may run before any conftest's hook of that name.
    """
    if item.get_closest_marker("browser"):
        item.add_marker(pytest.mark.xdist_group(browser_group(item)))



def pytest_collection_finish(session):
    """Freeze the objects alive after collection (about 345,000: the application, pandas,
    Hypothesis, the collected tests) into the collector's permanent generation.

    They live for the whole session, yet each full collection walked them all again:
    about 2.5 s of a worker's 28 s went to the garbage collector.
    """
    gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Freeze what the session leaves, so the interpreter's final collections at exit skip it.

    A worker's exit otherwise spent 1–3 s walking the session's objects while the
    controller waited for it (``gc.freeze``: frozen objects are never collected).
    """
    gc.freeze()
