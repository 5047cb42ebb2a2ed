"""Import of WeCom contacts through the import engine against a plain bulk insert.

Run: ``.venv/bin/python bench/customers_import_bench.py [--rows 1000000] [--staff 2000]
[--database-url postgresql+psycopg://…]`` (default: a fresh SQLite file).

Writes a contacts CSV of ``--rows`` rows (GB18030 Chinese headers, every fifth row with a
removal time), then in the same run and database:

1. a small import (``rows`` / 10) and the full import through ``import_file`` (the
   ``flask import contacts`` path: detect encoding, parse, batch, upsert, one commit), with
   the peak resident memory of each: flat memory means both peaks are about equal;
2. the same file again: every row unchanged;
3. the floor: the same rows read with ``csv`` and sent by a plain DBAPI ``executemany`` (in
   chunks of 10,000, one commit) into the emptied table, with no validation at all.

Prints rows/s beside the floor; asserts only row counts.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, func, insert, select  # noqa: E402

from app.core.extensions import db  # noqa: E402
from app.customers.imports import import_file  # noqa: E402
from app.customers.models import WecomContact  # noqa: E402
from app.factory import create_app  # noqa: E402
from app.org.models import Branch, BranchLevel, Role, User  # noqa: E402
from bench.memory import peak_rss  # noqa: E402
from bench.schema import fresh_schema  # noqa: E402
from config import TestConfig  # noqa: E402

HEADER = ["外部联系人ID", "员工", "添加时间", "添加方式", "联系人类型", "企业名称", "删除时间"]
START = dt.datetime(2025, 1, 1, 8, 0)


def write_csv(path: Path, rows: int, staff: int) -> None:
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            added = START + dt.timedelta(seconds=7 * n)
            removed = (added + dt.timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S") \
                if n % 5 == 0 else ""
            writer.writerow([f"wm{n:012d}", f"bench{n % staff:05d}",
                             added.strftime("%Y-%m-%d %H:%M:%S"), n % 3 + 1,
                             2 if n % 50 == 0 else 1, "某某科技有限公司" if n % 50 == 0 else "",
                             removed])


def make_staff(count: int) -> dict[str, int]:
    hq = Branch(code="BENCH", name="基准测试总行", level=BranchLevel.hq, path="/",
                province_code="33")
    db.session.add(hq)
    db.session.flush()
    hq.path = f"/{hq.id}/"
    db.session.execute(insert(User), [
        {"username": f"bench{i:05d}", "display_name": f"员工{i}", "password_hash": "x",
         "role": Role.frontline.name, "branch_id": hq.id} for i in range(count)])
    db.session.commit()
    return dict(db.session.execute(select(User.username, User.id)).all())


def timed_import(path: Path) -> tuple[float, dict, object]:
    with peak_rss() as memory:
        start = time.perf_counter()
        result = import_file("contacts", path)
        db.session.commit()
        seconds = time.perf_counter() - start
    return seconds, memory, result


def plain_executemany(path: Path, staff_ids: dict[str, int]) -> float:
    db.session.execute(delete(WecomContact))
    db.session.commit()
    zone = dt.timezone(dt.timedelta(hours=8))
    sql = ("INSERT INTO wecom_contacts (staff_id, external_userid, added_at, add_way, "
           "contact_type, corp_name, removed_at) VALUES (%s)")
    connection = db.engine.raw_connection()
    marker = "?" if db.engine.dialect.name == "sqlite" else "%s"
    statement = sql % ", ".join([marker] * 7)
    start = time.perf_counter()
    cursor = connection.cursor()
    with path.open(encoding="gb18030", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        chunk = []
        for row in reader:
            added = dt.datetime.fromisoformat(row[2]).replace(tzinfo=zone).astimezone(dt.UTC)
            removed = (dt.datetime.fromisoformat(row[6]).replace(tzinfo=zone).astimezone(dt.UTC)
                       if row[6] else None)
            if marker == "?":  # SQLite stores UtcDateTime as naive UTC text
                added = added.replace(tzinfo=None)
                removed = removed.replace(tzinfo=None) if removed else None
            chunk.append((staff_ids[row[1]], row[0], added, int(row[3]), int(row[4]),
                          row[5] or None, removed))
            if len(chunk) == 10_000:
                cursor.executemany(statement, chunk)
                chunk = []
        if chunk:
            cursor.executemany(statement, chunk)
    connection.commit()
    seconds = time.perf_counter() - start
    connection.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--staff", type=int, default=2000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
        app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            fresh_schema()
            staff_ids = make_staff(args.staff)
            small, full = folder / "small.csv", folder / "contacts.csv"
            write_csv(small, args.rows // 10, args.staff)
            write_csv(full, args.rows, args.staff)
            size_mb = full.stat().st_size / 1e6
            print(f"database {db.engine.dialect.name}; file {args.rows:,} rows, {size_mb:.0f} MB "
                  f"(GB18030, Chinese headers), {args.staff:,} staff")
            seconds, small_memory, _ = timed_import(small)
            db.session.execute(delete(WecomContact))
            db.session.commit()
            print(f"import {args.rows // 10:>9,} rows: {seconds:6.1f} s, "
                  f"peak RSS {small_memory['peak'] / 2**20:.0f} MiB")
            seconds, memory, result = timed_import(full)
            assert result.imported == args.rows and not result.errors, result.as_dict()
            print(f"import {args.rows:>9,} rows: {seconds:6.1f} s = "
                  f"{args.rows / seconds:9,.0f} rows/s, peak RSS "
                  f"{memory['peak'] / 2**20:.0f} MiB (start {memory['start'] / 2**20:.0f} MiB)")
            again, _, result = timed_import(full)
            assert result.unchanged == args.rows
            print(f"re-import (all unchanged): {again:6.1f} s = {args.rows / again:9,.0f} rows/s")
            floor = plain_executemany(full, staff_ids)
            stored = db.session.scalar(select(func.count()).select_from(WecomContact))
            assert stored == args.rows
            print(f"floor: csv + plain executemany: {floor:6.1f} s = "
                  f"{args.rows / floor:9,.0f} rows/s; import / floor = {seconds / floor:.1f}x")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
