"""Issue 6.8: user administration in the UI, every change in the audit log.

Before, accounts existed only through ``flask users create``. Now an admin creates, edits,
deactivates and resets users at /admin/users, and each change is an ``audit_events``
row with who and when (never a password or hash).
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import LoginThrottle
from app.auth.services import issue_api_token
from app.org.models import Role, User
from tests.factories import PASSWORD, UserFactory

GOOD = "Kirsche-Baum-42"


def _events(db, target_id=None):
    statement = select(AuditEvent).order_by(AuditEvent.id)
    if target_id is not None:
        statement = statement.where(AuditEvent.object_id == target_id)
    return list(db.session.scalars(statement))


def _shown_password(response) -> str:
    return re.search(r'<pre class="token" id="initial-password">([^<]+)</pre>',
                     response.get_data(as_text=True)).group(1)


def _create(client, tree, **fields):
    data = {"username": "rm-new", "display_name": "新客户经理", "role": "frontline",
            "branch_id": tree.east1.id, "wecom_userid": "WangXiaoMing", "password": ""}
    data.update(fields)
    return client.post("/admin/users/new", data=data)


def test_admin_creates_a_user_who_must_change_the_shown_password(app, client, db, admin, tree,
                                                                fresh_request):
    response = _create(client, tree)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = _shown_password(response)
    user = db.session.scalar(select(User).where(User.username == "rm-new"))
    assert (user.role, user.branch, user.wecom_userid) == (Role.frontline, tree.east1,
                                                           "WangXiaoMing")
    assert user.must_change_password is True

    [event] = _events(db)
    assert (event.actor_id, event.action, event.object_type, event.object_id) == (
        admin.id, "user_created", "user", user.id)
    assert event.before is None and event.after["branch"] == "T-E1 东区一支行"
    assert event.occurred_at is not None
    stored = json.dumps([event.before, event.after], ensure_ascii=False)
    assert password not in stored and user.password_hash not in stored

    newcomer = app.test_client()
    login = newcomer.post("/login", data={"username": "rm-new", "password": password})
    assert login.status_code == 302
    fresh_request()
    assert newcomer.get("/today").headers["Location"] == "/account/password"


def test_a_typed_initial_password_must_meet_the_policy(client, db, admin, tree):
    page = _create(client, tree, password="short").get_data(as_text=True)
    assert "密码至少需要 10 位" in page
    assert db.session.scalar(select(User).where(User.username == "rm-new")) is None
    assert _events(db) == []
    created = _create(client, tree, password=GOOD)
    assert "已使用您输入的初始密码" in created.get_data(as_text=True)
    assert GOOD not in created.get_data(as_text=True)


@pytest.mark.parametrize("field, value, message", [
    ("username", "ROOT-ADMIN", "用户名已存在"),
    ("wecom_userid", "taken-id", "企业微信 ID 已被其他用户使用"),
    ("username", "张三", "只能包含英文字母、数字和 _ . -"),
])
def test_create_refuses_duplicates_and_bad_names(client, db, admin, tree, field, value, message):
    UserFactory(wecom_userid="Taken-ID")
    db.session.commit()
    page = _create(client, tree, **{field: value}).get_data(as_text=True)
    assert message in page
    assert _events(db) == []


def test_edit_role_branch_and_wecom_id_is_audited(client, db, admin, tree):
    user = UserFactory(role=Role.frontline, branch=tree.east1)
    response = client.post(f"/admin/users/{user.id}", data={
        "display_name": "改名", "role": "manager", "branch_id": tree.east.id,
        "wecom_userid": "zhang.san"})
    assert response.status_code == 302
    assert (user.display_name, user.role, user.branch, user.wecom_userid) == (
        "改名", Role.manager, tree.east, "zhang.san")
    [event] = _events(db, user.id)
    assert event.action == "user_updated" and event.actor_id == admin.id
    assert {(key, before, after) for key, before, after in event.changes()} == {
        ("display_name", event.before["display_name"], "改名"),
        ("role", "frontline", "manager"),
        ("branch", "T-E1 东区一支行", "T-E 东区分行"),
        ("wecom_userid", None, "zhang.san"),
    }
    page = client.get("/audit/").get_data(as_text=True)
    assert "修改用户" in page and "管理员甲" in page and "客户经理（前台） → 管理者" in page


def test_an_admin_cannot_change_own_role_deactivate_or_reset_themselves(client, db, admin,
                                                                        tree):
    page = client.post(f"/admin/users/{admin.id}", data={
        "display_name": "管理员甲", "role": "reviewer", "branch_id": tree.hq.id,
        "wecom_userid": ""}).get_data(as_text=True)
    assert "不能修改自己的角色" in page and admin.role is Role.admin
    client.post(f"/admin/users/{admin.id}/active", data={"active": "0"})
    assert admin.is_active_account is True
    reset = client.post(f"/admin/users/{admin.id}/password", follow_redirects=True)
    assert "请通过「修改密码」修改自己的密码" in reset.get_data(as_text=True)
    assert admin.must_change_password is False
    assert _events(db) == []


def test_deactivation_ends_sessions_and_api_access_at_once(app, client, db, admin, tree,
                                                           fresh_request):
    user = UserFactory(role=Role.frontline, branch=tree.east1)
    token = issue_api_token(user)
    victim = app.test_client()
    victim.post("/login", data={"username": user.username, "password": PASSWORD})
    fresh_request()
    response = client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    assert response.status_code == 302 and user.is_active_account is False
    fresh_request()
    assert victim.get("/today").status_code == 302
    assert app.test_client().get("/api/v1/feed/today", headers={
        "Authorization": f"Bearer {token}"}).status_code == 401
    fresh_request()
    client.post(f"/admin/users/{user.id}/active", data={"active": "1"})
    assert user.is_active_account is True
    assert [e.action for e in _events(db, user.id)] == ["user_deactivated", "user_reactivated"]


def test_reset_password_revokes_everything_and_lifts_the_lock(app, client, db, admin, tree,
                                                              fresh_request):
    user = UserFactory(role=Role.frontline, branch=tree.east1)
    issue_api_token(user)
    for _ in range(5):  # someone locked the account
        app.test_client().post("/login", data={"username": user.username, "password": "x"})
    fresh_request()
    listing = client.get("/admin/users?q=" + user.username).get_data(as_text=True)
    assert "登录锁定至" in listing

    response = client.post(f"/admin/users/{user.id}/password")
    assert response.headers["Cache-Control"] == "no-store"
    password = _shown_password(response)
    assert user.must_change_password is True and user.api_token_sha256 is None
    assert db.session.scalar(select(LoginThrottle).where(
        LoginThrottle.username == user.username)) is None
    [event] = _events(db, user.id)
    assert event.action == "password_reset"
    assert ("has_api_token", True, False) in event.changes()
    assert password not in json.dumps(event.after)

    fresh_request()
    old = app.test_client().post("/login", data={"username": user.username,
                                                 "password": PASSWORD})
    assert "用户名或密码错误" in old.get_data(as_text=True)
    new = app.test_client().post("/login", data={"username": user.username,
                                                 "password": password})
    assert new.status_code == 302


def test_user_list_filters_by_branch_subtree_role_and_text(client, db, admin, tree):
    UserFactory(username="east-rm", role=Role.frontline, branch=tree.east2)
    UserFactory(username="east-boss", role=Role.manager, branch=tree.east)
    UserFactory(username="west-rm", role=Role.frontline, branch=tree.west1,
                wecom_userid="wx-west")

    def names(query):
        page = client.get(f"/admin/users?{query}").get_data(as_text=True)
        return set(re.findall(r'<span class="muted username">((?:east|west)-\w+)</span>', page))

    assert names(f"branch_id={tree.east.id}") == {"east-rm", "east-boss"}
    assert names(f"branch_id={tree.east.id}&role=frontline") == {"east-rm"}
    assert names("q=wx-west") == {"west-rm"}
    assert names("branch_id=99999999999999999999&page=-3") == {"east-rm", "east-boss", "west-rm"}


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.admin], ids=lambda r: r.value)
def test_non_admins_get_403_on_administration(client, login_as, db, tree, role):
    login_as(role.value)
    db.session.commit()  # a 403 rolls the request back; the user must outlive it
    for path in ("/admin/users", "/admin/users/new", "/admin/branches"):
        assert client.get(path).status_code == 403, path
    # the audit log is for managers and admins
    assert client.get("/audit/").status_code == (200 if role is Role.manager else 403)
    assert client.post("/admin/users/new", data={"username": "x"}).status_code == 403


def test_the_admin_navigation_and_the_review_note(client, db, admin):
    page = client.get("/admin/users").get_data(as_text=True)
    for label in ("用户管理", "机构管理", "审计日志"):
        assert label in page
    assert "系统管理员不能审批内容" in client.get("/admin/users/new").get_data(as_text=True)
