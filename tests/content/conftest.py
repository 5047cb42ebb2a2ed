import datetime as dt

import pytest

from tests.factories import UserFactory

DEMO_DATE = dt.date(2025, 4, 25)


@pytest.fixture
def editor(db):
    return UserFactory(role="editor", display_name="编辑甲")


@pytest.fixture
def reviewer(db):
    return UserFactory(role="reviewer", display_name="复核乙")


@pytest.fixture
def market(db):
    """Market context of the demo date from the bars the ``app`` fixture loaded (no charts)."""
    from app.market.services import market_context

    return market_context(DEMO_DATE)


@pytest.fixture
def stub_charts(monkeypatch):
    """Skip matplotlib: render_charts returns URLs only (for tests about text)."""
    from app.market import charts
    from app.market.charts import ChartResult, chart_url

    def fake(run_date):
        return [ChartResult(name, f"/tmp/{name}.png", chart_url(run_date, name), {}, None)
                for name in ("cny_fx", "global_indices", "gold")]

    monkeypatch.setattr(charts, "render_charts", fake)


@pytest.fixture
def login_as(login_as):
    """The shared ``login_as``, also dropping Flask-Login's per-context user cache.

    The ``db`` fixture keeps one app context for the whole test, so ``g._login_user``
    would otherwise keep the first logged-in user across a switch.
    """
    from flask import g

    def _login(who):
        user = login_as(who)
        g.pop("_login_user", None)
        return user

    return _login
