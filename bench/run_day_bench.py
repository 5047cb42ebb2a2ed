"""Benchmark the daily run against floors measured in the same process.

Builds a fresh SQLite database with N front-line staff and the shipped template
library (3 SOP plans), then times ``run_day`` for 2025-04-25 and prints each
figure beside its floor:

* render floor: plain (non-sandboxed) Jinja2 rendering of the same template
  bodies for the same number of staff;
* insert floor: a plain ``executemany`` INSERT of the same number of task-sized
  rows into a scratch table of the same database;
* chart floor: the three chart renders alone (``render_charts``).

Usage: ``python bench/run_day_bench.py [--staff 2000]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jinja2  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.core.extensions import db  # noqa: E402
from bench.timing import best  # noqa: E402
from config import TestConfig  # noqa: E402

RUN_DATE = dt.date(2025, 4, 25)


def build(staff: int):
    from app.auth.services import hash_password
    from app.broadcasts.models import SopPlan
    from app.content.library import install_library
    from app.org.models import Branch, BranchLevel, Role, User
    from app.org.services import set_branch_path

    hq = Branch(code="HQ", name="总行", level=BranchLevel.hq)
    db.session.add(hq)
    set_branch_path(hq)
    password = hash_password("bench")
    editor = User(username="editor", display_name="编辑", role=Role.editor, branch=hq,
                  password_hash=password)
    reviewer = User(username="reviewer", display_name="复核", role=Role.reviewer, branch=hq,
                    password_hash=password)
    db.session.add_all([editor, reviewer])
    db.session.flush()
    db.session.execute(User.__table__.insert(), [
        {"username": f"rm{i:05d}", "display_name": f"客户经理{i}", "role": "frontline",
         "branch_id": hq.id, "password_hash": password, "is_active_account": True,
         "is_demo": False, "created_at": dt.datetime.now(dt.UTC)} for i in range(staff)])
    templates = install_library(editor.id, reviewer.id)
    plans = [t for t in templates if t.chart_spec]
    for i, template in enumerate(plans):
        db.session.add(SopPlan(name=f"plan {i}", template_id=template.id, branch_id=hq.id,
                               send_time=dt.time(8, 30), calendar="weekdays",
                               created_by_id=editor.id))
    db.session.commit()
    return [t.approved_version.body for t in plans]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=2000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="zt-bench-"))
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=f"sqlite:///{workdir / 'b.sqlite3'}",
                     CHART_OUTPUT_DIR=str(workdir / "charts"), LOG_LEVEL="WARNING")
    with app.app_context():
        upgrade()
        bodies = build(args.staff)
        from app.broadcasts.run_day import run_day
        from app.market.charts import render_charts
        from app.market.services import market_context, refresh_market_data

        refresh_market_data(RUN_DATE)
        chart_s, charts = best(lambda: render_charts(RUN_DATE))
        market = market_context(RUN_DATE)
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            run_s, result = best(lambda: profiler.runcall(run_day, RUN_DATE))
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        else:
            run_s, result = best(lambda: run_day(RUN_DATE))
        db.session.commit()
        tasks = result.tasks_created

        from app.content import sandbox

        plain = jinja2.Environment()
        plain.filters.update(num=sandbox.num, pct=sandbox.pct, updown=sandbox.updown,
                             cn_date=sandbox.cn_date, weekday_cn=sandbox.weekday_cn)
        compiled = [plain.from_string(b) for b in bodies]
        context = {"date": RUN_DATE.isoformat(), "market": market,
                   "charts": {c.spec: c.url for c in charts}}
        render_s, _ = best(lambda: [t.render(staff={"name": f"客户经理{i}", "branch": "总行"},
                                              **context)
                                     for t in compiled for i in range(args.staff)])
        db.session.execute(text("CREATE TABLE scratch (a INTEGER, b INTEGER, body TEXT, "
                                "sha TEXT, due TEXT, status TEXT)"))
        body = db.session.scalar(select(text("body")).select_from(text("tasks")).limit(1))
        rows = [{"a": i, "b": i, "body": body, "sha": "0" * 64, "due": "2025-04-25",
                 "status": "assigned"} for i in range(tasks)]
        insert_s, _ = best(lambda: db.session.execute(
            text("INSERT INTO scratch VALUES (:a, :b, :body, :sha, :due, :status)"), rows))
        db.session.commit()

    print(f"staff={args.staff} posts={result.posts_created} tasks={tasks}")
    print(f"run_day total           {run_s:8.3f} s   ({tasks / run_s:,.0f} tasks/s)")
    print(f"  floor: charts alone   {chart_s:8.3f} s")
    print(f"  floor: plain Jinja2   {render_s:8.3f} s   (same bodies x staff, no sandbox)")
    print(f"  floor: executemany    {insert_s:8.3f} s   ({tasks} task-sized rows)")
    floor = chart_s + render_s + insert_s
    print(f"  run_day / sum(floors) {run_s / floor:8.2f} x")


if __name__ == "__main__":
    main()
