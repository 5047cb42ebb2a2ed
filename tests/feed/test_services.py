import datetime as dt

import pytest

from app.broadcasts.models import PostStatus, TaskStatus
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.feed.services import complete_task, tasks_for_day
from app.interactions.services import reach_needed, record_events
from tests.feed.conftest import DAY

NOW = dt.datetime(2025, 4, 25, 1, 15, tzinfo=dt.UTC)


def test_tasks_for_day_lists_own_tasks_with_chart_url(make_task, frontline_a, frontline_b):
    mine = make_task(frontline_a, body="上证指数收于 3295.06 点")
    make_task(frontline_b, body="别人的任务")
    items = tasks_for_day(frontline_a.id, DAY)
    assert [i.id for i in items] == [mine.id]
    item = items[0]
    assert item.text == "上证指数收于 3295.06 点"
    assert item.chart_url == "/charts/2025-04-25/global_indices.png"
    assert item.status is TaskStatus.assigned and item.overdue is False
    assert item.sop == mine.post.sop_plan.name
    assert item.channel_label == "朋友圈"


def test_tasks_without_chart_have_no_url(make_task, frontline_a):
    make_task(frontline_a, spec=None)
    assert tasks_for_day(frontline_a.id, DAY)[0].chart_url is None


def test_overdue_window_and_done_tasks(make_task, frontline_a):
    today = make_task(frontline_a)
    open_3d = make_task(frontline_a, run_date=DAY - dt.timedelta(days=3))
    open_7d = make_task(frontline_a, run_date=DAY - dt.timedelta(days=7))
    make_task(frontline_a, run_date=DAY - dt.timedelta(days=8))
    make_task(frontline_a, run_date=DAY - dt.timedelta(days=1), status=TaskStatus.done,
              completed_at=NOW)
    make_task(frontline_a, run_date=DAY + dt.timedelta(days=1))
    items = tasks_for_day(frontline_a.id, DAY)
    assert [i.id for i in items] == [today.id, open_3d.id, open_7d.id]
    assert [i.overdue for i in items] == [False, True, True]


def test_done_task_of_the_day_is_listed_not_overdue(make_task, frontline_a):
    task = make_task(frontline_a, status=TaskStatus.done, completed_at=NOW)
    [item] = tasks_for_day(frontline_a.id, DAY)
    assert item.id == task.id and item.is_done and not item.overdue


def test_cancelled_posts_are_hidden(make_task, frontline_a):
    task = make_task(frontline_a)
    task.post.status = PostStatus.cancelled
    assert tasks_for_day(frontline_a.id, DAY) == []


def test_complete_is_idempotent(db, make_task, frontline_a):
    task = make_task(frontline_a)
    done = complete_task(task.id, frontline_a.id, 120, NOW)
    assert done.status is TaskStatus.done
    assert done.completed_at == NOW and done.reach_count == 120
    again = complete_task(task.id, frontline_a.id, 120, NOW + dt.timedelta(hours=1))
    assert again.completed_at == NOW and again.reach_count == 120
    no_reach = complete_task(task.id, frontline_a.id, None, NOW + dt.timedelta(hours=2))
    assert no_reach.completed_at == NOW and no_reach.reach_count == 120
    db.session.expire_all()
    assert db.session.get(type(task), task.id).completed_at == NOW


def test_completing_again_corrects_the_reach(db, make_task, frontline_a):
    task = make_task(frontline_a)
    complete_task(task.id, frontline_a.id, None, NOW)
    later = NOW + dt.timedelta(hours=1)
    assert complete_task(task.id, frontline_a.id, 35, later).reach_count == 35
    assert complete_task(task.id, frontline_a.id, 5, later).reach_count == 5
    assert complete_task(task.id, frontline_a.id, 5, later).reach_count == 5
    db.session.expire_all()
    stored = db.session.get(type(task), task.id)
    assert (stored.reach_count, stored.completed_at, stored.status) == (5, NOW, TaskStatus.done)


def test_reach_correction_never_below_logged_events(db, make_task, frontline_a):
    task = make_task(frontline_a)
    complete_task(task.id, frontline_a.id, 35, NOW)
    record_events(frontline_a.id, [
        {"event_id": "l1", "task_id": task.id, "kind": "like", "quantity": 30},
        {"event_id": "r1", "task_id": task.id, "kind": "reply", "quantity": 31 * 20 - 5},
    ], now=NOW + dt.timedelta(hours=1))
    assert reach_needed(task.id) == 31  # 615 replies at most 20 per customer; 30 likes
    with pytest.raises(ValidationFailed) as caught:
        complete_task(task.id, frontline_a.id, 30, NOW)
    assert caught.value.errors == {"reach_count": "已登记的客户反馈要求发送人数至少为 31"}
    db.session.expire_all()
    assert db.session.get(type(task), task.id).reach_count == 35
    assert complete_task(task.id, frontline_a.id, 31, NOW).reach_count == 31


def test_complete_without_reach(make_task, frontline_a):
    task = make_task(frontline_a)
    assert complete_task(task.id, frontline_a.id, None, NOW).reach_count is None


def test_complete_other_users_task_is_not_found(db, make_task, frontline_a, frontline_b):
    task = make_task(frontline_b)
    with pytest.raises(NotFound) as caught:
        complete_task(task.id, frontline_a.id, 1, NOW)
    with pytest.raises(NotFound) as missing:
        complete_task(999_999, frontline_a.id, 1, NOW)
    assert caught.value.message == missing.value.message
    db.session.expire_all()
    assert db.session.get(type(task), task.id).status is TaskStatus.assigned


@pytest.mark.parametrize("reach", [-1, True, 1.5, "3", 10_000_000])
def test_complete_rejects_bad_reach(make_task, frontline_a, reach):
    task = make_task(frontline_a)
    with pytest.raises(ValidationFailed) as caught:
        complete_task(task.id, frontline_a.id, reach, NOW)
    assert "reach_count" in caught.value.errors
    assert task.status is TaskStatus.assigned


def test_complete_cancelled_post_conflicts(make_task, frontline_a):
    task = make_task(frontline_a)
    task.post.status = PostStatus.cancelled
    with pytest.raises(Conflict):
        complete_task(task.id, frontline_a.id, None, NOW)
