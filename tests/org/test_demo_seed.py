"""The demo seed: built once (two days) and read by each test; re-seeding changes nothing."""

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import scoped_session, sessionmaker

from app.broadcasts.models import Post, PostText, SopPlan, Task
from app.compliance import name_check_sha256
from app.content.models import ContentTemplate, TemplateStatus
from app.core.extensions import db as _db
from app.demo.seed import demo_usernames, seed
from app.interactions.models import InteractionEvent
from app.market.instruments import get_series
from app.org.models import Role, User
from tests.market.helpers import published_days

DEMO_DATE = dt.date(2025, 4, 25)


def _counts():
    return tuple(_db.session.scalar(select(func.count()).select_from(m))
                 for m in (User, ContentTemplate, Post, Task, InteractionEvent))


@pytest.fixture(scope="module")
def seeded(app):
    """The demo seeded once (two days) for this module's read-only tests, in one outer
    transaction rolled back at the end of the module: ``(session, first seed's result)``."""
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        _db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        try:
            yield _db.session, seed("pw", DEMO_DATE, days=2)
        finally:
            _db.session.remove()
            outer.rollback()
            connection.close()
            _db.session = original


def test_seed_builds_the_demo_bank_once(seeded):
    _, first = seeded
    assert first.created
    assert first.users == len(demo_usernames()) == 41
    assert first.templates >= 6 and first.plans == 3
    assert first.posts == 6 and first.tasks == 6 * 36
    assert first.events > 0
    roles = dict(_db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles[Role.frontline] == 36
    approved = _db.session.scalar(select(func.count()).select_from(ContentTemplate)
                                  .where(ContentTemplate.status == TemplateStatus.approved))
    assert approved >= 6
    before = _counts()
    assert seed("pw", DEMO_DATE, days=2).created is False
    assert _counts() == before


def test_seed_leaves_todays_tasks_open_for_the_first_sub_branch(seeded):
    session, _ = seeded
    rm001 = session.scalar(select(User).where(User.username == "rm001"))
    statuses = session.scalars(select(Task.status).join(Post)
                               .where(Task.staff_id == rm001.id, Post.run_date == DEMO_DATE)).all()
    assert statuses and all(s.value == "assigned" for s in statuses)


def test_seeded_posts_quote_only_closes_published_before_they_are_sent(seeded):
    session, _ = seeded
    posts = session.scalars(select(Post)).all()
    assert {post.run_date for post in posts} == {dt.date(2025, 4, 24), dt.date(2025, 4, 25)}
    for post in posts:
        assert post.market_as_of, post.id
        for code, as_of in post.market_as_of.items():
            published = get_series(code).published_at(dt.date.fromisoformat(as_of))
            assert published <= post.scheduled_at, (post.run_date, code, as_of)
            assert as_of == published_days(code, post.run_date)[-1].isoformat()


def test_seeded_names_are_marked_checked_and_wordings_alternate(seeded):
    session, _ = seeded
    users = session.scalars(select(User)).all()
    assert users and all(u.name_check_sha256 == name_check_sha256(u.display_name)
                         for u in users)
    morning = session.scalars(select(PostText.variant).join(Post).join(SopPlan)
                              .join(ContentTemplate)
                              .where(ContentTemplate.slug == "global-indices-morning",
                                     Post.run_date == DEMO_DATE))
    assert sorted(morning) == [0, 1]  # the library's two wordings both go out
