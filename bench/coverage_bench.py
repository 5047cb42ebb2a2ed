"""Coverage report 覆盖率 on PostgreSQL from 100,000 to 1,000,000 customers.

Run: ``.venv/bin/python bench/coverage_bench.py --database-url
postgresql+psycopg://postgres@127.0.0.1:5432/bench_customers [--sizes 100000,300000,1000000]``
(the database is emptied and migrated first).

Bank: 1 head office, 10 branches 分行, 100 sub-branches 支行, 2,000 RMs. Each customer has an
owner (5 % reassigned once, so two ownership rows); 60 % are followed by their RM on WeCom
(10 % of those deleted since) and 80 % of those contacts verified; plus 20 % more contacts
of other staff. Rows are loaded with COPY, then ``ANALYZE``.

At each size it times, best of 3, the live coverage report (``staff_coverage`` +
``branch_coverage``: ``flask coverage report`` and the page with ``live=1``) for the whole
bank, one branch 分行 and one sub-branch 支行, beside a floor measured in the same run:
``SELECT count(*) FROM customers``; then the nightly snapshot of the whole bank
(``flask coverage snapshot``) and the manager's page as it reads it (the latest snapshot:
``snapshot_coverage`` + ``branch_coverage``) for the same 分行 and 支行. Target: a branch page
under 300 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select, text, true  # noqa: E402

from app import create_app  # noqa: E402
from app.auth.permissions import DataScope  # noqa: E402
from app.core.extensions import db  # noqa: E402
from app.customers.coverage import branch_coverage, staff_coverage  # noqa: E402
from app.customers.models import Customer  # noqa: E402
from app.customers.targets import snapshot_coverage, take_snapshot  # noqa: E402
from app.org.models import Branch  # noqa: E402
from bench.timing import best  # noqa: E402
from config import TestConfig  # noqa: E402

ON = dt.date(2025, 4, 25)
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
            removed = "2025-04-20 00:00:00+00" if rng.random() < 0.1 else None
            contacts.append((rm, f"wm{n:010d}", "2025-02-01 02:00:00+00", 1, 1, None, removed))
            if rng.random() < 0.8:
                checks.append((f"wm{n:010d}", f"C{n:09d}", "link", "2025-02-02 02:00:00+00", "33"))
        if rng.random() < 0.2:
            contacts.append(((rm + 13) % RMS + 1, f"wx{n:010d}", "2025-02-03 02:00:00+00", 1, 1,
                             None, None))
    _copy("customers", "id, customer_ref, rm_id, segment_id, has_account, province_code, "
          "aum_cny, updated_at", customers)
    _copy("customer_ownerships", "customer_id, rm_id, valid_from, valid_to", owners)
    _copy("wecom_contacts", "staff_id, external_userid, added_at, add_way, contact_type, "
          "corp_name, removed_at", contacts)
    _copy("verifications", "external_userid, customer_ref, method, verified_at, "
          "ip_province_code", checks)
    db.session.commit()
    db.session.execute(text("ANALYZE"))


def report(path: str | None, snapshot: bool = False) -> int:
    clause = DataScope(branch_path=path).staff_clause if path else (lambda column: true())
    rows = snapshot_coverage(ON, clause) if snapshot else staff_coverage(ON, clause)
    statement = select(Branch).order_by(Branch.path)
    if path:
        statement = statement.where(Branch.path.like(f"{path}%"))
    branch_coverage(rows, list(db.session.scalars(statement)))
    return sum(r.customers for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sizes", default="100000,300000,1000000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=args.database_url)
    rng = random.Random(7)
    with app.app_context():
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        upgrade()
        build_bank()
        db.session.commit()
        branch = db.session.scalar(select(Branch.path).where(Branch.code == "B3"))
        sub = db.session.scalar(select(Branch.path).where(Branch.code == "B3S4"))
        print("live report: customers   whole bank   分行 (1/10)   支行 (1/100)   floor count(*)"
              "   | nightly snapshot (whole bank) | page from snapshot: 分行, 支行")
        done = 1
        for size in sizes:
            add_customers(done, size + 1, rng)
            done = size + 1
            floor, count = best(lambda: db.session.scalar(
                select(func.count()).select_from(Customer)), 3)
            bank, total = best(lambda: report(None), 3)
            one_branch, in_branch = best(lambda: report(branch), 3)
            one_sub, in_sub = best(lambda: report(sub), 3)
            assert count == total == size
            snap, _ = best(lambda: (take_snapshot(ON), db.session.commit()), 1)
            snap_branch, from_snapshot = best(lambda: report(branch, snapshot=True), 3)
            snap_sub, _ = best(lambda: report(sub, snapshot=True), 3)
            assert from_snapshot == in_branch
            print(f"{size:>21,}   {bank * 1000:8.0f} ms   {one_branch * 1000:7.0f} ms "
                  f"({in_branch:,})   {one_sub * 1000:6.0f} ms ({in_sub:,})   "
                  f"{floor * 1000:6.1f} ms   | {snap:6.1f} s | {snap_branch * 1000:5.1f} ms, "
                  f"{snap_sub * 1000:5.1f} ms")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
