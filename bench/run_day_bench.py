"""Benchmark the daily run's plans against the floor measured in the same run.

Builds a fresh database (a temporary SQLite file, or the PostgreSQL database given by
``--database-url``, whose tables are dropped first) with N front-line staff in 50
sub-branches, the shipped template library, and P SOP plans cycling over its templates,
all for the whole bank. Runs the market step for 2025-04-25 once (printed, not part of the
ratio), then times the plans: ``render_plans`` + ``publish_plans`` (render, compliance,
insert), committed.

The floor, on the same data and database: render each wording of each plan once with plain
Jinja2 (no sandbox, no worker), substitute every staff member's name and branch, hash each
text (SHA-256), and insert the same rows as the run's tasks with a plain ``executemany``
into a scratch table of the same shape.

Usage: ``python bench/run_day_bench.py [--staff 10000] [--plans 20] [--database-url URL]``.
The last line is JSON: ``{"staff", "plans", "tasks", "seconds", "floor_seconds", "ratio",
"database"}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jinja2  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app.core.extensions import db  # noqa: E402
from app.factory import create_app  # noqa: E402
from bench.schema import fresh_schema  # noqa: E402
from bench.timing import best  # noqa: E402
from config import TestConfig  # noqa: E402

RUN_DATE = dt.date(2025, 4, 25)
SUB_BRANCHES = 50


def build(staff: int, plans: int) -> list[list[str]]:
    """Branches, staff, the library and ``plans`` SOP plans; returns each plan's wordings."""
    from app.auth.services import hash_password
    from app.broadcasts.models import SopPlan
    from app.content.library import install_library
    from app.org.models import Branch, BranchLevel, Role, User
    from app.org.services import set_branch_path

    hq = Branch(code="HQ", name="总行", level=BranchLevel.hq)
    db.session.add(hq)
    set_branch_path(hq)
    subs = [Branch(code=f"S{i:03d}", name=f"第{i}支行", level=BranchLevel.sub_branch, parent=hq)
            for i in range(SUB_BRANCHES)]
    db.session.add_all(subs)
    db.session.flush()
    for sub in subs:
        set_branch_path(sub)
    password = hash_password("bench")
    editor = User(username="editor", display_name="编辑", role=Role.editor, branch=hq,
                  password_hash=password)
    reviewer = User(username="reviewer", display_name="复核", role=Role.reviewer, branch=hq,
                    password_hash=password)
    db.session.add_all([editor, reviewer])
    db.session.flush()
    now = dt.datetime.now(dt.UTC)
    db.session.execute(User.__table__.insert(), [
        {"username": f"rm{i:05d}", "display_name": f"客户经理{i}", "role": "frontline",
         "branch_id": subs[i % SUB_BRANCHES].id, "password_hash": password,
         "is_active_account": True, "is_demo": False, "created_at": now}
        for i in range(staff)])
    templates = [t for t in install_library(editor.id, reviewer.id)
                 if "holiday" not in t.title and "劳动节" not in t.title]
    chosen = [templates[i % len(templates)] for i in range(plans)]
    for i, template in enumerate(chosen):
        db.session.add(SopPlan(name=f"plan {i}", template_id=template.id, branch_id=hq.id,
                               send_time=dt.time(8, 30 + i % 30), calendar="weekdays",
                               created_by_id=editor.id))
    db.session.commit()
    return [t.approved_version.bodies for t in chosen]


def floor(bodies, context, staff_rows, task_rows) -> float:
    """Seconds of the floor: plain render once per wording, substitute, hash, executemany.

    Staff member ``i`` gets wording ``i mod n`` (the run spreads them by sub-branch).
    """
    from app.rendering import sandbox

    plain = jinja2.Environment(keep_trailing_newline=True)
    plain.filters.update(num=sandbox.num, pct=sandbox.pct, updown=sandbox.updown,
                         cn_date=sandbox.cn_date, weekday_cn=sandbox.weekday_cn)
    marker = {"name": "\ue000N\ue001", "branch": "\ue000B\ue001"}
    columns = list(task_rows[0])
    db.session.execute(text(f"CREATE TABLE scratch ({', '.join(c + ' TEXT' for c in columns)})"))
    db.session.commit()
    marker_sql = "?" if db.engine.dialect.paramstyle == "qmark" else "%s"
    insert = f"INSERT INTO scratch VALUES ({', '.join([marker_sql] * len(columns))})"
    plain_rows = [tuple(None if v is None else str(v) for v in row.values())
                  for row in task_rows]

    def work():
        for wordings in bodies:
            onces = [plain.from_string(body).render({**context, "staff": marker})
                     for body in wordings]
            for index, (name, branch) in enumerate(staff_rows):
                once = onces[index % len(onces)]
                staff_text = once.replace(marker["name"], name).replace(marker["branch"], branch)
                hashlib.sha256(staff_text.encode()).hexdigest()
        db.session.connection().exec_driver_sql(insert, plain_rows)
        db.session.commit()

    seconds, _ = best(work)
    db.session.execute(text("DROP TABLE scratch"))
    db.session.commit()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=10000)
    parser.add_argument("--plans", type=int, default=20)
    parser.add_argument("--database-url", help="PostgreSQL URL (its tables are dropped)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="zt-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'b.sqlite3'}"
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=url,
                     CHART_OUTPUT_DIR=str(workdir / "charts"), LOG_LEVEL="WARNING")
    with app.app_context():
        fresh_schema()
        bodies = build(args.staff, args.plans)
        from app.broadcasts.models import Task
        from app.broadcasts.plan_texts import base_context
        from app.broadcasts.run_day import market_step, publish_plans, render_plans

        market_s, day = best(lambda: market_step(RUN_DATE))
        db.session.commit()

        def plans_step():
            result = publish_plans(day, render_plans(day))
            db.session.commit()
            return result

        run_s, result = best(plans_step)
        columns = [c.name for c in Task.__table__.columns if c.name != "id"]
        task_rows = [dict(row._mapping) for row in db.session.execute(
            db.select(*[Task.__table__.c[c] for c in columns]))]
        staff_rows = [tuple(r) for r in db.session.execute(text(
            "SELECT users.display_name, branches.name FROM users JOIN branches "
            "ON branches.id = users.branch_id WHERE users.role = 'frontline'"))]
        floor_s = floor(bodies, base_context(RUN_DATE, day.market, day.chart_urls),
                        staff_rows, task_rows)
        database = db.engine.dialect.name

    tasks = result.tasks_created
    print(f"staff={args.staff} plans={args.plans} posts={result.posts_created} tasks={tasks} "
          f"skipped={[s.reason for s in result.posts_skipped]}")
    print(f"market step (once per date, not in the ratio) {market_s:8.3f} s")
    print(f"plans: render, check, insert                  {run_s:8.3f} s")
    print(f"floor: render once, substitute, hash, insert  {floor_s:8.3f} s")
    print(json.dumps({"staff": args.staff, "plans": args.plans, "tasks": tasks,
                      "seconds": round(run_s, 3), "floor_seconds": round(floor_s, 3),
                      "ratio": round(run_s / floor_s, 2), "database": database}))


if __name__ == "__main__":
    main()
