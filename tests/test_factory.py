import pytest

from app.factory import create_app
from config import ProductionConfig, TestConfig


def test_config_testing(app):
    assert app.config["TESTING"] is True
    assert create_app(TestConfig()).config["TESTING"] is True


def test_production_refuses_default_secret(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig())


def test_production_refuses_sqlite(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app(ProductionConfig())


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "scheduler": {
        "last_tick_at": None, "overdue_runs": 0}}


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_business_now_follows_a_pinned_business_date(app, monkeypatch):
    import datetime as dt

    from app.core.clock import business_now

    with app.app_context():
        monkeypatch.setitem(app.config, "BUSINESS_DATE", "2025-04-25")
        pinned = business_now()
        monkeypatch.setitem(app.config, "BUSINESS_DATE", None)
        real = business_now()
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert pinned.tzinfo is not None
    assert pinned.astimezone(shanghai).date() == dt.date(2025, 4, 25)

    def seconds(instant):
        local = instant.astimezone(shanghai)
        return local.hour * 3600 + local.minute * 60 + local.second

    gap = abs(seconds(real) - seconds(pinned))
    assert min(gap, 86400 - gap) < 60  # same wall-clock time of day
