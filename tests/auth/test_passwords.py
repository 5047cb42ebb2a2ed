"""Password policy (Chinese messages), forced change of an initial password, 修改密码, CLI."""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import select

from app.auth.passwords import generate_password, password_problems
from app.org.models import User
from tests.factories import PASSWORD, BranchFactory, UserFactory

GOOD = "Kirsche-Baum-42"


@pytest.mark.parametrize("password, message", [
    ("Ab1-", "密码至少需要 10 位"),
    ("alllowercaseletters", "密码需包含大写字母、小写字母、数字、符号中的至少三类"),
    ("lowercase-and-symbols", "密码需包含大写字母、小写字母、数字、符号中的至少三类"),
    ("Xx-wangwei-2025", "密码不能包含用户名"),
    ("My-Password-9", "密码不能包含常见弱口令（如 123456、password、qwerty）"),
    ("Zhongtai@2025", "密码不能包含常见弱口令（如 123456、password、qwerty）"),
    ("A" * 120 + "b1-cdefghi", "密码最多 128 位"),
])
def test_policy_messages(password, message):
    assert message in password_problems(password, "WangWei", 10)


@pytest.mark.parametrize("password", [GOOD, "银行客户经理Ab12", "correct-horse-Battery"])
def test_good_passwords_pass(password):
    assert password_problems(password, "wangwei", 10) == []


def test_generated_passwords_meet_the_policy_and_differ():
    passwords = {generate_password(10) for _ in range(20)}
    assert len(passwords) == 20
    assert all(password_problems(p, "", 10) == [] and len(p) >= 16 for p in passwords)
    assert len(generate_password(30)) >= 30


def _post_change(client, current, new, confirm=None):
    g.pop("_login_user", None)
    return client.post("/account/password", data={
        "current_password": current, "new_password": new,
        "confirm_password": new if confirm is None else confirm})


def test_an_initial_password_must_be_changed_before_anything_else(client, db):
    user = UserFactory(role="frontline", must_change_password=True)
    login = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert login.status_code == 302
    for path in ("/", "/today", "/account/api-token"):
        g.pop("_login_user", None)
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == (
            "/account/password"), path
    g.pop("_login_user", None)
    page = client.get("/account/password").get_data(as_text=True)
    assert "请先设置自己的新密码" in page

    wrong = _post_change(client, "not-my-password", GOOD).get_data(as_text=True)
    assert "当前密码：当前密码不正确" in wrong
    weak = _post_change(client, PASSWORD, "short").get_data(as_text=True)
    assert "密码至少需要 10 位" in weak and "至少三类" in weak
    mismatch = _post_change(client, PASSWORD, GOOD, "Kirsche-Baum-43").get_data(as_text=True)
    assert "两次输入的新密码不一致" in mismatch
    same = _post_change(client, PASSWORD, PASSWORD).get_data(as_text=True)
    assert "新密码不能与当前密码相同" in same
    assert user.must_change_password is True

    done = _post_change(client, PASSWORD, GOOD)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    g.pop("_login_user", None)
    assert client.get("/today").status_code == 200
    assert user.must_change_password is False and user.password_changed_at is not None


def test_logout_works_while_a_change_is_due(client, db):
    user = UserFactory(must_change_password=True)
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_every_user_can_change_their_password(client, login_as, db):
    user = login_as("manager")
    assert "修改密码" in client.get("/metrics/scorecard").get_data(as_text=True)
    assert _post_change(client, PASSWORD, GOOD).status_code == 302
    assert client.post("/login", data={"username": user.username,
                                       "password": GOOD}).status_code == 302


def _create(runner, username, password, branch_code):
    return runner.invoke(args=["users", "create", username, "--name", "新员工", "--role",
                               "frontline", "--branch", branch_code, "--password", password])


def test_cli_create_applies_the_policy_and_forces_a_change(runner, db):
    branch = BranchFactory()
    db.session.commit()  # the failing command rolls back; the branch must outlive it
    weak = _create(runner, "newbie", "newbie-123", branch.code)
    assert weak.exit_code != 0
    assert "密码不能包含用户名" in weak.output and "newbie-123" not in weak.output
    assert db.session.scalar(select(User).where(User.username == "newbie")) is None

    result = _create(runner, "newbie", GOOD, branch.code)
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "newbie"))
    assert user.must_change_password is True and user.password_hash != GOOD
