"""Benchmark the scorecard queries on a synthetic SQLite database.

Builds, in a fresh temporary SQLite file, 1 HQ → 10 branches → 100 sub-branches,
2,000 front-line staff, 3 SOP plans posting every day for 20 days (120,000 tasks,
about 90 % done) and 1,000,000 interaction events inserted day by day (each day's events
hit random tasks of that day, as they would arrive in production), then times:

- the floor: ``SELECT count(*), sum(quantity) FROM interaction_events`` (one full scan);
- the whole-bank scorecard over the 20 days (all tables, totals and daily series);
- a one-branch scorecard for the last ISO week, and the chart's daily series alone.

Usage: ``.venv/bin/python bench/scorecard_bench.py [--events N] [--staff N] [--days N]``.
Only numbers are printed; the database file is deleted afterwards (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.dialects import sqlite as sqlite_dialect  # noqa: E402
from sqlalchemy.schema import CreateIndex  # noqa: E402

from app.core.extensions import db  # noqa: E402
from app.factory import create_app  # noqa: E402
from config import TestConfig  # noqa: E402

KINDS = ["like", "comment", "inquiry", "reply", "block", "delete", "conversion"]
KIND_WEIGHTS = [50, 15, 8, 20, 2, 2, 3]
FIRST_DAY = dt.date(2025, 3, 31)
SOP_COUNT = 3


def ts(moment: dt.datetime) -> str:
    """A UTC instant in the text format SQLAlchemy's SQLite DateTime stores."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def build_org(cur: sqlite3.Cursor, staff_count: int) -> tuple[list[int], list[int]]:
    """Insert branches and users; return (sub-branch ids, staff ids)."""
    now = ts(dt.datetime(2025, 1, 1))
    cur.execute("INSERT INTO branches (id, code, name, level, parent_id, path) "
                "VALUES (1, 'HQ', '总行', 'hq', NULL, '/1/')")
    branches, subs, next_id = [], [], 2
    for b in range(10):
        branch_id = next_id
        next_id += 1
        branches.append((branch_id, f"B{b:02d}", f"分行{b}", "branch", 1, f"/1/{branch_id}/"))
        for s in range(10):
            subs.append((next_id, f"B{b:02d}S{s:02d}", f"支行{b}-{s}", "sub_branch", branch_id,
                         f"/1/{branch_id}/{next_id}/"))
            next_id += 1
    cur.executemany("INSERT INTO branches (id, code, name, level, parent_id, path) "
                    "VALUES (?, ?, ?, ?, ?, ?)", branches + subs)
    users = [(1, "editor", "编辑", "x", "editor", 1, None, 1, 0, now)]
    users += [(i + 2, f"rm{i:05d}", f"客户经理{i}", "x", "frontline", subs[i % len(subs)][0],
               None, 1, 0, now) for i in range(staff_count)]
    cur.executemany("INSERT INTO users (id, username, display_name, password_hash, role, "
                    "branch_id, api_token_sha256, is_active_account, is_demo, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", users)
    return [s[0] for s in subs], [u[0] for u in users[1:]]


def build_content(cur: sqlite3.Cursor, days: int) -> list[tuple[int, dt.date]]:
    """Insert templates, versions, SOP plans and posts; return (post id, run date) pairs."""
    now = ts(dt.datetime(2025, 1, 1))
    for t in range(1, SOP_COUNT + 1):
        cur.execute("INSERT INTO content_templates (id, slug, title, product, channel, "
                    "content_kind, status, author_id, created_at, updated_at) VALUES (?, ?, ?, "
                    "'general', 'moments_post', 'market_commentary', 'approved', 1, ?, ?)",
                    (t, f"t{t}", f"模板{t}", now, now))
        cur.execute("INSERT INTO template_versions (id, template_id, number, body, body_sha256, "
                    "author_id, created_at) VALUES (?, ?, 1, 'x', 'x', 1, ?)", (t, t, now))
        cur.execute("INSERT INTO sop_plans (id, name, template_id, branch_id, send_time, "
                    "timezone, calendar, schedule, is_active, channel, created_by_id, "
                    "created_at) VALUES (?, ?, ?, 1, '08:30:00.000000', 'Asia/Shanghai', "
                    "'XSHG', 'trading-days@08:30', 1, 'moments_post', 1, ?)",
                    (t, f"SOP{t}", t, now))
    posts = []
    for d in range(days):
        run_date = FIRST_DAY + dt.timedelta(days=d)
        for sop in range(1, SOP_COUNT + 1):
            posts.append((len(posts) + 1, sop, run_date.isoformat(), sop, None, "{}",
                          ts(dt.datetime.combine(run_date, dt.time(0, 30))), "published", now))
    cur.executemany("INSERT INTO posts (id, sop_plan_id, run_date, template_version_id, "
                    "chart_image_id, market_as_of, scheduled_at, status, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", posts)
    return [(p[0], dt.date.fromisoformat(p[2])) for p in posts]


def build_tasks(cur, rng, posts, staff_ids) -> list[tuple[int, int]]:
    """One task per post and staff member; return (task id, staff id) pairs."""
    rows, pairs = [], []
    for post_id, run_date in posts:
        due = dt.datetime.combine(run_date, dt.time(2, 30))
        for staff_id in staff_ids:
            task_id = len(rows) + 1
            done = rng.random() < 0.9
            late = dt.timedelta(minutes=rng.choice((-60, -10, 30)))
            rows.append((task_id, post_id, staff_id, "x", "x", "done" if done else "assigned",
                         ts(due), ts(due + late) if done else None,
                         rng.randint(20, 200) if done else None, ts(due)))
            pairs.append((task_id, staff_id))
    cur.executemany("INSERT INTO tasks (id, post_id, staff_id, body, body_sha256, status, due_at, "
                    "completed_at, reach_count, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return pairs


def event_rows(rng, tasks, count, days):
    """Yield about ``count`` interaction-event rows, day by day as they would arrive.

    Tasks were created post by post in date order, so the tasks of day ``d`` are a
    contiguous slice; each day's events pick random tasks of that day (realistic
    locality: reactions come within a day of the post, interleaved across staff).
    """
    per_day_tasks = len(tasks) // days
    per_day_events = count // days
    amounts = [f"{rng.randint(1000, 500000)}.00" for _ in range(997)]
    event_no = 0
    for day in range(days):
        day_tasks = tasks[day * per_day_tasks:(day + 1) * per_day_tasks]
        opening = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day), dt.time(1, 0))
        moments = [ts(opening + dt.timedelta(seconds=30 * i)) for i in range(1200)]
        picks = rng.choices(day_tasks, k=per_day_events)
        kinds = rng.choices(KINDS, weights=KIND_WEIGHTS, k=per_day_events)
        for (task_id, staff_id), kind in zip(picks, kinds, strict=True):
            event_no += 1
            amount = amounts[event_no % 997] if kind == "conversion" else None
            moment = moments[event_no % 1200]
            yield (event_no, staff_id, f"e{event_no:08d}", task_id, kind, 1, amount, moment,
                   moment)


def build(path: Path, staff: int, days: int, events: int) -> dict[str, float]:
    """Create the schema with SQLAlchemy, then bulk-load rows with sqlite3 executemany."""
    timings = {}
    started = time.perf_counter()
    rng = random.Random(20250425)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")  # 1 GB page cache for the bulk load only
    cur = con.cursor()
    indexes = [ix for table in ("tasks", "interaction_events")
               for ix in db.metadata.tables[table].indexes]
    for index in indexes:  # rebuilt after the load: much faster than row-by-row upkeep
        cur.execute(f"DROP INDEX {index.name}")
    _, staff_ids = build_org(cur, staff)
    posts = build_content(cur, days)
    tasks = build_tasks(cur, rng, posts, staff_ids)
    cur.executemany("INSERT INTO interaction_events (id, reporter_id, event_id, task_id, kind, "
                    "quantity, amount_cny, occurred_at, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    event_rows(rng, tasks, events, days))
    for index in indexes:
        cur.execute(str(CreateIndex(index).compile(dialect=sqlite_dialect.dialect())))
    con.commit()
    con.execute("ANALYZE")
    con.close()
    timings["load_s"] = time.perf_counter() - started
    timings["tasks"] = len(tasks)
    return timings


def best_of(fn, repeat: int) -> tuple[float, float]:
    """Run ``fn`` ``repeat`` times; return (best, median) wall time in milliseconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return min(samples), statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=2000)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="zt-bench-"))
    path = workdir / "bench.sqlite3"
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                     LOG_LEVEL="WARNING")
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    stats = build(path, args.staff, args.days, args.events)
    with app.app_context():
        run(args, stats)
    if not args.keep:
        for leftover in workdir.iterdir():
            leftover.unlink()
        workdir.rmdir()
    else:
        sys.stdout.write(f"database kept at {path}\n")


def run(args, stats) -> None:
    """Time the floor and the scorecard queries; print one line each."""
    from app.metrics import services
    from app.metrics.periods import Period, period_range
    from app.org.models import User

    editor = db.session.get(User, 1)
    end = FIRST_DAY + dt.timedelta(days=args.days - 1)
    week_start, _ = period_range(Period.weekly, end)
    count, total = db.session.execute(
        text("SELECT count(*), sum(quantity) FROM interaction_events")).one()
    lines = [
        f"rows: staff={args.staff} tasks={stats['tasks']} events={count} (sum quantity {total})",
        f"load: {stats['load_s']:.1f} s (schema + executemany)",
    ]
    whole, branch = "scorecard whole bank", "scorecard one branch (10 sub-branches)"
    cases = {
        "floor  SELECT count(*), sum(quantity) FROM interaction_events":
            lambda: db.session.execute(
                text("SELECT count(*), sum(quantity) FROM interaction_events")).one(),
        f"{whole} {FIRST_DAY}..{end} (1 statement, 6 parts)":
            lambda: services.scorecard(editor, None, FIRST_DAY, end),
        f"{whole} {end} (daily 日跟踪)": lambda: services.scorecard(editor, None, end, end),
        f"{branch} {week_start}..{end}": lambda: services.scorecard(editor, 2, week_start, end),
        f"daily series only (chart), whole bank {FIRST_DAY}..{end}":
            lambda: services.daily_only(editor, None, FIRST_DAY, end),
    }
    floor = None
    for label, fn in cases.items():
        best, median = best_of(fn, args.repeat)
        floor = floor or best
        lines.append(f"{label}: best {best:.0f} ms, median {median:.0f} ms"
                     f" ({best / floor:.1f}x floor)")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
