"""Response security headers, cookie flags in production, Chinese HTTP error pages."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from app.org.models import Role
from config import ProductionConfig
from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", ["/login", "/healthz", "/api/v1/feed/today", "/no-such-page"])
def test_security_headers_on_pages_json_and_errors(client, db, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_security_headers_on_logged_in_page(client, db, sign_in):
    sign_in(UserFactory(role=Role.editor))
    response = client.get("/content/")
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"


def test_production_cookie_settings():
    config = ProductionConfig()
    assert config.SESSION_COOKIE_SECURE and config.SESSION_COOKIE_HTTPONLY
    assert config.SESSION_COOKIE_SAMESITE in ("Lax", "Strict")
    assert config.REMEMBER_COOKIE_SECURE and config.REMEMBER_COOKIE_HTTPONLY
    assert config.REMEMBER_COOKIE_SAMESITE in ("Lax", "Strict")


def test_session_cookie_flags_with_production_settings(make_app, db):
    production = ProductionConfig()
    keys = ("SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE")
    app = make_app(WTF_CSRF_ENABLED=False, **{key: getattr(production, key) for key in keys})
    username = UserFactory().username
    db.session.commit()
    response = app.test_client().post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("method, path, status, message", [
    ("get", "/no-such-page", 404, "页面不存在"),
    ("get", "/logout", 405, "不支持该请求方式"),
])
def test_http_errors_render_chinese_messages(client, db, method, path, status, message):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


def test_jinja2_pin_and_installed_version():
    from importlib.metadata import version

    from packaging.version import Version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "jinja2>=3.1.6" in project["dependencies"]
    assert Version(version("jinja2")) >= Version("3.1.6")


def test_method_not_allowed_keeps_the_allow_header(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "不支持该请求方式" in response.get_data(as_text=True)
