"""Fixtures shared by tests/feed and tests/interactions (imported by their conftest files)."""

import datetime as dt

import pytest
from sqlalchemy import select

from app.broadcasts.models import TaskStatus
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


#: Fixed business clock of ``fixed_clock``: 2025-04-25 14:00 Asia/Shanghai.
CLOCK_NOW = dt.datetime(2025, 4, 25, 6, 0, tzinfo=dt.UTC)
#: When ``make_sent_task`` marks its task done: 09:15 Shanghai, after the 08:30 post.
SENT_AT = dt.datetime(2025, 4, 25, 1, 15, tzinfo=dt.UTC)


@pytest.fixture
def fixed_clock(time_machine):
    """Stop the clock at ``CLOCK_NOW`` (time-machine), so ``business_now()`` returns it.

    ``pinned_business_date`` pins the same date, so the pinned ``business_now()`` is
    exactly ``CLOCK_NOW``.
    """
    time_machine.move_to(CLOCK_NOW, tick=False)
    return CLOCK_NOW


@pytest.fixture
def make_sent_task(make_task):
    """``make_sent_task(staff, reach=50, **fields)``: a task already done with that reach."""

    def _make(staff, reach=50, **fields):
        fields.setdefault("completed_at", SENT_AT)
        return make_task(staff, status=TaskStatus.done, reach_count=reach, **fields)

    return _make
