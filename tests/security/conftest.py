"""Fixtures for the security review: one user per role, real rows for every route's ids."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from flask import g

from app.auth.services import issue_api_token
from app.content.models import TemplateStatus
from app.customers.models import ImportJob, ImportStatus
from app.factory import create_app
from app.market.models import ChartImage
from app.org.models import BranchLevel, Role
from config import TestConfig
from tests.factories import (
    BranchFactory,
    ContentTemplateFactory,
    PostFactory,
    SopPlanFactory,
    TaskFactory,
    TemplateVersionFactory,
    UserFactory,
)

DAY = dt.date(2025, 4, 25)
#: A date no other test renders charts for, so the stub chart row cannot collide.
CHART_DAY = dt.date(2031, 1, 2)
#: Stand-in bytes for a rendered chart (the route only streams the file).
PNG_STUB = b"\x89PNG\r\n\x1a\n security-test stub"


@pytest.fixture(autouse=True)
def pinned_business_date(app, monkeypatch):
    monkeypatch.setitem(app.config, "BUSINESS_DATE", DAY.isoformat())


@pytest.fixture
def sign_in(client, db):
    """``sign_in(user)`` puts ``user`` in the test client's session (``None`` signs out).

    Drops Flask-Login's cached user on ``g``: the ``db`` fixture keeps one app context
    for the whole test, so the cache would otherwise outlive a switch of user.
    """

    def _sign_in(user):
        with client.session_transaction() as session:
            session.clear()
            if user is not None:
                session["_user_id"] = user.get_id()  # "<id>:<session_version>"
                session["_fresh"] = True
        g.pop("_login_user", None)
        return user

    return _sign_in


@pytest.fixture
def world(app, db, tmp_path):
    """One user (and API token) per role plus the rows every route's URL needs.

    ``users[role]``, ``tokens[role]``; ``template`` (in review, written by another editor)
    with ``version`` 1; ``plan`` and today's ``post`` with a ``task`` of the front-line
    user; a stub ``chart`` PNG for ``CHART_DAY``; a finished ``import_job``. Committed, so
    error rollbacks keep it.
    """
    hq = BranchFactory(level=BranchLevel.hq, name="总行")
    users = {role: UserFactory(role=role, branch=hq) for role in Role}
    author = UserFactory(role=Role.editor, branch=hq)
    template = ContentTemplateFactory(author=author, status=TemplateStatus.in_review)
    version = TemplateVersionFactory(template=template, number=1, author=author)
    plan = SopPlanFactory(template=template, branch=hq)
    post = PostFactory(sop_plan=plan, template_version=version, run_date=DAY)
    task = TaskFactory(post=post, staff=users[Role.frontline],
                       due_at=dt.datetime(2025, 4, 25, 2, 30, tzinfo=dt.UTC))
    chart = _stub_chart(app, db)
    import_job = ImportJob(kind="customers", filename="x.csv", storage_key="uploads/x.csv",
                           status=ImportStatus.done)
    db.session.add(import_job)
    tokens = {role: issue_api_token(user) for role, user in users.items()}
    db.session.commit()
    return SimpleNamespace(users=users, tokens=tokens, template=template, version=version,
                           plan=plan, post=post, task=task, chart=chart, import_job=import_job)


def _stub_chart(app, db) -> ChartImage:
    from pathlib import Path

    relative = f"security-test/{CHART_DAY.isoformat()}/gold.png"
    path = Path(app.config["CHART_OUTPUT_DIR"]) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PNG_STUB)
    chart = ChartImage(run_date=CHART_DAY, spec_name="gold", path=relative, as_of={},
                       sha256="0" * 64)
    db.session.add(chart)
    db.session.flush()
    return chart


@pytest.fixture
def make_app(app):
    """``make_app(**overrides)``: another app on the same test database (CSRF on by default).

    Shares the ``db`` fixture's session (the extension's global ``session`` is swapped),
    so rows created in the test are visible and rolled back with it.
    """

    def _make(**overrides):
        settings = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                    "CHART_OUTPUT_DIR": app.config["CHART_OUTPUT_DIR"],
                    "BUSINESS_DATE": DAY.isoformat()}
        settings.update(overrides)
        return create_app(TestConfig(), **settings)

    return _make
