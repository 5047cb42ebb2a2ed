"""Every scorecard query is served by indexes on PostgreSQL at a realistic size.

A scratch database holds a bank of 1 HQ, 10 branches and 100 sub-branches, 2,000
front-line staff, 3 SOP plans posting every day for 60 days (360,000 tasks) and about
970,000 interaction events (3 per done task), built with ``generate_series`` and ANALYZEd. Then each
scorecard statement of ``app.metrics.queries`` (one branch for a week, the whole bank for
one day, the chart's daily series of a branch over a month) is EXPLAINed on the app's own
connections (``jit = off``, ``random_page_cost = 1.1``): none may read ``tasks`` or
``interaction_events`` with a sequential scan. (The whole bank over a month
legitimately reads a third of the events; it is timed in bench/scorecard_bench.py.)
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import text

from app.core.extensions import db as _db
from app.metrics.queries import PARTS, Scope, scorecard_statement
from tests.ops.conftest import plan_scans, scratch_app

#: One worker builds the bank for all of this module's tests (``--dist loadgroup``).
pytestmark = [pytest.mark.timeout(900), pytest.mark.xdist_group("explain-scorecard")]
LAST_DAY = dt.date(2025, 4, 25)
DAYS = 60
#: Tables that grow with staff × days (posts grow with plans × days only: hundreds to a few
#: tens of thousands of rows, which the planner may read whole).
BIG_TABLES = {"tasks", "interaction_events"}

BUILD = [
    "INSERT INTO branches (id, code, name, level, parent_id, path)"
    " VALUES (1, 'HQ', '总行', 'hq', NULL, '/1/')",
    "INSERT INTO branches (id, code, name, level, parent_id, path)"
    " SELECT 1 + b, 'B' || b, '分行' || b, 'branch', 1, '/1/' || (1 + b) || '/'"
    " FROM generate_series(1, 10) b",
    "INSERT INTO branches (id, code, name, level, parent_id, path)"
    " SELECT 100 + s, 'S' || s, '支行' || s, 'sub_branch', 2 + (s - 1) / 10,"
    " '/1/' || (2 + (s - 1) / 10) || '/' || (100 + s) || '/'"
    " FROM generate_series(1, 100) s",
    "INSERT INTO users (id, username, display_name, password_hash, role, branch_id,"
    " is_active_account, is_demo, created_at, session_version, must_change_password)"
    " VALUES (1, 'editor', 'E', 'x', 'editor', 1, true, false, now(), 0, false)",
    "INSERT INTO users (id, username, display_name, password_hash, role, branch_id,"
    " is_active_account, is_demo, created_at, session_version, must_change_password)"
    " SELECT 1 + u, 'rm' || u, 'RM' || u, 'x', 'frontline', 101 + (u - 1) % 100, true, false,"
    " now(), 0, false FROM generate_series(1, 2000) u",
    "INSERT INTO content_templates (id, slug, title, product, content_kind, channel, status,"
    " author_id, created_at, updated_at) SELECT t, 't' || t, '模板' || t, 'fund',"
    " 'product_promotion', 'moments_post', 'approved', 1, now(), now()"
    " FROM generate_series(1, 3) t",
    "INSERT INTO template_versions (id, template_id, number, body, body_sha256, author_id,"
    " created_at) SELECT t, t, 1, 'x', repeat('0', 64), 1, now() FROM generate_series(1, 3) t",
    "INSERT INTO sop_plans (id, name, template_id, branch_id, send_time, timezone, calendar,"
    " schedule, is_active, channel, created_by_id, created_at) SELECT p, 'SOP' || p, p, 1,"
    " '09:00', 'Asia/Shanghai', 'XSHG', 'trading-days@09:00', true, 'moments_post', 1, now()"
    " FROM generate_series(1, 3) p",
    "INSERT INTO posts (sop_plan_id, run_date, template_version_id, market_as_of, scheduled_at,"
    " status, created_at) SELECT p, CAST(:last AS date) - d, p, '{}', now(), 'published', now()"
    " FROM generate_series(1, 3) p, generate_series(0, :days - 1) d",
    "INSERT INTO tasks (post_id, staff_id, body, body_sha256, status, due_at, completed_at,"
    " reach_count, created_at) SELECT po.id, u.id, 'x', repeat('0', 64),"
    " CASE WHEN (po.id + u.id) % 10 = 0 THEN 'assigned' ELSE 'done' END,"
    " po.scheduled_at + interval '2 hours',"
    " CASE WHEN (po.id + u.id) % 10 = 0 THEN NULL ELSE po.scheduled_at + interval '1 hour' END,"
    " CASE WHEN (po.id + u.id) % 10 = 0 THEN NULL ELSE 50 END, now()"
    " FROM posts po, users u WHERE u.role = 'frontline'",
    "INSERT INTO interaction_events (reporter_id, event_id, task_id, kind, quantity, amount_cny,"
    " occurred_at, created_at) SELECT t.staff_id, 'e' || t.id || '-' || k, t.id,"
    " (ARRAY['like','comment','inquiry'])[k], 1, NULL, now(), now()"
    " FROM tasks t, generate_series(1, 3) k WHERE t.status = 'done'",
]


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    """An app on a scratch database holding the bank above, analysed."""
    with scratch_app("test_explain", BUILD, {"last": LAST_DAY, "days": DAYS},
                     CHART_OUTPUT_DIR=str(tmp_path_factory.mktemp("charts"))) as app:
        yield app


def _explain(app, scope: Scope, parts=PARTS) -> list[tuple[str, str]]:
    with app.app_context():
        statement = scorecard_statement(scope, parts)
        compiled = statement.compile(dialect=_db.engine.dialect,
                                     compile_kwargs={"literal_binds": True})
        with _db.engine.connect() as connection:
            raw = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}").scalar()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    return plan_scans(plan[0]["Plan"])


def test_the_bank_is_of_realistic_size(bank):
    with bank.app_context():
        counts = {t: _db.session.scalar(text(f"SELECT count(*) FROM {t}"))
                  for t in sorted(BIG_TABLES)}
        _db.session.remove()
    assert counts["tasks"] == 3 * DAYS * 2000
    assert counts["interaction_events"] > 900_000


@pytest.mark.parametrize(("label", "path", "days", "parts"), [
    ("one branch, one week", "/1/2/", 7, PARTS),
    ("one sub-branch, one week", "/1/2/101/", 7, PARTS),
    # These two read whole tables with the server's random_page_cost of 4; the app's
    # connections run with 1.1 (DB_RANDOM_PAGE_COST, app.core.serving).
    ("whole bank, one day", None, 1, PARTS),
    ("daily chart of a branch, a month", "/1/2/", 30, ("day",)),
])
def test_scorecard_reads_big_tables_through_indexes(bank, label, path, days, parts):
    scope = Scope(path, LAST_DAY - dt.timedelta(days=days - 1), LAST_DAY)
    scans = _explain(bank, scope, parts)
    sequential = [relation for node, relation in scans
                  if node == "Seq Scan" and relation in BIG_TABLES]
    assert {relation for _, relation in scans} >= BIG_TABLES, scans
    assert sequential == [], f"{label}: sequential scans of {sequential} in {scans}"
