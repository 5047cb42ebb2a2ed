"""Fixtures of the administration tests: a small branch tree and a signed-in admin."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import g

from app.org.models import BranchLevel, Role
from tests.factories import BranchFactory, UserFactory


@pytest.fixture
def tree(db):
    """总行 → 东区分行 (东区一支行, 东区二支行) and 西区分行 (西区一支行)."""
    hq = BranchFactory(code="T-HQ", name="总行", level=BranchLevel.hq)
    east = BranchFactory(code="T-E", name="东区分行", level=BranchLevel.branch, parent=hq)
    west = BranchFactory(code="T-W", name="西区分行", level=BranchLevel.branch, parent=hq)
    east1 = BranchFactory(code="T-E1", name="东区一支行", parent=east)
    east2 = BranchFactory(code="T-E2", name="东区二支行", parent=east)
    west1 = BranchFactory(code="T-W1", name="西区一支行", parent=west)
    return SimpleNamespace(hq=hq, east=east, west=west, east1=east1, east2=east2, west1=west1)


@pytest.fixture
def admin(client, db, login_as, tree):
    """The signed-in admin (at 总行), committed with the tree.

    Committed (a savepoint release inside the test's outer transaction), so a request that
    rolls its own changes back keeps them.
    """
    user = login_as(UserFactory(username="root-admin", display_name="管理员甲", role=Role.admin,
                                branch=tree.hq))
    db.session.commit()
    return user


@pytest.fixture
def fresh_request():
    """Drop Flask-Login's cached user before the next request.

    The ``db`` fixture keeps one app context for the whole test, so ``g`` (and the user
    Flask-Login cached on it) would otherwise outlive a request.
    """

    def _fresh():
        g.pop("_login_user", None)

    return _fresh
