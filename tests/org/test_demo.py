"""The demo commands, and production's refusal of demo accounts."""

import pytest

from app.core.extensions import db as _db
from app.org.services import refuse_demo_accounts
from tests.factories import UserFactory


def test_seed_command_and_logins(runner):
    result = runner.invoke(args=["demo", "seed", "--days", "1"])
    assert result.exit_code == 0, result.output
    assert "demo seeded: 41 users" in result.output
    logins = runner.invoke(args=["demo", "logins"]).output
    for name in ("editor", "reviewer", "manager", "admin", "rm001"):
        assert name in logins
    assert "zhongtai-demo" in logins


def test_production_refuses_demo_accounts(app, db, monkeypatch):
    UserFactory(is_demo=True)
    _db.session.commit()
    monkeypatch.setitem(app.config, "ALLOW_DEMO_ACCOUNTS", False)
    with pytest.raises(RuntimeError, match="demo accounts"):
        refuse_demo_accounts(app)


def test_seed_command_refused_when_demo_accounts_are_not_allowed(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_DEMO_ACCOUNTS", False)
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 1
    assert "not allowed" in result.output
