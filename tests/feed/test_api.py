import datetime as dt

import pytest

from app.auth.services import issue_api_token
from app.broadcasts.models import TaskStatus
from app.core.extensions import db
from app.org.models import Role
from tests.factories import UserFactory


def bearer(user) -> dict:
    token = issue_api_token(user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_no_token_is_401_json(client):
    response = client.get("/api/v1/feed/today")
    assert response.status_code == 401
    assert response.get_json() == {"error": "缺少或无效的 API 令牌"}
    assert client.post("/api/v1/tasks/1/complete").status_code == 401
    assert client.post("/api/v1/interactions", json={"events": []}).status_code == 401


def test_bad_token_is_401(client, db):
    response = client.get("/api/v1/feed/today", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and "error" in response.get_json()


def test_session_login_does_not_authenticate_api(client, login):
    login("frontline")
    assert client.get("/api/v1/feed/today").status_code == 401


@pytest.mark.parametrize("role", [Role.editor, Role.reviewer, Role.manager])
def test_non_frontline_tokens_are_forbidden(client, db, role):
    headers = bearer(UserFactory(role=role))
    response = client.get("/api/v1/feed/today", headers=headers)
    assert response.status_code == 403 and "error" in response.get_json()
    assert client.post("/api/v1/tasks/1/complete", headers=headers).status_code == 403
    assert client.post("/api/v1/interactions", json={"events": []},
                       headers=headers).status_code == 403


def test_inactive_user_token_is_rejected(client, db, frontline_a):
    headers = bearer(frontline_a)
    frontline_a.is_active_account = False
    assert client.get("/api/v1/feed/today", headers=headers).status_code == 401


def test_feed_today_lists_only_own_tasks(client, make_task, frontline_a, frontline_b):
    mine = make_task(frontline_a, body="我的文案")
    overdue = make_task(frontline_a, run_date=dt.date(2025, 4, 23))
    make_task(frontline_b, body="别人的文案")
    response = client.get("/api/v1/feed/today", headers=bearer(frontline_a))
    assert response.status_code == 200
    body = response.get_json()
    assert body["date"] == "2025-04-25"
    assert [t["id"] for t in body["tasks"]] == [mine.id, overdue.id]
    first = body["tasks"][0]
    assert first == {
        "id": mine.id, "post_id": mine.post_id, "run_date": "2025-04-25",
        "sop": mine.post.sop_plan.name, "channel": "moments_post", "text": "我的文案",
        "chart_url": "/charts/2025-04-25/global_indices.png", "status": "assigned",
        "due_at": "2025-04-25T10:30:00+08:00", "completed_at": None, "reach_count": None,
        "overdue": False, "note": None,
    }
    assert body["tasks"][1]["overdue"] is True


def test_complete_via_api_twice_keeps_first_completion(db, client, make_task, frontline_a):
    task = make_task(frontline_a)
    headers = bearer(frontline_a)
    first = client.post(f"/api/v1/tasks/{task.id}/complete", json={"reach_count": 42},
                        headers=headers)
    assert first.status_code == 200
    body = first.get_json()
    assert body["status"] == "done" and body["reach_count"] == 42 and body["completed_at"]
    second = client.post(f"/api/v1/tasks/{task.id}/complete", json={"reach_count": 42},
                         headers=headers)
    assert second.status_code == 200 and second.get_json() == body
    corrected = client.post(f"/api/v1/tasks/{task.id}/complete", json={"reach_count": 7},
                            headers=headers)
    assert corrected.status_code == 200 and corrected.get_json() == {**body, "reach_count": 7}
    db.session.refresh(task)
    assert task.status is TaskStatus.done and task.reach_count == 7
    assert task.completed_at.astimezone(dt.UTC) == dt.datetime.fromisoformat(
        body["completed_at"])


def test_reach_correction_below_logged_events_is_422(db, client, fixed_clock, make_sent_task,
                                                     frontline_a):
    task = make_sent_task(frontline_a, reach=35)
    headers = bearer(frontline_a)
    logged = client.post("/api/v1/interactions", headers=headers, json={"events": [
        {"event_id": "c-1", "task_id": task.id, "kind": "comment", "quantity": 20}]})
    assert logged.get_json()["created"] == 1
    response = client.post(f"/api/v1/tasks/{task.id}/complete", json={"reach_count": 19},
                           headers=headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"reach_count": "已登记的客户反馈要求发送人数至少为 20"}
    db.session.refresh(task)
    assert task.reach_count == 35


def test_complete_without_body(db, client, make_task, frontline_a):
    task = make_task(frontline_a)
    response = client.post(f"/api/v1/tasks/{task.id}/complete", headers=bearer(frontline_a))
    assert response.status_code == 200 and response.get_json()["reach_count"] is None


def test_complete_other_users_task_is_404(db, client, make_task, frontline_a, frontline_b):
    task = make_task(frontline_b)
    response = client.post(f"/api/v1/tasks/{task.id}/complete", headers=bearer(frontline_a))
    missing = client.post("/api/v1/tasks/999999/complete", headers=bearer(frontline_a))
    assert response.status_code == missing.status_code == 404
    assert response.get_json() == missing.get_json()
    db.session.refresh(task)
    assert task.status is TaskStatus.assigned


@pytest.mark.parametrize("payload, field", [
    ({"reach_count": -1}, "reach_count"),
    ({"reach_count": "12"}, "reach_count"),
    ({"reach": 12}, "reach"),
    ([1, 2], "body"),
])
def test_complete_rejects_bad_body(db, client, make_task, frontline_a, payload, field):
    task = make_task(frontline_a)
    response = client.post(f"/api/v1/tasks/{task.id}/complete", json=payload,
                           headers=bearer(frontline_a))
    assert response.status_code == 422 and field in response.get_json()["errors"]
    db.session.refresh(task)
    assert task.status is TaskStatus.assigned


def test_complete_malformed_json_is_400(db, client, make_task, frontline_a):
    task = make_task(frontline_a)
    response = client.post(f"/api/v1/tasks/{task.id}/complete", data="{reach_count: 1",
                           content_type="application/json", headers=bearer(frontline_a))
    assert response.status_code == 400
    assert response.get_json()["error"] == "请求体不是有效的 JSON"


def test_api_is_csrf_exempt(app, client, make_task, frontline_a, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    task = make_task(frontline_a)
    response = client.post(f"/api/v1/tasks/{task.id}/complete", headers=bearer(frontline_a))
    assert response.status_code == 200
