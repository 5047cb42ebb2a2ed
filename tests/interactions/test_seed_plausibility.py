"""Every interaction event of the demo seed passes the rules that live input must pass."""

import datetime as dt
import decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.broadcasts.models import Post, Task, TaskStatus
from app.demo.seed import seed
from app.interactions.models import InteractionEvent
from app.interactions.rules import TaskFacts, check_event

END = dt.date(2025, 4, 25)


def test_seeded_events_are_plausible(app, db):
    seed("pw", END, days=2)
    # the seed is history as of the end of the demo date (Asia/Shanghai)
    now = dt.datetime.combine(END, dt.time(23, 59, 59), ZoneInfo("Asia/Shanghai"))
    max_amount = decimal.Decimal(app.config["MAX_CONVERSION_AMOUNT_CNY"])
    tasks = {
        row.id: TaskFacts(row.id, row.status is TaskStatus.done, row.reach_count,
                          row.scheduled_at, row.completed_at)
        for row in db.session.execute(
            select(Task.id, Task.status, Task.reach_count, Task.completed_at, Post.scheduled_at)
            .join(Post, Task.post_id == Post.id))
    }
    events = db.session.scalars(select(InteractionEvent).order_by(InteractionEvent.id)).all()
    assert len(events) > 100
    logged: dict[tuple, int] = {}
    failures = []
    for e in events:
        key = (e.task_id, e.kind)
        errors = check_event(tasks[e.task_id], e.kind, e.quantity, e.occurred_at, e.amount_cny,
                             logged.get(key, 0), now, max_amount)
        logged[key] = logged.get(key, 0) + e.quantity
        if errors:
            failures.append((e.event_id, errors))
    assert failures == []
