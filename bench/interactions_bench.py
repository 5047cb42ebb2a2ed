"""Throughput of the interactions batch path on a fresh SQLite database.

Run: ``.venv/bin/python bench/interactions_bench.py [--batches 20] [--size 500]``.

Posts ``batches`` x ``size`` events through ``app.interactions.services.record_events``
(one commit per batch, as the API view does) after a discarded 2-batch warm-up,
retries every batch (all duplicates), posts a second set through the HTTP API with a
bearer token, and measures a floor in the same run: a plain DBAPI ``executemany``
INSERT of the very same rows into the same (emptied) table, one commit per batch.
Repeats this ``--rounds`` times and prints the best round. Prints numbers only; it
asserts nothing beyond row counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402

from app.auth.services import issue_api_token  # noqa: E402
from app.core.extensions import db  # noqa: E402
from app.factory import create_app  # noqa: E402
from app.interactions.models import InteractionEvent, InteractionKind  # noqa: E402
from app.interactions.services import record_events, summarize  # noqa: E402
from app.org.models import User  # noqa: E402
from config import TestConfig  # noqa: E402

KINDS = [k.value for k in InteractionKind]
COLUMNS = ["reporter_id", "event_id", "task_id", "kind", "quantity", "amount_cny",
           "occurred_at", "created_at"]


def seed(task_count: int) -> tuple[int, list[int]]:
    from tests import factories

    factories.bind_session(db.session)
    staff = factories.UserFactory(role="frontline")
    post = factories.PostFactory()
    tasks = [factories.TaskFactory(staff=staff, post=post)]
    for _ in range(task_count - 1):
        tasks.append(factories.TaskFactory(staff=staff, post=factories.PostFactory(
            sop_plan=post.sop_plan, run_date=post.run_date - dt.timedelta(days=len(tasks)),
            template_version=post.template_version)))
    db.session.commit()
    return staff.id, [t.id for t in tasks]


def make_batches(prefix: str, batches: int, size: int, task_ids: list[int]) -> list[list[dict]]:
    base = dt.datetime(2025, 4, 25, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    out = []
    for b in range(batches):
        batch = []
        for i in range(size):
            n = b * size + i
            kind = KINDS[n % len(KINDS)]
            item = {"event_id": f"{prefix}-{n:07d}", "task_id": task_ids[n % len(task_ids)],
                    "kind": kind, "quantity": 1 + n % 3,
                    "occurred_at": (base + dt.timedelta(seconds=n)).isoformat()}
            if kind == "conversion":
                item["amount_cny"] = f"{1000 + n}.50"
            batch.append(item)
        out.append(batch)
    return out


def through_service(staff_id: int, batches: list[list[dict]]) -> tuple[float, dict]:
    totals = {"created": 0, "duplicates": 0, "conflicts": 0, "errors": 0}
    start = time.perf_counter()
    for batch in batches:
        results = record_events(staff_id, batch)
        db.session.commit()
        for key, value in summarize(results).items():
            totals[key] += value
    return time.perf_counter() - start, totals


def through_http(app, token: str, batches: list[list[dict]]) -> tuple[float, int]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    created = 0
    start = time.perf_counter()
    for batch in batches:
        response = client.post("/api/v1/interactions", json={"events": batch}, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        created += response.get_json()["created"]
    return time.perf_counter() - start, created


def floor(rows: list[tuple], size: int) -> float:
    """Plain executemany of ``rows`` (already in stored form) into the emptied table."""
    sql = (f"INSERT INTO interaction_events ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(COLUMNS))})")
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        start = time.perf_counter()
        for i in range(0, len(rows), size):
            cursor.executemany(sql, rows[i:i + size])
            raw.commit()
        return time.perf_counter() - start
    finally:
        raw.close()


def stored_rows() -> list[tuple]:
    cols = ", ".join(COLUMNS)
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(
            f"SELECT {cols} FROM interaction_events ORDER BY id")]


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(InteractionEvent))


def one_round(app, staff_id: int, token: str, task_ids: list[int], args, k: int) -> dict:
    """One measured round on an empty table; returns seconds per measure."""
    total = args.batches * args.size
    batches = make_batches(f"r{k}svc", args.batches, args.size, task_ids)
    t_new, totals = through_service(staff_id, batches)
    assert totals["created"] == total == count(), totals
    t_retry, retry = through_service(staff_id, batches)
    assert retry["duplicates"] == total and count() == total, retry
    t_http, created = through_http(
        app, token, make_batches(f"r{k}http", args.batches, args.size, task_ids))
    assert created == total
    rows = stored_rows()
    db.session.execute(delete(InteractionEvent))
    db.session.commit()
    t_floor = floor(rows, args.size)
    assert count() == 2 * total
    db.session.execute(delete(InteractionEvent))
    db.session.commit()
    return {"new": t_new, "retry": t_retry, "http": t_http, "floor": t_floor / 2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="report the best round")
    args = parser.parse_args()
    total = args.batches * args.size
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/bench.sqlite3",
                         CHART_OUTPUT_DIR=f"{tmp}/charts", LOG_LEVEL="WARNING")
        with app.app_context():
            upgrade()
            staff_id, task_ids = seed(args.tasks)
            token = issue_api_token(db.session.get(User, staff_id))
            db.session.commit()
            through_service(staff_id, make_batches("warm", 2, args.size, task_ids))
            db.session.execute(delete(InteractionEvent))  # warm-up rows are not measured
            db.session.commit()
            rounds = [one_round(app, staff_id, token, task_ids, args, k)
                      for k in range(args.rounds)]
            db.engine.dispose()
    best = {key: min(r[key] for r in rounds) for key in rounds[0]}
    labels = {"new": "service, new events", "retry": "service, retried (all dups)",
              "http": "HTTP API, new events", "floor": "floor, plain executemany"}
    print(f"sqlite, {args.batches} batches x {args.size} events = {total} per pass, "
          f"one commit per batch, best of {args.rounds} rounds")
    for key, label in labels.items():
        print(f"{label:<28}: {total / best[key]:9.0f} events/s  ({best[key]:.2f} s)")
    print(f"{'service new / floor':<28}: {best['floor'] / best['new']:9.2f}")


if __name__ == "__main__":
    main()
