"""The user-trial attack through POST /api/v1/interactions: rejected item by item."""

from sqlalchemy import select

from app.auth.services import issue_api_token
from app.core.extensions import db
from app.interactions.models import InteractionEvent

URL = "/api/v1/interactions"


def bearer(user) -> dict:
    token = issue_api_token(user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_trial_attack_is_rejected_and_good_items_recorded(client, fixed_clock, make_task,
                                                          make_sent_task, frontline_a):
    sent, open_task = make_sent_task(frontline_a, reach=35), make_task(frontline_a)
    response = client.post(URL, headers=bearer(frontline_a), json={"events": [
        {"event_id": "x-like", "task_id": sent.id, "kind": "like", "quantity": 100000},
        {"event_id": "x-open", "task_id": open_task.id, "kind": "like"},
        {"event_id": "x-2020", "task_id": sent.id, "kind": "comment",
         "occurred_at": "2020-01-01T09:00:00+08:00"},
        {"event_id": "x-amount", "task_id": sent.id, "kind": "conversion",
         "amount_cny": "999999999.99"},
        {"event_id": "ok-like", "task_id": sent.id, "kind": "like", "quantity": 35,
         "occurred_at": "2025-04-25T10:00:00+08:00"},
        {"event_id": "ok-conv", "task_id": sent.id, "kind": "conversion", "amount_cny": "20000"},
    ]})
    assert response.status_code == 200
    body = response.get_json()
    errors = {r["event_id"]: r.get("errors") for r in body["results"]}
    assert errors["x-like"]["quantity"].startswith("点赞累计不能超过发送人数 35")
    assert errors["x-open"] == {"task_id": "请先标记任务完成并填写发送人数"}
    assert set(errors["x-2020"]) == {"occurred_at"}
    assert errors["x-amount"] == {"amount_cny": "单笔转化金额不能超过 50,000,000 元"}
    assert errors["ok-like"] is None and errors["ok-conv"] is None
    assert (body["created"], body["errors"]) == (2, 4)
    assert set(db.session.scalars(select(InteractionEvent.event_id))) == {"ok-like", "ok-conv"}


def test_complete_then_log_through_the_api(client, fixed_clock, make_task, frontline_a):
    task = make_task(frontline_a)
    headers = bearer(frontline_a)
    item = {"event_id": "s-1", "task_id": task.id, "kind": "like", "quantity": 3}
    early = client.post(URL, headers=headers, json={"events": [item]}).get_json()
    assert early["results"][0]["errors"] == {"task_id": "请先标记任务完成并填写发送人数"}
    client.post(f"/api/v1/tasks/{task.id}/complete", json={"reach_count": 2}, headers=headers)
    too_many = client.post(URL, headers=headers, json={"events": [item]}).get_json()
    assert "quantity" in too_many["results"][0]["errors"]
    client.post(f"/api/v1/tasks/{task.id}/complete", json={"reach_count": 3}, headers=headers)
    logged = client.post(URL, headers=headers, json={"events": [item]}).get_json()
    assert logged["results"] == [{"event_id": "s-1", "status": "created"}]
    retry = client.post(URL, headers=headers, json={"events": [item]}).get_json()
    assert retry["results"] == [{"event_id": "s-1", "status": "duplicate"}]
