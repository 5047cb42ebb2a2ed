"""Fixtures shared by tests/feed and tests/interactions (imported by their conftest files)."""

import datetime as dt

import pytest
from sqlalchemy import select

from app.market.models import ChartImage
from app.org.models import Role
from tests.factories import PostFactory, TaskFactory, UserFactory

DAY = dt.date(2025, 4, 25)


@pytest.fixture(autouse=True)
def pinned_business_date(app, monkeypatch):
    monkeypatch.setitem(app.config, "BUSINESS_DATE", DAY.isoformat())
    return DAY


@pytest.fixture
def make_task(db):
    """``make_task(staff, run_date=DAY, spec="global_indices", **task_fields)``."""

    def _make(staff, run_date=DAY, spec="global_indices", post=None, **fields):
        if post is None:
            chart = None
            if spec:
                chart = db.session.scalar(select(ChartImage).filter_by(
                    run_date=run_date, spec_name=spec))
                if chart is None:
                    chart = ChartImage(run_date=run_date, spec_name=spec,
                                       path=f"{run_date}/{spec}.png", as_of={}, sha256="0" * 64)
                    db.session.add(chart)
                    db.session.flush()
            post = PostFactory(run_date=run_date, chart_image_id=chart.id if chart else None)
        due = dt.datetime.combine(run_date, dt.time(2, 30), tzinfo=dt.UTC)
        fields.setdefault("due_at", due)
        task = TaskFactory(post=post, staff=staff, **fields)
        db.session.commit()  # error handlers roll back to the last commit
        return task

    return _make


@pytest.fixture
def login(db, login_as):
    """``login_as`` that commits first: a request ending in a domain error rolls the
    session back to the last commit, which must not drop the logged-in user."""

    def _login(who):
        user = login_as(who)
        db.session.commit()
        return user

    return _login


@pytest.fixture
def frontline_a(db):
    user = UserFactory(role=Role.frontline)
    db.session.commit()
    return user


@pytest.fixture
def frontline_b(db):
    user = UserFactory(role=Role.frontline)
    db.session.commit()
    return user
