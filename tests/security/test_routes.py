"""Every rule in ``app.url_map``: anonymous access, and which roles may use it.

``ROUTES`` is the access policy of the product, one entry per endpoint and HTTP method:
front-line staff use 今日任务, their own tasks and the API; editors write content and plan
SOPs; reviewers review content; managers read the scorecard, daily tracking and the plan
list; middle office also reads the scorecard and tracking (their outcomes); admin passes
everything. A new route, or a new method on a route, fails
``test_every_route_is_classified`` until it is added here, so no route can skip the check.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from app.org.models import Role
from tests.security.conftest import CHART_DAY

PUBLIC = None  # no login needed


def _allow(*roles: Role) -> frozenset[Role]:
    """Roles allowed on a route; admin is always one of them."""
    return frozenset(roles) | {Role.admin}


EVERYONE = _allow(*Role)
FRONTLINE = _allow(Role.frontline)
EDITOR = _allow(Role.editor)
REVIEWER = _allow(Role.reviewer)
CONTENT_READERS = _allow(Role.editor, Role.reviewer)
PLAN_READERS = _allow(Role.editor, Role.reviewer, Role.manager)
SCORECARD_READERS = _allow(Role.manager, Role.editor, Role.reviewer)

#: endpoint → {method: allowed roles, or PUBLIC}. HEAD and OPTIONS follow GET.
ROUTES: dict[str, dict[str, frozenset[Role] | None]] = {
    "auth.login": {"GET": PUBLIC, "POST": PUBLIC},
    "ops.healthz": {"GET": PUBLIC},
    "auth.home": {"GET": EVERYONE},
    "auth.logout": {"POST": EVERYONE},
    # Charts are bank-wide market data shown in posts, previews and the scorecard.
    "market.chart_image": {"GET": EVERYONE},
    "feed.today": {"GET": FRONTLINE},
    "feed.complete": {"POST": FRONTLINE},
    "feed.correct_reach": {"POST": FRONTLINE},
    "feed.api_token": {"GET": FRONTLINE, "POST": FRONTLINE},
    "interactions.log_for_task": {"POST": FRONTLINE},
    "api.feed_today": {"GET": FRONTLINE},
    "api.complete_task": {"POST": FRONTLINE},
    "api.record_interactions": {"POST": FRONTLINE},
    "content.index": {"GET": CONTENT_READERS},
    "content.show": {"GET": CONTENT_READERS},
    "content.preview": {"GET": CONTENT_READERS},
    "content.versions": {"GET": CONTENT_READERS},
    "content.version": {"GET": CONTENT_READERS},
    "content.new": {"GET": EDITOR, "POST": EDITOR},
    "content.edit": {"GET": EDITOR, "POST": EDITOR},
    "content.submit": {"POST": EDITOR},
    "content.approve": {"POST": REVIEWER},
    "content.reject": {"POST": REVIEWER},
    "content.retire": {"POST": CONTENT_READERS},
    "broadcasts.plans": {"GET": PLAN_READERS, "POST": EDITOR},
    "broadcasts.toggle_plan": {"POST": EDITOR},
    "broadcasts.tracking": {"GET": PLAN_READERS},
    "metrics.scorecard": {"GET": SCORECARD_READERS},
    "metrics.scorecard_csv": {"GET": SCORECARD_READERS},
    "metrics.scorecard_chart": {"GET": SCORECARD_READERS},
}


def _rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def _methods(rule) -> set[str]:
    return set(rule.methods) - {"HEAD", "OPTIONS"}


def _is_api(rule) -> bool:
    return rule.rule.startswith("/api/")


def _cases(app):
    """``(rule, method)`` pairs, GETs first so state-changing POSTs run last."""
    pairs = [(rule, method) for rule in _rules(app) for method in _methods(rule)]
    return sorted(pairs, key=lambda p: (p[1] != "GET", p[0].endpoint, p[1]))


def _url(app, rule, world) -> str:
    values = {"template_id": world.template.id, "number": world.version.number,
              "plan_id": world.plan.id, "task_id": world.task.id,
              "run_date": CHART_DAY.isoformat(), "spec_name": "gold"}
    unknown = set(rule.arguments) - set(values)
    assert not unknown, f"{rule.rule}: add sample values for {sorted(unknown)} in _url()"
    return app.url_map.bind("localhost").build(
        rule.endpoint, {name: values[name] for name in rule.arguments})


def _request(client, method: str, url: str, headers=None):
    """Send the request and close the response (file responses hold an open file)."""
    if method == "GET":
        response = client.get(url, headers=headers)
    else:
        response = client.post(url, data={}, headers=headers)
    response.close()
    return response


def _location_path(response) -> str:
    return urlsplit(response.headers.get("Location", "")).path


def test_every_route_is_classified(app):
    rules = _rules(app)
    endpoints = {rule.endpoint for rule in rules}
    assert not endpoints - set(ROUTES), (
        f"unclassified routes {sorted(endpoints - set(ROUTES))}: add them to ROUTES")
    assert not set(ROUTES) - endpoints, f"stale ROUTES entries {sorted(set(ROUTES) - endpoints)}"
    for rule in rules:
        assert _methods(rule) == set(ROUTES[rule.endpoint]), (
            f"{rule.endpoint} {rule.rule} serves {sorted(_methods(rule))}; classify every method")


def test_policy_admin_everywhere_and_only_login_and_health_public():
    public = {endpoint for endpoint, methods in ROUTES.items()
              if any(roles is PUBLIC for roles in methods.values())}
    assert public == {"auth.login", "ops.healthz"}
    for endpoint, methods in ROUTES.items():
        for roles in methods.values():
            assert roles is PUBLIC or Role.admin in roles, endpoint


def test_anonymous_gets_login_redirect_or_401(app, client, world):
    problems = []
    for rule, method in _cases(app):
        response = _request(client, method, _url(app, rule, world))
        policy = ROUTES[rule.endpoint][method]
        if policy is PUBLIC:
            ok = response.status_code == 200
        elif _is_api(rule):
            ok = response.status_code == 401 and response.is_json
        else:
            ok = response.status_code == 302 and _location_path(response) == "/login"
        if not ok:
            problems.append((method, rule.rule, response.status_code,
                             response.headers.get("Location")))
    assert problems == []


def test_api_ignores_the_session_cookie(client, world, sign_in):
    """The API is CSRF-exempt, so a browser session must never authenticate it."""
    sign_in(world.users[Role.frontline])
    assert client.get("/api/v1/feed/today").status_code == 401
    assert client.post(f"/api/v1/tasks/{world.task.id}/complete", json={}).status_code == 401
    assert client.get("/api/v1/feed/today", headers={
        "Authorization": f"Bearer {world.tokens[Role.frontline]}"}).status_code == 200


@pytest.fixture
def no_chart_rendering(monkeypatch):
    """Previews skip matplotlib here: this module tests access, not charts."""
    from app.market import charts

    monkeypatch.setattr(charts, "render_charts", lambda run_date: [])


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.usefixtures("no_chart_rendering")
def test_role_matrix(app, client, world, sign_in, role):
    """Allowed: GET answers 2xx/3xx (never the login page), POST is neither 401 nor 403.

    Forbidden: 403 for every method (JSON for the API).
    """
    user = world.users[role]
    problems = []
    for rule, method in _cases(app):
        policy = ROUTES[rule.endpoint][method]
        if policy is PUBLIC:
            continue
        headers = None
        if _is_api(rule):
            sign_in(None)
            headers = {"Authorization": f"Bearer {world.tokens[role]}"}
        else:
            sign_in(user)
        response = _request(client, method, _url(app, rule, world), headers)
        status = response.status_code
        if role not in policy:
            ok = status == 403
        elif rule.endpoint == "auth.logout":
            ok = status == 302 and _location_path(response) == "/login"
        elif method == "GET":
            ok = 200 <= status < 400 and _location_path(response) != "/login"
        else:
            ok = status not in (401, 403) and status < 500 and _location_path(response) != "/login"
        if not ok:
            problems.append((method, rule.rule, status, "allowed" if role in policy else "403"))
    assert problems == []
