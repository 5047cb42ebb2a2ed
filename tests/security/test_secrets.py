"""Secrets never reach a log record: passwords, API tokens, SECRET_KEY.

Log capture uses its own root handler (not ``caplog``) so the test also runs with
``-p no:logging``.
"""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

import pytest

from app.auth.services import hash_password
from app.org.models import Role
from tests.factories import UserFactory

APP_DIR = Path(__file__).resolve().parents[2] / "app"
GOOD_PASSWORD = "Gut-Passw0rd-不外泄-7c1e"
WRONG_PASSWORD = "Wrong-Passw0rd-绝密-5d2a"
SECRET_KEY = "security-review-secret-key-0b9e44"
BAD_TOKEN = "Bogus-Token-8f7e6d5c4b3a2910-aaaaaaaaaaaaaaaa"


class _Collector(logging.Handler):
    """Keeps every record as text: formatted message, traceback, args and extra fields."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self._formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(f"{self._formatter.format(record)} {record.args!r} {vars(record)!r}")


@pytest.fixture
def all_logs():
    """Every logger at DEBUG into one collector; levels and handlers restored afterwards."""
    root, app_logger = logging.getLogger(), logging.getLogger("app")
    saved = (root.level, app_logger.level)
    collector = _Collector()
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    app_logger.setLevel(logging.DEBUG)
    try:
        yield collector
    finally:
        root.removeHandler(collector)
        root.setLevel(saved[0])
        app_logger.setLevel(saved[1])


def test_login_token_and_api_calls_log_no_secret(app, client, db, monkeypatch, all_logs):
    monkeypatch.setitem(app.config, "SECRET_KEY", SECRET_KEY)
    user = UserFactory(role=Role.frontline, password_hash=hash_password(GOOD_PASSWORD))
    db.session.commit()
    username = user.username

    bad = client.post("/login", data={"username": username, "password": WRONG_PASSWORD})
    assert "用户名或密码错误" in bad.get_data(as_text=True)
    assert client.post("/login", data={"username": username,
                                       "password": GOOD_PASSWORD}).status_code == 302
    page = client.post("/account/api-token").get_data(as_text=True)
    token = re.search(r'<pre class="token" id="api-token">([^<]+)</pre>', page).group(1)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/feed/today", headers=auth).status_code == 200
    assert client.post("/api/v1/interactions", headers=auth, data="{not json").status_code == 400
    assert client.get("/api/v1/feed/today",
                      headers={"Authorization": f"Bearer {BAD_TOKEN}"}).status_code == 401

    logs = "\n".join(all_logs.texts)
    assert "failed login" in logs and "api token issued" in logs  # the capture works
    secrets = {"good password": GOOD_PASSWORD, "wrong password": WRONG_PASSWORD,
               "api token": token, "bad token": BAD_TOKEN, "SECRET_KEY": SECRET_KEY,
               "password hash": user.password_hash, "token digest": user.api_token_sha256}
    assert [name for name, value in secrets.items() if value in logs] == []


#: Logger arguments (after the message) that would put a secret or raw input in a log.
_SENSITIVE = re.compile(
    r"password|passwd|token|secret|credential|\bconfig\b|"
    r"request\.(form|values|headers|authorization|cookies|data|json|get_json|get_data|args)"
)
_LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}


def _logging_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in _LOG_METHODS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("logger", "logging", "log")):
            yield node


def test_no_logging_call_passes_secrets_or_raw_request_data():
    offenders = []
    calls = 0
    for path in sorted(APP_DIR.rglob("*.py")):
        for call in _logging_calls(ast.parse(path.read_text(encoding="utf-8"))):
            calls += 1
            arguments = [ast.unparse(a) for a in call.args[1:]]
            arguments += [ast.unparse(k.value) for k in call.keywords]
            if any(_SENSITIVE.search(text) for text in arguments):
                offenders.append(f"{path.relative_to(APP_DIR)}:{call.lineno}")
    assert calls > 20  # the scan sees the app's logging calls
    assert offenders == []
