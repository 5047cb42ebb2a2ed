"""Production's refusal of demo accounts and of the demo seed command (the seed itself and
its output: ``test_demo_seed.py``)."""

import pytest

from app.core.extensions import db as _db
from app.org.services import refuse_demo_accounts
from tests.factories import UserFactory


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
