"""Coverage report 覆盖率 on PostgreSQL from 100,000 to 1,000,000 customers.

Run: ``.venv/bin/python bench/coverage_bench.py --database-url
postgresql+psycopg://postgres@127.0.0.1:5432/bench_customers [--sizes 100000,300000,1000000]``
(the database is emptied and migrated first).

Bank: 1 head office, 10 branches 分行, 100 sub-branches 支行, 2,000 RMs. Each customer has an
owner (5 % reassigned once, so two ownership rows); 60 % are followed by their RM on WeCom
(added at random from 1 January to the report date, so a fifth this month; 10 % deleted 3
days later) and 80 % of those contacts verified 3 hours after the add; plus 20 % more
contacts of other staff. Rows are loaded with COPY, then ``ANALYZE``.

At each size, best of 3, beside a floor measured in the same run (``SELECT count(*) FROM
customers``):

- the live report (``staff_coverage`` + ``branch_coverage``: ``flask coverage report`` and
  the page with ``live=1``) for the whole bank, one 分行 and one 支行;
- the nightly snapshot of the whole bank (``take_snapshot``: coverage and month-to-date adds),
  then copied to the 29 days before for the trend;
- the manager's coverage page as the view builds it (``coverage_overview``: totals, heat-map
  cells, RM progress, month-to-date adds, all from the latest snapshot) for an admin (whole
  bank), the 分行 B3's manager, and that manager's 支行 B3S4. Target: a branch page under
  300 ms;
- the trend chart (``coverage_trend`` over 30 days of snapshots + the matplotlib PNG) for the
  whole bank and the 分行.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text, true  # noqa: E402

from app.auth.permissions import DataScope  # noqa: E402
from app.core.extensions import db  # noqa: E402
from app.customers.charts import coverage_trend_png  # noqa: E402
from app.customers.coverage import branch_coverage, segment_names, staff_coverage  # noqa: E402
from app.customers.models import Customer  # noqa: E402
from app.customers.services import coverage_overview  # noqa: E402
from app.customers.snapshots import coverage_trend, take_snapshot  # noqa: E402
from app.factory import create_app  # noqa: E402
from app.org.models import Branch, User  # noqa: E402
from bench.schema import fresh_schema  # noqa: E402
from bench.timing import best  # noqa: E402
from config import TestConfig  # noqa: E402

ON = dt.date(2025, 4, 25)
START = dt.datetime(2025, 1, 1)  # contacts are added from here to ON (a fifth this month)
SPAN_MINUTES = 114 * 24 * 60
TREND_DAYS = 30
RMS, BRANCHES, SUBS_PER_BRANCH = 2000, 10, 10


def _copy(table: str, columns: str, rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    buffer.seek(0)
    raw = db.session.connection().connection.driver_connection
    with raw.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def build_bank() -> list[int]:
    """Branches and RMs; returns the RM user ids."""
    db.session.execute(text(
        "INSERT INTO branches (id, code, name, level, parent_id, path, province_code) "
        "VALUES (1, 'HQ', '总行', 'hq', NULL, '/1/', '33')"))
    rows, users, next_id = [], [], 2
    for b in range(BRANCHES):
        branch_id = next_id
        next_id += 1
        rows.append((branch_id, f"B{b}", f"分行{b}", "branch", 1, f"/1/{branch_id}/", "33"))
        for s in range(SUBS_PER_BRANCH):
            rows.append((next_id, f"B{b}S{s}", f"支行{b}-{s}", "sub_branch", branch_id,
                         f"/1/{branch_id}/{next_id}/", "33"))
            next_id += 1
    _copy("branches", "id, code, name, level, parent_id, path, province_code", rows)
    subs = [r[0] for r in rows if r[3] == "sub_branch"]
    for i in range(RMS):
        users.append((i + 1, f"rm{i:05d}", f"客户经理{i}", "x", "frontline", subs[i % len(subs)],
                      "true", "false", "2025-01-01 00:00:00+00", 0, "false"))
    _copy("users", "id, username, display_name, password_hash, role, branch_id, "
          "is_active_account, is_demo, created_at, session_version, must_change_password", users)
    db.session.execute(text(
        "SELECT setval('branches_id_seq', 1000), setval('users_id_seq', 10000)"))
    return list(range(1, RMS + 1))


def add_customers(first: int, last: int, rng: random.Random) -> None:
    """Customers ``first`` .. ``last - 1`` with ownerships, contacts and verifications."""
    customers, owners, contacts, checks = [], [], [], []
    for n in range(first, last):
        rm = n % RMS + 1
        segment = rng.choices([1, 2, 3, 4], [5, 20, 25, 50])[0]
        customers.append((n, f"C{n:09d}", rm, segment, "true", "33", 10000,
                          "2025-01-01 00:00:00+00"))
        if rng.random() < 0.05:
            old = (rm + 7) % RMS + 1
            owners.append((n, old, None, "2025-03-01 00:00:00+00"))
            owners.append((n, rm, "2025-03-01 00:00:00+00", None))
        else:
            owners.append((n, rm, None, None))
        if rng.random() < 0.6:
            added = START + dt.timedelta(minutes=rng.randrange(SPAN_MINUTES))
            removed = f"{added + dt.timedelta(days=3)}+00" if rng.random() < 0.1 else None
            contacts.append((rm, f"wm{n:010d}", f"{added}+00", 1, 1, None, removed))
            if rng.random() < 0.8:
                checks.append((f"wm{n:010d}", f"C{n:09d}", "link",
                                f"{added + dt.timedelta(hours=3)}+00", "33"))
        if rng.random() < 0.2:
            added = START + dt.timedelta(minutes=rng.randrange(SPAN_MINUTES))
            contacts.append(((rm + 13) % RMS + 1, f"wx{n:010d}", f"{added}+00", 1, 1, None, None))
    _copy("customers", "id, customer_ref, rm_id, segment_id, has_account, province_code, "
          "aum_cny, updated_at", customers)
    _copy("customer_ownerships", "customer_id, rm_id, valid_from, valid_to", owners)
    _copy("wecom_contacts", "staff_id, external_userid, added_at, add_way, contact_type, "
          "corp_name, removed_at", contacts)
    _copy("verifications", "external_userid, customer_ref, method, verified_at, "
          "ip_province_code", checks)
    db.session.commit()
    db.session.execute(text("ANALYZE"))


def report(path: str | None) -> int:
    """The live report (``flask coverage report``): RM rows, then branch roll-up."""
    clause = DataScope(branch_path=path).staff_clause if path else (lambda column: true())
    rows = staff_coverage(ON, clause)
    statement = select(Branch).order_by(Branch.path)
    if path:
        statement = statement.where(Branch.path.like(f"{path}%"))
    branch_coverage(rows, list(db.session.scalars(statement)))
    return sum(r.customers for r in rows)


def snapshot_history() -> float:
    """Take the day's snapshot (timed), then copy it to the ``TREND_DAYS`` days before."""
    seconds, _ = best(lambda: (take_snapshot(ON), db.session.commit()), 1)
    db.session.execute(text(
        "INSERT INTO coverage_snapshots (snapshot_date, staff_id, segment_id, customers, covered)"
        " SELECT snapshot_date - d, staff_id, segment_id, customers, covered * (60 - d) / 60"
        " FROM coverage_snapshots, generate_series(1, :days - 1) d WHERE snapshot_date = :on"
        " ON CONFLICT DO NOTHING"), {"days": TREND_DAYS, "on": ON})
    db.session.commit()
    db.session.execute(text("ANALYZE coverage_snapshots"))
    return seconds


def page(viewer_id: int, branch_id: int | None) -> int:
    """The manager's coverage page as the view builds it (from the latest snapshot)."""
    viewer = db.session.get(User, viewer_id)
    overview = coverage_overview(viewer, branch_id, ON)
    assert overview.as_of == ON
    return sum(r.customers for r in overview.totals)


def trend(path: str | None) -> int:
    """The trend chart's data and PNG: ``TREND_DAYS`` days of snapshots of a subtree."""
    clause = DataScope(branch_path=path).staff_clause if path else (lambda column: true())
    points = coverage_trend(ON - dt.timedelta(days=TREND_DAYS - 1), ON, clause)
    coverage_trend_png("趋势", points, segment_names())
    return len({p["date"] for p in points})


def viewers() -> tuple[int, int, int, int]:
    """An admin (whole bank) and the 分行 B3 manager; the ids of B3 and its 支行 B3S4."""
    branch = db.session.scalar(select(Branch).where(Branch.code == "B3"))
    sub = db.session.scalar(select(Branch).where(Branch.code == "B3S4"))
    for user_id, role, branch_id in ((RMS + 1, "admin", 1), (RMS + 2, "manager", branch.id)):
        db.session.execute(text(
            "INSERT INTO users (id, username, display_name, password_hash, role, branch_id,"
            " is_active_account, is_demo, created_at, session_version, must_change_password)"
            " VALUES (:id, :name, :name, 'x', :role, :branch, true, false, now(), 0, false)"),
            {"id": user_id, "name": f"{role}{user_id}", "role": role, "branch": branch_id})
    db.session.commit()
    return RMS + 1, RMS + 2, branch.id, sub.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sizes", default="100000,300000,1000000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=args.database_url)
    rng = random.Random(7)
    with app.test_request_context():
        fresh_schema()
        build_bank()
        db.session.commit()
        admin, manager, branch_id, sub_id = viewers()
        branch = db.session.get(Branch, branch_id).path
        sub = db.session.get(Branch, sub_id).path
        print("customers | floor count(*) | live report: whole bank, 分行 (1/10), 支行 (1/100) "
              "| nightly snapshot | page from snapshot: whole bank, 分行, 支行 "
              f"| trend chart ({TREND_DAYS} days): whole bank, 分行")
        done = 1
        for size in sizes:
            add_customers(done, size + 1, rng)
            done = size + 1
            floor, count = best(lambda: db.session.scalar(
                select(func.count()).select_from(Customer)), 3)
            bank, total = best(lambda: report(None), 3)
            one_branch, in_branch = best(lambda: report(branch), 3)
            one_sub, _ = best(lambda: report(sub), 3)
            assert count == total == size
            db.session.execute(text("DELETE FROM coverage_snapshots"))
            snap = snapshot_history()
            page_bank, _ = best(lambda: page(admin, None), 3)
            page_branch, on_page = best(lambda: page(manager, None), 3)
            page_sub, _ = best(lambda: page(manager, sub_id), 3)
            assert on_page == in_branch
            trend_bank, days = best(lambda: trend(None), 3)
            trend_branch, _ = best(lambda: trend(branch), 3)
            assert days == TREND_DAYS
            ms = lambda seconds: f"{seconds * 1000:6.0f} ms"  # noqa: E731
            print(f"{size:>9,} | {floor * 1000:8.1f} ms | {ms(bank)}, {ms(one_branch)}, "
                  f"{ms(one_sub)} | {snap:5.1f} s | {ms(page_bank)}, {ms(page_branch)}, "
                  f"{ms(page_sub)} | {ms(trend_bank)}, {ms(trend_branch)}")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
