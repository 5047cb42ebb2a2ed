"""Serving: ProxyFix hops, the WSGI entry point, gunicorn's config, the PostgreSQL pool and JIT."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from flask import request
from sqlalchemy import text

from app.core.extensions import db as _db
from app.core.serving import postgres_connect_options
from tests.ops.conftest import needs_postgres

ROOT = Path(__file__).resolve().parents[2]


def _echo_app(make_app, **overrides):
    app = make_app(**overrides)
    app.add_url_rule("/_echo", "echo", lambda: {
        "addr": request.remote_addr, "scheme": request.scheme, "host": request.host})
    return app


FORWARDED = {"X-Forwarded-For": "198.51.100.7, 10.0.0.2", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "zhongtai.bank.example"}


def test_no_proxy_trusted_by_default(make_app):
    body = _echo_app(make_app).test_client().get("/_echo", headers=FORWARDED).get_json()
    assert body == {"addr": "127.0.0.1", "scheme": "http", "host": "localhost"}


def test_one_hop_trusts_the_last_proxy_only(make_app):
    client = _echo_app(make_app, PROXY_FIX_HOPS=1).test_client()
    body = client.get("/_echo", headers=FORWARDED).get_json()
    assert body == {"addr": "10.0.0.2", "scheme": "https", "host": "zhongtai.bank.example"}


def test_two_hops(make_app):
    client = _echo_app(make_app, PROXY_FIX_HOPS=2).test_client()
    assert client.get("/_echo", headers=FORWARDED).get_json()["addr"] == "198.51.100.7"


def test_negative_hops_are_refused(make_app):
    with pytest.raises(ValueError, match="PROXY_FIX_HOPS"):
        make_app(PROXY_FIX_HOPS=-1)


def test_gunicorn_config_reads_its_settings(monkeypatch):
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    monkeypatch.setenv("GUNICORN_THREADS", "6")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (settings["workers"], settings["threads"], settings["worker_class"]) == (3, 6, "gthread")
    assert settings["timeout"] == 60 and settings["graceful_timeout"] == 30
    assert settings["accesslog"] == "-" and "%(q)s" not in settings["access_log_format"]
    assert settings["max_requests"] > 0 and callable(settings["child_exit"])


def test_wsgi_entry_point_builds_the_app(monkeypatch, tmp_path):
    monkeypatch.setenv("ZHONGTAI_ENV", "test")
    monkeypatch.setenv("TEST_DATABASE_URL", f"sqlite:///{tmp_path / 'wsgi.sqlite3'}")
    module = runpy.run_path(str(ROOT / "app" / "wsgi.py"))
    assert module["application"].config["ENV_NAME"] == "test"


def test_connect_options_turn_jit_off_and_set_the_page_cost():
    assert postgres_connect_options({}) == "-c jit=off"
    assert postgres_connect_options({"DB_STATEMENT_TIMEOUT_MS": 5000}) == (
        "-c jit=off -c statement_timeout=5000")
    assert postgres_connect_options({"DB_RANDOM_PAGE_COST": "1.1"}) == (
        "-c jit=off -c random_page_cost=1.1")
    for bad in ("0", "-1", "fast"):
        with pytest.raises(ValueError, match="DB_RANDOM_PAGE_COST"):
            postgres_connect_options({"DB_RANDOM_PAGE_COST": bad})


@needs_postgres
def test_app_connections_run_without_jit_and_with_the_sized_pool(app, db):
    assert _db.session.scalar(text("SHOW jit")) == "off"
    assert _db.session.scalar(text("SHOW random_page_cost")) == "1.1"
    with app.app_context():
        pool = _db.engine.pool
        assert pool.size() == app.config["DB_POOL_SIZE"] == 5
        assert pool._max_overflow == app.config["DB_MAX_OVERFLOW"]
