"""Every rule in ``app.url_map``: anonymous access, and which roles may use it.

``ROUTES`` is the access policy of the product, one entry per endpoint and HTTP method:
front-line staff use 今日任务, their own tasks and the API; editors write content and plan
SOPs; reviewers review content; managers read the scorecard, daily tracking and the plan
list; middle office also reads the scorecard and tracking (their outcomes); admin passes
everything except review. Each route names the policy action it needs
(``app.auth.permissions``), and the roles come from that one policy. A new route, or a
new method on a route, fails
``test_every_route_is_classified`` until it is added here, so no route can skip the check.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from app.auth.permissions import Action, roles_for
from app.org.models import Role
from tests.security.conftest import CHART_DAY

PUBLIC = None  # no login needed
WECOM_SIGNED = "WeCom signature"  # no login: WeCom's signed, encrypted callback (404 unset)
LOGGED_IN = "logged in"  # any active user
#: Prometheus's bearer token (``METRICS_TOKEN``), no user: 404 while unset (as here), 401
#: without it (tests/ops/test_metrics.py).
METRICS_TOKEN = "metrics token"

#: endpoint → {method: the policy action the route needs, LOGGED_IN or PUBLIC}. HEAD and
#: OPTIONS follow GET. Allowed roles come from ``app.auth.permissions.POLICY``.
ROUTES: dict[str, dict[str, Action | str | None]] = {
    "auth.login": {"GET": PUBLIC, "POST": PUBLIC},
    "ops.healthz": {"GET": PUBLIC},
    "ops.readyz": {"GET": PUBLIC},
    "ops.metrics": {"GET": METRICS_TOKEN},
    "auth.home": {"GET": LOGGED_IN},
    "auth.logout": {"POST": LOGGED_IN},
    "auth.change_password": {"GET": LOGGED_IN, "POST": LOGGED_IN},
    # Charts are bank-wide market data shown in posts, previews and the scorecard.
    "market.chart_image": {"GET": Action.view_charts},
    "feed.today": {"GET": Action.use_feed},
    "feed.complete": {"POST": Action.use_feed},
    "feed.set_note": {"POST": Action.use_feed},
    "feed.correct_reach": {"POST": Action.use_feed},
    "feed.api_token": {"GET": Action.use_feed, "POST": Action.use_feed},
    "interactions.log_for_task": {"POST": Action.use_feed},
    "api.feed_today": {"GET": Action.use_feed},
    "api.complete_task": {"POST": Action.use_feed},
    "api.put_note": {"PUT": Action.use_feed},
    "api.record_interactions": {"POST": Action.use_feed},
    "api.openapi": {"GET": PUBLIC},
    "content.index": {"GET": Action.read_content},
    "content.show": {"GET": Action.read_content},
    "content.preview": {"GET": Action.read_content},
    "content.versions": {"GET": Action.read_content},
    "content.version": {"GET": Action.read_content},
    "content.new": {"GET": Action.write_content, "POST": Action.write_content},
    "content.edit": {"GET": Action.write_content, "POST": Action.write_content},
    "content.submit": {"POST": Action.write_content},
    "content.approve": {"POST": Action.review_content},
    "content.reject": {"POST": Action.review_content},
    "content.retire": {"POST": Action.retire_content},
    "broadcasts.plans": {"GET": Action.read_plans, "POST": Action.manage_plans},
    "broadcasts.plan": {"GET": Action.read_plans, "POST": Action.manage_plans},
    "broadcasts.toggle_plan": {"POST": Action.manage_plans},
    "broadcasts.rerun": {"POST": Action.manage_plans},
    "broadcasts.archive_plan": {"POST": Action.manage_plans},
    "broadcasts.plan_calendar": {"GET": Action.read_plans},
    "broadcasts.tracking": {"GET": Action.read_tracking},
    "metrics.scorecard": {"GET": Action.read_scorecard},
    "metrics.scorecard_csv": {"GET": Action.read_scorecard},
    "metrics.scorecard_chart": {"GET": Action.read_scorecard},
    "admin.users": {"GET": Action.manage_users},
    "admin.new_user": {"GET": Action.manage_users, "POST": Action.manage_users},
    "admin.edit_user": {"GET": Action.manage_users, "POST": Action.manage_users},
    "admin.set_active": {"POST": Action.manage_users},
    "admin.reset_password": {"POST": Action.manage_users},
    "admin.branches": {"GET": Action.manage_branches, "POST": Action.manage_branches},
    "admin.edit_branch": {"GET": Action.manage_branches, "POST": Action.manage_branches},
    "audit.index": {"GET": Action.read_audit},
    "compliance_api.compliance_check": {"POST": Action.write_content},
    "audit.export": {"GET": Action.export_audit},
    "customers.coverage": {"GET": Action.read_coverage},
    "customers.coverage_heatmap": {"GET": Action.read_coverage},
    "customers.coverage_trend": {"GET": Action.read_coverage},
    "customers.my_trend": {"GET": Action.use_customer_book},
    "customers.staff": {"GET": Action.read_coverage},
    "customers.mine": {"GET": Action.use_customer_book},
    "customers.imports": {"GET": Action.import_customers, "POST": Action.import_customers},
    "customers.import_preview": {"GET": Action.import_customers},
    "customers.import_confirm": {"POST": Action.import_customers},
    "connector.withdraw_post": {"POST": Action.withdraw_posts},
    "connector.callback_verify": {"GET": WECOM_SIGNED},
    "connector.callback_event": {"POST": WECOM_SIGNED},
}


def _allowed(policy) -> frozenset[Role]:
    """Roles allowed by a ``ROUTES`` entry (``PUBLIC`` entries are not asked)."""
    return frozenset(Role) if policy == LOGGED_IN else roles_for(policy)


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
              "run_date": CHART_DAY.isoformat(), "spec_name": "gold",
              "user_id": world.users[Role.frontline].id,
              "branch_id": world.users[Role.frontline].branch_id,
              "post_id": world.task.post_id, "run_id": 1,
              "job_id": world.import_job.id}
    unknown = set(rule.arguments) - set(values)
    assert not unknown, f"{rule.rule}: add sample values for {sorted(unknown)} in _url()"
    return app.url_map.bind("localhost").build(
        rule.endpoint, {name: values[name] for name in rule.arguments})


def _request(client, method: str, url: str, headers=None):
    """Send the request and close the response (file responses hold an open file)."""
    if method == "GET":
        response = client.get(url, headers=headers)
    else:
        response = client.open(url, method=method, data={}, headers=headers)
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


def test_only_login_and_health_are_public():
    public = {endpoint for endpoint, methods in ROUTES.items()
              if any(policy is PUBLIC for policy in methods.values())}
    assert public == {"auth.login", "ops.healthz", "ops.readyz", "api.openapi"}


def test_admin_is_everywhere_except_review_which_only_reviewers_do():
    """Separation of duties: an admin is not a reviewer; nobody else approves either."""
    for endpoint, methods in ROUTES.items():
        for policy in methods.values():
            if policy is PUBLIC or policy in (WECOM_SIGNED, METRICS_TOKEN):
                continue
            assert (Role.admin in _allowed(policy)) is (policy is not Action.review_content), (
                endpoint)
    assert roles_for(Action.review_content) == {Role.reviewer}


def test_anonymous_gets_login_redirect_or_401(app, client, world):
    problems = []
    for rule, method in _cases(app):
        response = _request(client, method, _url(app, rule, world))
        policy = ROUTES[rule.endpoint][method]
        if policy is PUBLIC:
            ok = response.status_code in ((200, 503) if rule.endpoint == "ops.readyz" else (200,))
        elif policy == METRICS_TOKEN:
            ok = response.status_code == 404
        elif policy == WECOM_SIGNED:
            ok = response.status_code in (403, 404)  # unsigned: refused, or not configured
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
        if policy is PUBLIC or policy in (WECOM_SIGNED, METRICS_TOKEN):
            continue
        allowed = _allowed(policy)
        headers = None
        if _is_api(rule):
            sign_in(None)
            headers = {"Authorization": f"Bearer {world.tokens[role]}"}
        else:
            sign_in(user)
        response = _request(client, method, _url(app, rule, world), headers)
        status = response.status_code
        if role not in allowed:
            ok = status == 403
        elif rule.endpoint == "auth.logout":
            ok = status == 302 and _location_path(response) == "/login"
        elif method == "GET":
            ok = 200 <= status < 400 and _location_path(response) != "/login"
        else:
            ok = status not in (401, 403) and status < 500 and _location_path(response) != "/login"
        if not ok:
            problems.append((method, rule.rule, status, "allowed" if role in allowed else "403"))
    assert problems == []
