"""Benchmark the frequency-cap load the plan form computes, against the floor of its reads.

Builds a fresh database (a temporary SQLite file, or the PostgreSQL database given by
``--database-url``, whose tables are dropped first): HQ, 40 branches, B sub-branches spread
over them, and P active promotional plans (weekly schedules, audiences of 1–3 branches or
sub-branches, a third of them 群发 to one or two segments). Times
``app.broadcasts.caps.weekly_load()`` (every segment × 4 weeks), and ``cap_errors`` for one
more plan (two loads). The floor, on the same data: the rows those computations read
(branch paths, the promotional plans, their audience rows, runs counted per plan,
segments) with plain SELECTs.

Usage: ``python bench/caps_bench.py [--branches 5000] [--plans 200] [--database-url URL]``.
The last line is JSON: ``{"branches", "plans", "seconds", "check_seconds",
"floor_seconds", "ratio", "database"}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from app.core.extensions import db  # noqa: E402
from app.factory import create_app  # noqa: E402
from bench.schema import fresh_schema  # noqa: E402
from bench.timing import best  # noqa: E402
from config import TestConfig  # noqa: E402

DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def build(branch_count: int, plan_count: int) -> tuple[int, list[int]]:
    """The organisation and the plans; returns (template id, sub-branch ids)."""
    from app.broadcasts.models import SopPlan
    from app.broadcasts.plan_models import PlanAudience
    from app.content.models import ContentTemplate
    from app.customers.models import Segment
    from app.org.models import Branch, BranchLevel, User
    from app.org.services import set_branch_path

    rng = random.Random(9)
    hq = Branch(code="HQ", name="总行", level=BranchLevel.hq)
    db.session.add(hq)
    set_branch_path(hq)
    branches = [Branch(code=f"B{i:02d}", name=f"分行{i}", level=BranchLevel.branch, parent=hq)
                for i in range(40)]
    db.session.add_all(branches)
    db.session.flush()
    for branch in branches:
        set_branch_path(branch)
    db.session.execute(Branch.__table__.insert(), [
        {"code": f"S{i:05d}", "name": f"支行{i}", "level": "sub_branch",
         "parent_id": branches[i % 40].id, "path": f"{branches[i % 40].path}s{i}/"}
        for i in range(branch_count)])
    db.session.execute(text("UPDATE branches SET path = (SELECT p.path FROM branches p "
                            "WHERE p.id = branches.parent_id) || id || '/' "
                            "WHERE level = 'sub_branch'"))
    editor = User(username="editor", display_name="编辑", role="editor", branch=hq,
                  password_hash="x")
    db.session.add(editor)
    db.session.flush()
    template = ContentTemplate(slug="promo", title="基金推介", product="fund",
                               content_kind="product_promotion", channel="mass_message",
                               status="approved", author_id=editor.id)
    db.session.add(template)
    db.session.flush()
    subs = list(db.session.scalars(db.select(Branch.id).where(Branch.level == "sub_branch")))
    segments = list(db.session.scalars(db.select(Segment.id)))
    targets = [b.id for b in branches] + subs
    for i in range(plan_count):
        days = ",".join(sorted(rng.sample(DAYS, rng.randint(1, 2)), key=DAYS.index))
        chosen = rng.sample(targets, rng.randint(1, 3))
        plan = SopPlan(name=f"p{i}", template_id=template.id, branch_id=chosen[0],
                       send_time=dt.time(9, i % 60), calendar="weekdays",
                       schedule=f"weekly:{days}@09:{i % 60:02d}", created_by_id=editor.id)
        db.session.add(plan)
        db.session.flush()
        rows = [PlanAudience(sop_plan_id=plan.id, branch_id=b, position=n)
                for n, b in enumerate(chosen)]
        if i % 3 == 0:
            rows += [PlanAudience(sop_plan_id=plan.id, segment_id=s, position=len(chosen) + n)
                     for n, s in enumerate(rng.sample(segments, rng.randint(1, 2)))]
        db.session.add_all(rows)
    db.session.commit()
    return template.id, subs


def floor() -> float:
    """The reads alone: branch paths, promotional plans, audience rows, runs, segments."""
    def work():
        connection = db.session.connection()
        connection.execute(text("SELECT path FROM branches")).all()
        connection.execute(text(
            "SELECT p.id, p.schedule, p.timezone, p.start_date, p.end_date, p.max_runs "
            "FROM sop_plans p JOIN content_templates t ON t.id = p.template_id "
            "WHERE p.is_active AND p.archived_at IS NULL "
            "AND t.content_kind = 'product_promotion'")).all()
        connection.execute(text(
            "SELECT a.sop_plan_id, b.path, a.segment_id FROM plan_audience a "
            "LEFT JOIN branches b ON b.id = a.branch_id")).all()
        connection.execute(text("SELECT sop_plan_id, count(*) FROM plan_runs "
                                "GROUP BY sop_plan_id")).all()
        connection.execute(text("SELECT id, code, name FROM segments")).all()
        db.session.rollback()

    seconds, _ = best(work, repeat=3)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--branches", type=int, default=5000)
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--database-url", help="PostgreSQL URL (its tables are dropped)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="zt-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'b.sqlite3'}"
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=url, LOG_LEVEL="WARNING",
                     BUSINESS_DATE="2025-04-21")
    with app.app_context():
        fresh_schema()
        template_id, subs = build(args.branches, args.plans)
        from app.broadcasts.caps import candidate_of, cap_errors, weekly_load
        from app.broadcasts.plan_rules import PlanInput
        from app.content.models import ContentTemplate

        load_s, loads = best(weekly_load, repeat=3)
        candidate = candidate_of(
            PlanInput("new", template_id, subs[:2], dt.time(10, 0), schedule="weekly:FRI@10:00"),
            db.session.get(ContentTemplate, template_id), None)
        check_s, _ = best(lambda: cap_errors(candidate), repeat=3)
        floor_s = floor()
        database = db.engine.dialect.name
    worst = max(load.count for load in loads)
    print(f"branches={args.branches + 41} plans={args.plans} worst weekly count={worst}")
    print(f"weekly_load (every segment x 4 weeks)        {load_s:8.3f} s")
    print(f"cap_errors for one more plan (two loads)     {check_s:8.3f} s")
    print(f"floor: the same reads, plain SELECTs         {floor_s:8.3f} s")
    print(json.dumps({"branches": args.branches + 41, "plans": args.plans,
                      "seconds": round(load_s, 3), "check_seconds": round(check_s, 3),
                      "floor_seconds": round(floor_s, 3),
                      "ratio": round(load_s / floor_s, 2) if floor_s else None,
                      "database": database}))


if __name__ == "__main__":
    main()
