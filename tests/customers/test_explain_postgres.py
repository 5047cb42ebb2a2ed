"""The manager's coverage page reads only the snapshot tables, through indexes, on PostgreSQL.

A scratch database holds 1 HQ, 10 branches, 100 sub-branches, 2,000 RMs and 60 days of
daily snapshots (480,000 coverage rows, 120,000 adds rows), built with ``generate_series``
and ANALYZEd. The page of one branch (``coverage_overview``) and its trend chart's query
are run with every statement captured; each is then EXPLAINed with its own parameters:
none may touch the raw customer tables, nor read a snapshot table sequentially.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import event, select

from app.core.extensions import db as _db
from app.customers.services import coverage_overview, subtree_trend
from app.org.models import User
from tests.ops.conftest import plan_scans, scratch_app

#: One worker builds the bank for all of this module's tests (``--dist loadgroup``).
pytestmark = [pytest.mark.timeout(900), pytest.mark.xdist_group("explain-coverage")]
ON = dt.date(2025, 4, 25)
DAYS = 60
SNAPSHOTS = {"coverage_snapshots", "adds_snapshots"}
RAW = {"customers", "customer_ownerships", "wecom_contacts", "verifications"}

BUILD = [
    "INSERT INTO branches (id, code, name, level, parent_id, path, province_code)"
    " VALUES (1, 'HQ', '总行', 'hq', NULL, '/1/', '33')",
    "INSERT INTO branches (id, code, name, level, parent_id, path, province_code)"
    " SELECT 1 + b, 'B' || b, '分行' || b, 'branch', 1, '/1/' || (1 + b) || '/', '33'"
    " FROM generate_series(1, 10) b",
    "INSERT INTO branches (id, code, name, level, parent_id, path, province_code)"
    " SELECT 100 + s, 'S' || s, '支行' || s, 'sub_branch', 2 + (s - 1) / 10,"
    " '/1/' || (2 + (s - 1) / 10) || '/' || (100 + s) || '/', '33'"
    " FROM generate_series(1, 100) s",
    "INSERT INTO users (id, username, display_name, password_hash, role, branch_id,"
    " is_active_account, is_demo, created_at, session_version, must_change_password)"
    " SELECT 1 + u, 'rm' || u, 'RM' || u, 'x', 'frontline', 101 + (u - 1) % 100, true, false,"
    " now(), 0, false FROM generate_series(1, 2000) u",
    "INSERT INTO users (id, username, display_name, password_hash, role, branch_id,"
    " is_active_account, is_demo, created_at, session_version, must_change_password)"
    " VALUES (5000, 'manager', 'M', 'x', 'manager', 2, true, false, now(), 0, false)",
    "INSERT INTO coverage_snapshots (snapshot_date, staff_id, segment_id, customers, covered)"
    " SELECT CAST(:on AS date) - d, u.id, s.id, 100, 40 FROM generate_series(0, :days - 1) d,"
    " users u, segments s WHERE u.role = 'frontline'",
    "INSERT INTO adds_snapshots (snapshot_date, staff_id, adds, valid_adds, not_verified,"
    " not_customer, no_account, not_own_customer, not_first_add, out_of_province)"
    " SELECT CAST(:on AS date) - d, u.id, 30, 20, 5, 1, 1, 1, 1, 1"
    " FROM generate_series(0, :days - 1) d, users u WHERE u.role = 'frontline'",
]


@pytest.fixture(scope="module")
def bank():
    """An app on a scratch database holding the bank above, analysed."""
    with scratch_app("test_explain_cov", BUILD, {"on": ON, "days": DAYS}) as app:
        yield app


def _captured_scans(app, build) -> list[tuple[str, str]]:
    """Run ``build()`` with its SELECTs captured, then EXPLAIN each with its parameters."""
    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    with app.test_request_context():
        event.listen(_db.engine, "before_cursor_execute", capture)
        try:
            build()
        finally:
            event.remove(_db.engine, "before_cursor_execute", capture)
        scans = []
        with _db.engine.connect() as connection:
            for statement, parameters in captured:
                raw = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}",
                                                 parameters).scalar()
                plan = raw if isinstance(raw, list) else json.loads(raw)
                scans += plan_scans(plan[0]["Plan"])
        _db.session.remove()
    return scans


def _manager():
    return _db.session.scalar(select(User).where(User.username == "manager"))


@pytest.mark.parametrize("label", ["branch page", "sub-branch page", "branch trend"])
def test_the_branch_page_reads_snapshots_through_indexes(bank, label):
    def build():
        manager = _manager()
        if label == "branch page":
            overview = coverage_overview(manager, None, ON)
            assert overview.as_of == ON and len(overview.staff) == 200 * 4
        elif label == "sub-branch page":
            assert coverage_overview(manager, 101, ON).as_of == ON
        else:
            assert len(subtree_trend(manager, None, ON).points) == 30 * 4

    scans = _captured_scans(bank, build)
    relations = {relation for _, relation in scans}
    assert relations & SNAPSHOTS, scans
    assert not relations & RAW, f"{label} reads raw rows: {scans}"
    sequential = [r for node, r in scans if node == "Seq Scan" and r in SNAPSHOTS]
    assert sequential == [], f"{label}: sequential scans of {sequential} in {scans}"
