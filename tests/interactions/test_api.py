import pytest
from sqlalchemy import func, select

from app.auth.services import issue_api_token
from app.core.extensions import db
from app.interactions.models import InteractionEvent
from app.org.models import Role
from tests.factories import UserFactory

URL = "/api/v1/interactions"


def bearer(user) -> dict:
    token = issue_api_token(user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(InteractionEvent))


def test_batch_reply_and_retry(client, fixed_clock, make_sent_task, frontline_a, frontline_b):
    mine, theirs = make_sent_task(frontline_a), make_sent_task(frontline_b)
    headers = bearer(frontline_a)
    batch = {"events": [
        {"event_id": "a-1", "task_id": mine.id, "kind": "comment", "quantity": 2,
         "occurred_at": "2025-04-25T09:00:00+08:00"},
        {"event_id": "a-2", "task_id": theirs.id, "kind": "like"},
        {"event_id": "a-3", "task_id": mine.id, "kind": "conversion"},
        {"event_id": "a-4", "task_id": mine.id, "kind": "conversion", "amount_cny": "30000"},
    ]}
    response = client.post(URL, json=batch, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["results"] == [
        {"event_id": "a-1", "status": "created"},
        {"event_id": "a-2", "status": "error", "errors": {"task_id": "任务不存在"}},
        {"event_id": "a-3", "status": "error",
         "errors": {"amount_cny": body["results"][2]["errors"]["amount_cny"]}},
        {"event_id": "a-4", "status": "created"},
    ]
    assert (body["created"], body["duplicates"], body["conflicts"], body["errors"]) == (2, 0, 0, 2)
    assert count() == 2

    retry = client.post(URL, json=batch, headers=headers).get_json()
    assert [r["status"] for r in retry["results"]] == ["duplicate", "error", "error", "duplicate"]
    assert (retry["created"], retry["duplicates"]) == (0, 2)
    assert count() == 2

    batch["events"][0]["quantity"] = 7
    conflict = client.post(URL, json=batch, headers=headers).get_json()
    assert conflict["results"][0]["status"] == "conflict" and conflict["conflicts"] == 1
    assert count() == 2


def test_without_token_is_401(client, db):
    response = client.post(URL, json={"events": []})
    assert response.status_code == 401 and "error" in response.get_json()


@pytest.mark.parametrize("role", [Role.editor, Role.manager])
def test_other_roles_are_forbidden(client, db, role):
    response = client.post(URL, json={"events": []}, headers=bearer(UserFactory(role=role)))
    assert response.status_code == 403


def test_malformed_json_is_400(client, frontline_a):
    response = client.post(URL, data='{"events": [', content_type="application/json",
                           headers=bearer(frontline_a))
    assert response.status_code == 400
    assert response.get_json() == {"error": "请求体不是有效的 JSON"}


def test_empty_body_is_400(client, frontline_a):
    assert client.post(URL, headers=bearer(frontline_a)).status_code == 400


@pytest.mark.parametrize("payload", [[], {"events": "x"}, {"event": []}])
def test_wrong_shape_is_422(client, frontline_a, payload):
    response = client.post(URL, json=payload, headers=bearer(frontline_a))
    assert response.status_code == 422 and "events" in response.get_json()["errors"]


def test_too_large_batch_is_422(client, make_task, frontline_a):
    task = make_task(frontline_a)
    events = [{"event_id": f"z{i}", "task_id": task.id, "kind": "like"} for i in range(501)]
    response = client.post(URL, json={"events": events}, headers=bearer(frontline_a))
    assert response.status_code == 422
    assert "500" in response.get_json()["error"]
    assert count() == 0


def test_empty_batch(client, frontline_a):
    response = client.post(URL, json={"events": []}, headers=bearer(frontline_a))
    assert response.status_code == 200
    assert response.get_json() == {"results": [], "created": 0, "duplicates": 0,
                                   "conflicts": 0, "errors": 0}
