import datetime as dt
import re

from sqlalchemy import func, select

from app.broadcasts.models import TaskStatus
from app.interactions.models import InteractionEvent
from app.org.models import Role

DAY_BEFORE = dt.date(2025, 4, 24)


def test_today_requires_login(client):
    response = client.get("/today")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_today_forbidden_for_editor(client, login):
    login("editor")
    assert client.get("/today").status_code == 403


def test_today_shows_own_post_chart_and_copy_button(client, login, make_task, frontline_a,
                                                    frontline_b):
    task = make_task(frontline_a, body="恒生指数今日收于 21980.74 点\n市场有风险，投资须谨慎。")
    make_task(frontline_b, body="这是别人的文案")
    login(frontline_a)
    html = client.get("/today").get_data(as_text=True)
    assert 'class="mobile"' in html
    assert (f'<pre class="post-text" id="post-text-{task.id}">恒生指数今日收于 21980.74 点\n'
            in html)
    assert '<img class="post-chart" src="/charts/2025-04-25/global_indices.png"' in html
    assert f'class="copy copy-btn" data-target="post-text-{task.id}"' in html
    assert "navigator.clipboard" in html and "execCommand" in html
    assert f'action="/today/tasks/{task.id}/complete"' in html
    assert 'name="reach_count"' in html and "标记完成" in html
    assert "截止 04-25 10:30" in html  # 02:30 UTC shown in Asia/Shanghai
    assert '<option value="conversion">转化</option>' in html
    assert "这是别人的文案" not in html
    assert "https://" not in html  # no external CDN


def test_admin_sees_own_tasks(client, login, make_task):
    admin = login("admin")
    make_task(admin, body="管理员自己的任务")
    assert "管理员自己的任务" in client.get("/today").get_data(as_text=True)


def test_mark_done_via_form_is_idempotent(db, client, login, make_task, frontline_a):
    task = make_task(frontline_a)
    login(frontline_a)
    response = client.post(f"/today/tasks/{task.id}/complete", data={"reach_count": "88"})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/today#task-{task.id}")
    db.session.refresh(task)
    first = task.completed_at
    assert task.status is TaskStatus.done and task.reach_count == 88 and first is not None
    client.post(f"/today/tasks/{task.id}/complete", data={"reach_count": "88"})
    db.session.refresh(task)
    assert task.completed_at == first and task.reach_count == 88
    html = client.get("/today").get_data(as_text=True)
    assert "已完成" in html and "发送 88 人" in html
    assert f'action="/today/tasks/{task.id}/complete"' not in html
    assert f'action="/today/tasks/{task.id}/reach"' in html  # correction form instead


def test_mark_done_rejects_negative_reach(db, client, login, make_task, frontline_a):
    task = make_task(frontline_a)
    login(frontline_a)
    client.post(f"/today/tasks/{task.id}/complete", data={"reach_count": "-3"})
    db.session.refresh(task)
    assert task.status is TaskStatus.assigned
    html = client.get("/today").get_data(as_text=True)
    assert "发送人数：数值大小必须介于 0 到 1000000 之间。" in html
    client.post(f"/today/tasks/{task.id}/complete", data={"reach_count": "abc"})
    assert "发送人数：不是有效的整数。" in client.get("/today").get_data(as_text=True)


def test_mark_done_of_other_users_task_is_404(db, client, login, make_task, frontline_a,
                                              frontline_b):
    task = make_task(frontline_b)
    login(frontline_a)
    assert client.post(f"/today/tasks/{task.id}/complete", data={}).status_code == 404
    db.session.refresh(task)
    assert task.status is TaskStatus.assigned


def _event_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(InteractionEvent))


def test_log_reaction_via_form(db, client, login, fixed_clock, make_sent_task, frontline_a):
    task = make_sent_task(frontline_a)
    login(frontline_a)
    form = {"event_id": "web-1", "kind": "comment", "quantity": "3"}
    client.post(f"/tasks/{task.id}/interactions", data=form)
    client.post(f"/tasks/{task.id}/interactions", data=form)  # double submit
    [event] = db.session.scalars(select(InteractionEvent)).all()
    assert (event.task_id, event.reporter_id, event.quantity) == (task.id, frontline_a.id, 3)
    html = client.get("/today", follow_redirects=True).get_data(as_text=True)
    assert "已登记：评论 × 3" in html and "未重复计入" in html
    assert "已登记：评论 3" in html  # summary on the card


def test_log_conversion_via_form_needs_amount(db, client, login, fixed_clock, make_sent_task,
                                              frontline_a):
    task = make_sent_task(frontline_a)
    login(frontline_a)
    client.post(f"/tasks/{task.id}/interactions",
                data={"event_id": "web-2", "kind": "conversion", "quantity": "1"})
    assert _event_count(db) == 0
    client.post(f"/tasks/{task.id}/interactions",
                data={"event_id": "web-3", "kind": "conversion", "quantity": "1",
                      "amount_cny": "50000.5"})
    [event] = db.session.scalars(select(InteractionEvent)).all()
    assert str(event.amount_cny) == "50000.50"


def test_log_reaction_on_other_users_task_is_refused(db, client, login, make_task,
                                                     frontline_a, frontline_b):
    task = make_task(frontline_b)
    login(frontline_a)
    response = client.post(f"/tasks/{task.id}/interactions",
                           data={"event_id": "web-4", "kind": "like", "quantity": "1"},
                           follow_redirects=True)
    assert "任务不存在" in response.get_data(as_text=True)
    assert _event_count(db) == 0


def test_api_token_page_issues_token_once(db, client, login, frontline_a, make_task):
    make_task(frontline_a)
    login(frontline_a)
    page = client.get("/account/api-token").get_data(as_text=True)
    assert "Authorization: Bearer" in page and "/api/v1/feed/today" in page
    assert "您还没有 API 令牌" in page
    response = client.post("/account/api-token")
    assert response.headers["Cache-Control"] == "no-store"
    token = re.search(r'<pre class="token" id="api-token">([^<]+)</pre>',
                      response.get_data(as_text=True)).group(1)
    api = client.get("/api/v1/feed/today", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and len(api.get_json()["tasks"]) == 1
    again = client.get("/account/api-token").get_data(as_text=True)
    assert token not in again and "已有一个有效令牌" in again


def test_api_token_page_for_frontline_only(client, login):
    login(Role.manager.value)
    assert client.get("/account/api-token").status_code == 403


def test_forms_carry_csrf_when_enabled(app, client, login, make_task, frontline_a,
                                       monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    task = make_task(frontline_a)
    login(frontline_a)
    html = client.get("/today").get_data(as_text=True)
    assert html.count('name="csrf_token"') >= 3  # logout, complete, interaction
    assert client.post(f"/today/tasks/{task.id}/complete", data={}).status_code == 400
    assert task.completed_at is None


def test_due_dates_are_shanghai_time(client, login, make_task, frontline_a):
    make_task(frontline_a, due_at=dt.datetime(2025, 4, 24, 17, 0, tzinfo=dt.UTC))
    login(frontline_a)
    assert "截止 04-25 01:00" in client.get("/today").get_data(as_text=True)


def _card(html: str, task_id: int) -> str:
    """The HTML of one task card."""
    start = html.index(f'id="task-{task_id}"')
    return html[start:html.index("</section>", start)]


def test_form_messages_show_inside_their_task_card(db, client, login, make_task, frontline_a):
    first, second = make_task(frontline_a), make_task(frontline_a)
    login(frontline_a)
    client.post(f"/tasks/{second.id}/interactions",
                data={"event_id": "web-c1", "kind": "conversion", "quantity": "1"})
    html = client.get("/today").get_data(as_text=True)
    main_top = html[html.index("<main>"):html.index('class="feed-title"')]
    assert "转化" not in main_top  # not at the top of the long page
    assert "转化须填写金额" in _card(html, second.id)
    assert 'class="flash' not in _card(html, first.id)
    client.post(f"/today/tasks/{first.id}/complete", data={"reach_count": "12"})
    html = client.get("/today").get_data(as_text=True)
    assert "已标记完成" in _card(html, first.id)


def test_one_message_per_invalid_field(db, client, login, make_task, frontline_a):
    task = make_task(frontline_a)
    login(frontline_a)
    client.post(f"/today/tasks/{task.id}/complete", data={"reach_count": "abc"})
    card = _card(client.get("/today").get_data(as_text=True), task.id)
    assert card.count('class="flash flash-error"') == 1 and "不是有效的整数" in card
    client.post(f"/tasks/{task.id}/interactions",
                data={"event_id": "web-q0", "kind": "like", "quantity": "0"})
    card = _card(client.get("/today").get_data(as_text=True), task.id)
    assert "人数：至少为 1" in card and "必填" not in card
    assert _event_count(db) == 0


def test_overdue_task_is_collapsed_with_a_stale_note(client, login, make_task, frontline_a):
    old = make_task(frontline_a, run_date=DAY_BEFORE)
    login(frontline_a)
    card = _card(client.get("/today").get_data(as_text=True), old.id)
    assert "内容为 2025-04-24 行情，已过时，请勿再发送" in card
    assert '<details class="overdue-box">' in card
    assert "copy-btn" not in card  # nothing to copy and resend
    assert f'action="/today/tasks/{old.id}/complete"' in card  # can still be closed


def test_amount_on_a_non_conversion_is_refused_in_chinese(db, client, login, make_task,
                                                          frontline_a):
    task = make_task(frontline_a)
    login(frontline_a)
    client.post(f"/tasks/{task.id}/interactions",
                data={"event_id": "web-a1", "kind": "like", "quantity": "1", "amount_cny": "5"})
    card = _card(client.get("/today").get_data(as_text=True), task.id)
    assert "只有转化可以填写金额" in card and "conversion）" not in card
