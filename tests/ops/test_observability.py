"""Request ids, JSON logs, /healthz, /readyz and /metrics."""

from __future__ import annotations

import json

import pytest

from app.broadcasts.scheduler import single_instance_lock
from app.ops import readiness
from app.ops import views as ops_views
from app.org.models import Role
from tests.factories import UserFactory


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_request_id_is_echoed_or_made(client):
    given = client.get("/healthz", headers={"X-Request-ID": "lb-2f9c1e7a"})
    assert given.headers["X-Request-ID"] == "lb-2f9c1e7a"
    made = client.get("/healthz").headers["X-Request-ID"]
    forged = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert len(made) == 32 and len(forged.headers["X-Request-ID"]) == 32
    assert made != forged.headers["X-Request-ID"]


def test_json_log_line_per_request_with_ids_and_no_secrets(make_app, api_headers, capsys):
    app = make_app(LOG_FORMAT="json")
    user = UserFactory(role=Role.frontline)
    headers = api_headers(user) | {"X-Request-ID": "req-0001-abcd"}
    token = headers["Authorization"].split()[1]
    response = app.test_client().get("/api/v1/feed/today?staff=13800138000", headers=headers)
    assert response.status_code == 200
    records = _json_lines(capsys.readouterr().err)
    [line] = [r for r in records if r["logger"] == "app.ops.requests"]
    assert line["request_id"] == "req-0001-abcd" and line["user_id"] == user.id
    assert line["route"] == "/api/v1/feed/today" and line["status"] == 200
    assert line["method"] == "GET" and line["duration_ms"] >= 0 and line["level"] == "INFO"
    everything = json.dumps(records, ensure_ascii=False)
    assert token not in everything and "13800138000" not in everything


def test_text_logs_stay_the_development_default(make_app, capsys):
    make_app(LOG_LEVEL="DEBUG").test_client().get("/healthz")
    err = capsys.readouterr().err
    assert "app.ops.requests [" in err and not _json_lines(err)


def test_healthz_is_liveness_only(make_app, monkeypatch):
    # even a dead database: the scheduler facts are then null, the status still 200
    monkeypatch.setattr(readiness, "check_database", lambda: 1 / 0)
    monkeypatch.setattr(ops_views, "last_tick", lambda: 1 / 0)
    response = make_app().test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "scheduler": None}


def test_readyz_waits_for_the_scheduler(app, make_app):
    client = make_app().test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert {name: c["ok"] for name, c in checks.items()} == {
        "database": True, "migrations": True, "scheduler": False, "queue": True}
    assert checks["queue"]["detail"] == "in-process"
    with single_instance_lock(app):
        ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ok"
    assert client.get("/readyz").status_code == 503  # released


def test_readyz_scheduler_can_be_optional(make_app):
    response = make_app(READYZ_REQUIRE_SCHEDULER=False).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["scheduler"]["detail"].endswith("(not required)")


def test_readyz_fails_when_migrations_are_behind(make_app, monkeypatch):
    monkeypatch.setattr(readiness, "_heads", lambda directory: frozenset({"f00dfeed"}))
    check = make_app(READYZ_REQUIRE_SCHEDULER=False).test_client().get("/readyz")
    assert check.status_code == 503
    assert "flask db upgrade" in check.get_json()["checks"]["migrations"]["detail"]


@pytest.mark.parametrize(("url", "ok"), [("redis://127.0.0.1:6379/15", True),
                                         ("redis://127.0.0.1:1/0", False)])
def test_readyz_checks_the_queue(make_app, url, ok):
    response = make_app(TASK_QUEUE_URL=url, READYZ_REQUIRE_SCHEDULER=False).test_client().get(
        "/readyz")
    assert response.status_code == (200 if ok else 503)
    assert response.get_json()["checks"]["queue"] == {
        "ok": ok, "detail": "reachable" if ok else "error"}


def test_readyz_database_failure_is_503_without_details(make_app, monkeypatch):
    def broken():
        raise ConnectionError("could not connect to server db-7.bank.internal")

    monkeypatch.setattr(readiness, "check_database", broken)
    monkeypatch.setitem(readiness.CHECKS, "database", broken)
    response = make_app().test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == {"ok": False, "detail": "error"}
    assert "bank.internal" not in response.get_data(as_text=True)


def test_metrics_need_the_token(make_app):
    assert make_app().test_client().get("/metrics").status_code == 404  # not configured
    client = make_app(METRICS_TOKEN="m" * 32).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_metrics_expose_latency_outcomes_and_scheduler(make_app, make_task):
    make_task(UserFactory(role=Role.frontline))
    client = make_app(METRICS_TOKEN="m" * 32).test_client()
    client.get("/healthz")
    response = client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert 'zhongtai_http_request_duration_seconds_bucket{le="0.005",method="GET",' \
           'route="/healthz",status="200"}' in text
    assert 'zhongtai_tasks{status="assigned"}' in text
    assert "zhongtai_scheduler_up 0.0" in text


def test_metrics_report_queue_depth_from_redis(make_app):
    client = make_app(METRICS_TOKEN="t" * 32, TASK_QUEUE_URL="redis://127.0.0.1:6379/15",
                      TASK_QUEUE_NAMESPACE="zt-metrics-test").test_client()
    text = client.get("/metrics", headers={"Authorization": "Bearer " + "t" * 32}).get_data(
        as_text=True)
    assert "zhongtai_queue_messages" in text
