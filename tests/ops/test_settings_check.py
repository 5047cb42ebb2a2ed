"""Production refuses to boot with settings unfit for a bank, each with its own message."""

from __future__ import annotations

import pytest

from app.core.settings_check import ProductionSettingsRefused, production_problems
from app.factory import create_app
from config import ProductionConfig

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GOOD = {"SECRET_KEY": "k" * 64, "DATABASE_URL": PG,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "TASK_QUEUE_URL": "redis://127.0.0.1:6379/0"}


@pytest.fixture
def production_env(monkeypatch):
    """An environment production accepts; each test spoils one setting."""
    for name in ("BUSINESS_DATE", "STORAGE_BACKEND", "STORAGE_S3_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def _problems() -> list[str]:
    return production_problems(vars(ProductionConfig()) | {
        "SQLALCHEMY_DATABASE_URI": ProductionConfig().SQLALCHEMY_DATABASE_URI})


def test_a_good_environment_has_no_problems(production_env):
    assert _problems() == []


@pytest.mark.parametrize(("name", "value", "message"), [
    ("SECRET_KEY", None, "SECRET_KEY must be set to a non-default value"),
    ("SECRET_KEY", "dev-only-change-me", "SECRET_KEY must be set to a non-default value"),
    ("DATABASE_URL", None, "DATABASE_URL must point at PostgreSQL"),
    ("DATABASE_URL", "sqlite:////srv/zhongtai.sqlite3", "DATABASE_URL must point at PostgreSQL"),
    ("RATELIMIT_STORAGE_URI", None, "RATELIMIT_STORAGE_URI must point at Redis"),
    ("RATELIMIT_STORAGE_URI", "memory://", "RATELIMIT_STORAGE_URI must point at Redis"),
    ("BUSINESS_DATE", "2025-04-25", "BUSINESS_DATE must be unset in production"),
    ("TASK_QUEUE_URL", None, "TASK_QUEUE_URL must point at Redis"),
    ("STORAGE_BACKEND", "s3", "STORAGE_S3_BUCKET must name the bucket"),
], ids=lambda v: str(v)[:24])
def test_each_refusal_names_its_setting(production_env, name, value, message):
    if value is None:
        production_env.delenv(name, raising=False)
    else:
        production_env.setenv(name, value)
    with pytest.raises(ProductionSettingsRefused) as refused:
        create_app(ProductionConfig())
    assert len(refused.value.problems) == 1
    assert message in refused.value.problems[0]
    assert message in str(refused.value)


def test_every_problem_is_listed_at_once_and_no_value_is_shown(production_env):
    production_env.setenv("SECRET_KEY", "dev-only-change-me")
    production_env.setenv("DATABASE_URL", "sqlite:////srv/secret-path.sqlite3")
    production_env.setenv("BUSINESS_DATE", "2025-04-25")
    with pytest.raises(ProductionSettingsRefused) as refused:
        create_app(ProductionConfig())
    assert [p.split(" ")[0] for p in refused.value.problems] == [
        "SECRET_KEY", "DATABASE_URL", "BUSINESS_DATE"]
    assert "secret-path" not in str(refused.value) and "dev-only" not in str(refused.value)


@pytest.mark.usefixtures("production_env")
def test_demo_accounts_are_refused_once_the_database_is_bound(scratch_database, production_env):
    """The last refusal needs the database: ``refuse_demo_accounts`` runs at boot."""
    from flask_migrate import upgrade

    from app.core.extensions import db as _db
    from config import TestConfig
    from tests import factories

    setup = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=scratch_database)
    with setup.app_context():
        upgrade()
        factories.bind_session(_db.session)
        factories.UserFactory(is_demo=True)
        _db.session.commit()
        _db.session.remove()
        _db.engine.dispose()
    production_env.setenv("DATABASE_URL", scratch_database)
    with pytest.raises(RuntimeError, match="demo accounts are present"):
        create_app(ProductionConfig())


def test_development_and_tests_accept_the_defaults(monkeypatch):
    monkeypatch.setenv("BUSINESS_DATE", "2025-04-25")
    from config import DevelopmentConfig

    assert create_app(DevelopmentConfig()).config["BUSINESS_DATE"] == "2025-04-25"
