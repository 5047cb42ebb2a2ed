import re

import pytest

from app.auth.views import safe_next_url
from app.factory import create_app
from config import TestConfig
from tests.factories import PASSWORD, UserFactory


def test_login_with_good_password_redirects_home(client, db):
    user = UserFactory(role="editor")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_with_bad_password_stays(client, db):
    user = UserFactory()
    response = client.post("/login", data={"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_log_in(client, db):
    user = UserFactory(is_active_account=False)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert "用户名或密码错误" in response.get_data(as_text=True)


@pytest.mark.parametrize("target, expected", [
    ("/content/", "/content/"),
    ("https://evil.example/", None),
    ("//evil.example/x", None),
    ("/\\evil.example", None),
    ("javascript:alert(1)", None),
    ("", None),
])
def test_safe_next_url(target, expected):
    assert safe_next_url(target) == expected


def test_login_follows_only_local_next(client, db):
    user = UserFactory(role="editor")
    response = client.post("/login?next=https://evil.example/",
                           data={"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/plans",
                           data={"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/plans"


def test_home_redirects_by_role(client, login_as):
    login_as("manager")
    assert client.get("/").headers["Location"].startswith("/metrics/scorecard")


def test_logout_requires_post(client, login_as):
    login_as("editor")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_csrf_enforced_on_login(app, db):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    csrf_app = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=url)
    user = UserFactory()
    db.session.commit()
    with csrf_app.test_client() as c:
        response = c.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 400
        page = c.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert token
