"""今日任务 page: correcting 发送人数 of a done task, and the event rules through the form."""

from sqlalchemy import func, select

from app.broadcasts.models import TaskStatus
from app.interactions.models import InteractionEvent


def _card(html: str, task_id: int) -> str:
    start = html.index(f'id="task-{task_id}"')
    return html[start:html.index("</section>", start)]


def _events(db) -> int:
    return db.session.scalar(select(func.count()).select_from(InteractionEvent))


def test_done_task_shows_a_reach_correction_form(client, login, make_task, make_sent_task,
                                                 frontline_a):
    done, open_task = make_sent_task(frontline_a, reach=35), make_task(frontline_a)
    login(frontline_a)
    html = client.get("/today").get_data(as_text=True)
    card = _card(html, done.id)
    assert f'action="/today/tasks/{done.id}/reach"' in card and 'value="35"' in card
    assert f'action="/today/tasks/{done.id}/complete"' not in card
    assert f'action="/today/tasks/{open_task.id}/reach"' not in _card(html, open_task.id)
    assert "标记完成并填写发送人数后，可登记客户反馈" in _card(html, open_task.id)
    assert "可登记客户反馈" not in card


def test_reach_correction_via_form(db, client, login, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a, reach=35)
    completed_at = task.completed_at
    login(frontline_a)
    response = client.post(f"/today/tasks/{task.id}/reach", data={"reach_count": "40"})
    assert response.status_code == 302
    db.session.refresh(task)
    assert (task.reach_count, task.completed_at) == (40, completed_at)
    card = _card(client.get("/today").get_data(as_text=True), task.id)
    assert "发送人数已更正为 40 人" in card and "发送 40 人" in card


def test_reach_correction_below_logged_events_is_refused(db, client, login, fixed_clock,
                                                         make_sent_task, frontline_a):
    task = make_sent_task(frontline_a, reach=35)
    login(frontline_a)
    client.post(f"/tasks/{task.id}/interactions",
                data={"event_id": "w-1", "kind": "like", "quantity": "30"})
    client.post(f"/today/tasks/{task.id}/reach", data={"reach_count": "29"})
    db.session.refresh(task)
    assert task.reach_count == 35
    card = _card(client.get("/today").get_data(as_text=True), task.id)
    assert "已登记的客户反馈要求发送人数至少为 30" in card


def test_reach_correction_needs_a_done_task_and_a_number(db, client, login, make_task,
                                                         make_sent_task, frontline_a,
                                                         frontline_b):
    task = make_task(frontline_a)
    login(frontline_a)
    client.post(f"/today/tasks/{task.id}/reach", data={"reach_count": "10"})
    db.session.refresh(task)
    assert task.status is TaskStatus.assigned and task.reach_count is None
    assert "任务尚未完成，请先标记完成" in _card(client.get("/today").get_data(as_text=True),
                                                 task.id)
    client.post(f"/today/tasks/{task.id}/reach", data={})
    assert "请填写发送人数" in _card(client.get("/today").get_data(as_text=True), task.id)
    theirs = make_sent_task(frontline_b, reach=5)
    assert client.post(f"/today/tasks/{theirs.id}/reach",
                       data={"reach_count": "9"}).status_code == 404
    db.session.refresh(theirs)
    assert theirs.reach_count == 5


def test_form_refuses_reactions_before_completion(db, client, login, fixed_clock, make_task,
                                                  frontline_a):
    task = make_task(frontline_a)
    login(frontline_a)
    client.post(f"/tasks/{task.id}/interactions",
                data={"event_id": "w-2", "kind": "like", "quantity": "1"})
    assert _events(db) == 0
    assert "请先标记任务完成并填写发送人数" in _card(
        client.get("/today").get_data(as_text=True), task.id)
    client.post(f"/today/tasks/{task.id}/complete", data={"reach_count": "35"})
    client.post(f"/tasks/{task.id}/interactions",
                data={"event_id": "w-3", "kind": "like", "quantity": "1"})
    assert _events(db) == 1


def test_form_refuses_more_likes_than_reach(db, client, login, fixed_clock, make_sent_task,
                                            frontline_a):
    task = make_sent_task(frontline_a, reach=35)
    login(frontline_a)
    client.post(f"/tasks/{task.id}/interactions",
                data={"event_id": "w-4", "kind": "like", "quantity": "100000"})
    assert _events(db) == 0
    card = _card(client.get("/today").get_data(as_text=True), task.id)
    assert "点赞累计不能超过发送人数 35" in card
    client.post(f"/tasks/{task.id}/interactions",
                data={"event_id": "w-5", "kind": "like", "quantity": "35"})
    assert _events(db) == 1


def test_form_refuses_an_implausible_conversion_amount(db, client, login, fixed_clock,
                                                       make_sent_task, frontline_a):
    task = make_sent_task(frontline_a)
    login(frontline_a)
    client.post(f"/tasks/{task.id}/interactions", data={
        "event_id": "w-6", "kind": "conversion", "quantity": "1", "amount_cny": "999999999.99"})
    assert _events(db) == 0
    assert "单笔转化金额不能超过 50,000,000 元" in _card(
        client.get("/today").get_data(as_text=True), task.id)
