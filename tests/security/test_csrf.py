"""CSRF: every POST form route needs a token; the bearer-token API is exempt.

These tests build an app with ``WTF_CSRF_ENABLED`` left on (the shared fixtures turn it off).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.core.errors import CSRF_MESSAGE
from app.org.models import Role
from tests.factories import PASSWORD
from tests.security.conftest import CHART_DAY

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "app" / "templates"


@pytest.fixture
def csrf_app(make_app):
    app = make_app()
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    return app


@pytest.fixture
def ids(world):
    """Plain values of ``world``: each request of another app ends by removing the shared
    session, which detaches the ORM objects."""
    return SimpleNamespace(
        template_id=world.template.id, plan_id=world.plan.id, task_id=world.task.id,
        post_id=world.task.post_id,
        user_ids={role: user.id for role, user in world.users.items()},
        branch_id=world.users[Role.frontline].branch_id,
        usernames={role: user.username for role, user in world.users.items()},
        tokens=dict(world.tokens))


def _signed_in_client(csrf_app, user_id: int | None):
    client = csrf_app.test_client()
    if user_id is not None:
        with client.session_transaction() as session:
            session["_user_id"] = str(user_id)
            session["_fresh"] = True
    return client


def _form_post_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if "POST" in rule.methods and not rule.rule.startswith("/api/")
            and rule.rule != "/wecom/callback"]  # WeCom's signed callback, not a form


def _url(app, rule, ids) -> str:
    values = {"template_id": ids.template_id, "plan_id": ids.plan_id,
              "task_id": ids.task_id, "number": 1, "run_date": CHART_DAY.isoformat(),
              "spec_name": "gold", "user_id": ids.user_ids[Role.frontline],
              "branch_id": ids.branch_id, "run_id": 1, "post_id": ids.post_id}
    return app.url_map.bind("localhost").build(
        rule.endpoint, {name: values[name] for name in rule.arguments})


def test_form_routes_are_the_expected_ones(csrf_app):
    assert {rule.endpoint for rule in _form_post_rules(csrf_app)} == {
        "auth.login", "auth.logout", "content.new", "content.edit", "content.submit",
        "content.approve", "content.reject", "content.retire", "broadcasts.plans",
        "broadcasts.plan", "broadcasts.toggle_plan", "broadcasts.rerun", "broadcasts.archive_plan",
        "feed.complete", "feed.correct_reach", "feed.set_note", "feed.api_token",
        "interactions.log_for_task", "auth.change_password", "admin.new_user",
        "admin.edit_user", "admin.set_active", "admin.reset_password", "admin.branches",
        "admin.edit_branch", "customers.imports", "customers.import_confirm",
        "connector.withdraw_post"}


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_every_form_post_without_token_is_400(csrf_app, ids, who):
    client = _signed_in_client(csrf_app, ids.user_ids[Role.admin] if who == "admin" else None)
    problems = []
    for rule in _form_post_rules(csrf_app):
        response = client.post(_url(csrf_app, rule, ids), data={"name": "x", "body": "x"})
        page = response.get_data(as_text=True)
        if response.status_code != 400 or CSRF_MESSAGE not in page:
            problems.append((rule.rule, response.status_code))
    assert problems == []


def test_wrong_token_is_400_and_a_real_token_logs_in(csrf_app, ids):
    username = ids.usernames[Role.editor]
    client = csrf_app.test_client()
    forged = client.post("/login", data={"username": username, "password": PASSWORD,
                                         "csrf_token": "forged"})
    assert forged.status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_bearer_token_api_is_exempt(csrf_app, ids):
    client = csrf_app.test_client()
    headers = {"Authorization": f"Bearer {ids.tokens[Role.frontline]}"}
    done = client.post(f"/api/v1/tasks/{ids.task_id}/complete", json={"reach_count": 3},
                       headers=headers)
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    logged = client.post("/api/v1/interactions", headers=headers, json={"events": [
        {"event_id": "csrf-exempt-1", "task_id": ids.task_id, "kind": "like", "quantity": 1}]})
    assert logged.status_code == 200
    assert logged.get_json()["results"][0]["status"] == "created"


def test_compliance_check_api_takes_a_token_or_a_session_with_csrf_header(csrf_app, ids):
    """The editor's live check is an API route: a session alone cannot call it cross-site."""
    body = {"template_id": ids.template_id, "body": "今日金价稳赚不赔"}
    client = _signed_in_client(csrf_app, ids.user_ids[Role.editor])
    refused = client.post("/api/v1/compliance/check", json=body)
    assert refused.status_code == 400 and refused.is_json
    assert refused.get_json()["error"] == CSRF_MESSAGE
    page = client.get(f"/content/{ids.template_id}/edit").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    checked = client.post("/api/v1/compliance/check", json=body, headers={"X-CSRFToken": token})
    assert checked.status_code == 200
    assert "INV-01" in {f["rule_id"] for f in checked.get_json()["findings"]}
    by_token = csrf_app.test_client().post(
        "/api/v1/compliance/check", json=body,
        headers={"Authorization": f"Bearer {ids.tokens[Role.editor]}"})
    assert by_token.status_code == 200 and by_token.get_json() == checked.get_json()
    frontline = _signed_in_client(csrf_app, ids.user_ids[Role.frontline])
    page = frontline.get("/account/api-token").get_data(as_text=True)
    own = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert frontline.post("/api/v1/compliance/check", json=body,
                          headers={"X-CSRFToken": own}).status_code == 403
    anonymous = csrf_app.test_client().post("/api/v1/compliance/check", json=body)
    assert anonymous.status_code == 401 and anonymous.is_json


_POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.I | re.S)


def test_every_post_form_in_templates_includes_a_csrf_token():
    forms = []
    for path in sorted(TEMPLATE_DIR.rglob("*.html")):
        for match in _POST_FORM.finditer(path.read_text(encoding="utf-8")):
            body = match.group(1)
            forms.append((path.relative_to(TEMPLATE_DIR).as_posix(),
                          "hidden_tag()" in body or "csrf_token()" in body))
    assert len(forms) >= 10  # the scan found the forms (login, logout, content, plans, feed)
    assert [name for name, has_token in forms if not has_token] == []


class _FormScanner(HTMLParser):
    """Collects, for each ``<form method="post">``, whether it holds a non-empty csrf_token."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[bool] = []
        self._inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._inside = True
            self.forms.append(False)
        elif tag == "input" and self._inside and attrs.get("name") == "csrf_token":
            self.forms[-1] = self.forms[-1] or bool(attrs.get("value"))

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


@pytest.mark.parametrize("role, paths", [
    (None, ["/login"]),
    (Role.frontline, ["/today", "/account/api-token"]),
    (Role.editor, ["/plans", "/content/new", "/content/{template_id}",
                   "/content/{template_id}/edit"]),
    (Role.reviewer, ["/content/{template_id}", "/account/password"]),
    (Role.admin, ["/admin/users/new", "/admin/users/{user_id}", "/admin/branches",
                  "/admin/branches/{branch_id}"]),
])
def test_rendered_post_forms_carry_a_token(csrf_app, ids, role, paths):
    client = _signed_in_client(csrf_app, ids.user_ids[role] if role else None)
    for path in paths:
        response = client.get(path.format(template_id=ids.template_id,
                                          user_id=ids.user_ids[Role.frontline],
                                          branch_id=ids.branch_id))
        assert response.status_code == 200, path
        scanner = _FormScanner()
        scanner.feed(response.get_data(as_text=True))
        assert scanner.forms, f"{path} has no POST form"
        assert all(scanner.forms), f"{path}: a POST form lacks a csrf_token value"
