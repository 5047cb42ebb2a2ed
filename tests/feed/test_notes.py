"""Personal notes 附言: checked by the compliance engine before they can be copied or sent;
the task records the final text and its hash (service, JSON API, 今日任务 page)."""

import hashlib

import pytest
from sqlalchemy import select

from app.auth.services import issue_api_token
from app.broadcasts.models import PostStatus, PostText, Task
from app.content.models import Channel
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.extensions import db
from app.feed.notes import set_note
from tests.factories import PostFactory

APPROVED = "今日市场速览"
NOTE = "王先生您好，有问题随时联系我。"
PROMISE = "这款稳赚不赔，放心买"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _bearer(user) -> dict:
    token = issue_api_token(user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_a_note_becomes_part_of_the_recorded_text(frontline_a, make_task):
    task = make_task(frontline_a, body=APPROVED)
    saved, findings = set_note(task.id, frontline_a.id, f"  {NOTE}\r\n")
    assert findings == []
    assert saved.note == NOTE and saved.text == f"{APPROVED}\n\n{NOTE}"
    assert saved.body_sha256 == _sha(saved.text) and saved.approved_text == APPROVED
    again, _ = set_note(task.id, frontline_a.id, NOTE)  # idempotent
    assert (again.text, again.body_sha256) == (saved.text, saved.body_sha256)
    changed, _ = set_note(task.id, frontline_a.id, "节日快乐！")
    assert changed.text == f"{APPROVED}\n\n节日快乐！"  # replaced, never appended twice
    removed, _ = set_note(task.id, frontline_a.id, "   ")
    assert (removed.note, removed.text, removed.body_sha256) == (None, APPROVED, _sha(APPROVED))


def test_a_blocking_note_is_refused_with_the_rule_message(frontline_a, make_task):
    task = make_task(frontline_a, body=APPROVED)
    with pytest.raises(ValidationFailed) as refused:
        set_note(task.id, frontline_a.id, PROMISE)
    assert "INV-01" in refused.value.errors["note"]
    db.session.rollback()
    stored = db.session.get(Task, task.id)
    assert (stored.note, stored.text, stored.body_sha256) == (None, APPROVED, _sha(APPROVED))


def test_a_note_may_not_bring_raw_html_or_break_the_channel_limit(frontline_a, make_task):
    task = make_task(frontline_a, body="市" * 1995)  # 朋友圈: at most 2,000 characters
    with pytest.raises(ValidationFailed) as too_long:
        set_note(task.id, frontline_a.id, "请联系我")
    assert "CH-LEN" in too_long.value.errors["note"]
    with pytest.raises(ValidationFailed) as html:
        set_note(make_task(frontline_a, body=APPROVED).id, frontline_a.id, "<b>详询</b>")
    assert "FMT-01" in html.value.errors["note"]


@pytest.mark.parametrize("note, message", [
    ("x" * 201, "最多 200 字"), ("a\x00b", "控制字符"), (42, "须为文字")])
def test_bad_notes_are_refused(frontline_a, make_task, note, message):
    task = make_task(frontline_a, body=APPROVED)
    with pytest.raises(ValidationFailed) as refused:
        set_note(task.id, frontline_a.id, note)
    assert message in refused.value.errors["note"]


def test_only_the_owner_and_only_while_it_can_still_be_sent(frontline_a, frontline_b,
                                                            make_task, make_sent_task):
    task = make_task(frontline_a, body=APPROVED)
    with pytest.raises(NotFound):
        set_note(task.id, frontline_b.id, NOTE)
    done = make_sent_task(frontline_a, body=APPROVED)
    with pytest.raises(Conflict, match="已完成"):
        set_note(done.id, frontline_a.id, NOTE)
    task.post.status = PostStatus.cancelled
    db.session.commit()
    with pytest.raises(Conflict, match="撤回"):
        set_note(task.id, frontline_a.id, NOTE)


def test_with_wecom_connected_pushed_channels_take_no_note(app, frontline_a, make_task,
                                                         monkeypatch):
    task = make_task(frontline_a, body=APPROVED)  # 朋友圈
    monkeypatch.setitem(app.config, "WECOM_CORP_ID", "wwcorp")
    monkeypatch.setitem(app.config, "WECOM_SECRET", "secret")
    with pytest.raises(Conflict, match="企业微信直接下发"):
        set_note(task.id, frontline_a.id, NOTE)
    task.post.sop_plan.channel = Channel.customer_group  # sent by hand: the note is kept
    db.session.flush()
    saved, _ = set_note(task.id, frontline_a.id, NOTE)
    assert saved.text == f"{APPROVED}\n\n{NOTE}"


def test_a_shared_post_text_task_gets_its_own_body_only_while_it_has_a_note(
        frontline_a, make_task):
    post = PostFactory()
    shared = PostText(post_id=post.id, variant=0, segments=[APPROVED])
    db.session.add(shared)
    db.session.flush()
    task = make_task(frontline_a, post=post, post_text=shared, body=None, body_sha256=None)
    assert task.text == APPROVED and task.body is None
    noted, _ = set_note(task.id, frontline_a.id, NOTE)
    assert noted.body == f"{APPROVED}\n\n{NOTE}" and noted.approved_text == APPROVED
    cleared, _ = set_note(task.id, frontline_a.id, None)
    assert (cleared.body, cleared.body_sha256, cleared.text) == (None, None, APPROVED)


def test_api_sets_the_note_idempotently_and_refuses_a_blocking_one(client, frontline_a,
                                                                    make_task):
    task = make_task(frontline_a, body=APPROVED)
    headers = _bearer(frontline_a)
    url = f"/api/v1/tasks/{task.id}/note"
    first = client.put(url, json={"note": NOTE}, headers=headers)
    assert first.status_code == 200, first.get_json()
    data = first.get_json()
    assert data["task"]["note"] == NOTE and data["task"]["text"] == f"{APPROVED}\n\n{NOTE}"
    assert data["findings"] == []
    again = client.put(url, json={"note": NOTE}, headers=headers)
    assert again.status_code == 200 and again.get_json() == data
    assert db.session.get(Task, task.id).body_sha256 == _sha(f"{APPROVED}\n\n{NOTE}")
    refused = client.put(url, json={"note": PROMISE}, headers=headers)
    assert refused.status_code == 422 and "INV-01" in refused.get_json()["errors"]["note"]
    feed = client.get("/api/v1/feed/today", headers=headers).get_json()
    [item] = [t for t in feed["tasks"] if t["id"] == task.id]
    assert item["note"] == NOTE and item["text"].endswith(NOTE)
    assert client.put(url, json={"note": NOTE, "x": 1}, headers=headers).status_code == 422
    assert client.put(url, json=[], headers=headers).status_code == 422


def test_today_page_saves_a_note_and_shows_a_refusal(client, login, frontline_a, make_task):
    task = make_task(frontline_a, body=APPROVED)
    login(frontline_a)
    page = client.get("/today").get_data(as_text=True)
    assert "添加附言" in page and f"/today/tasks/{task.id}/note" in page
    saved = client.post(f"/today/tasks/{task.id}/note", data={"note": NOTE},
                        follow_redirects=True).get_data(as_text=True)
    assert "附言已保存" in saved and f"{APPROVED}\n\n{NOTE}</pre>" in saved
    refused = client.post(f"/today/tasks/{task.id}/note", data={"note": PROMISE},
                          follow_redirects=True).get_data(as_text=True)
    assert "附言未通过合规检查" in refused and "INV-01" in refused
    stored = db.session.scalar(select(Task).where(Task.id == task.id))
    assert stored.note == NOTE
