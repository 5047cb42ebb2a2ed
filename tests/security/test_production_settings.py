"""Production refuses in-memory login limits and sends HSTS; development and tests do not."""

from __future__ import annotations

import pytest
from limits.storage import storage_from_string

from app.factory import create_app
from config import ProductionConfig, TestConfig

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def production_env(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", PG)
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("HSTS_MAX_AGE_SECONDS", raising=False)


@pytest.mark.parametrize("uri", [None, "memory://"])
def test_production_refuses_in_memory_rate_limits(production_env, monkeypatch, uri):
    """memory:// counts per worker process: N workers allow N times the login limit."""
    if uri:
        monkeypatch.setenv("RATELIMIT_STORAGE_URI", uri)
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI must point at Redis"):
        create_app(ProductionConfig())


def test_redis_storage_is_installed():
    """The production storage needs the redis client (``flask-limiter[redis]``)."""
    storage = storage_from_string("redis://127.0.0.1:6379/0")
    assert type(storage).__name__ == "RedisStorage"


def test_production_sends_hsts(production_env):
    assert ProductionConfig().HSTS_MAX_AGE_SECONDS == 31_536_000
    assert TestConfig().HSTS_MAX_AGE_SECONDS == 0


def test_hsts_header_only_when_configured(make_app, db):
    plain = make_app().test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    hsts = make_app(HSTS_MAX_AGE_SECONDS=31_536_000).test_client().get("/login")
    assert hsts.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_login_limits_and_idle_timeout_defaults():
    config = TestConfig()
    assert config.RATELIMIT_LOGIN == "100 per minute" and config.RATELIMIT_HEADERS_ENABLED
    assert (config.LOGIN_MAX_FAILURES, config.LOGIN_FAILURE_WINDOW_MINUTES,
            config.LOGIN_LOCK_MINUTES) == (5, 15, 15)
    assert config.PERMANENT_SESSION_LIFETIME.total_seconds() == 30 * 60
