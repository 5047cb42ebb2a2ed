import datetime as dt

import pytest
from sqlalchemy import func, select

from app.broadcasts.models import Post, PostText, SopPlan, Task
from app.compliance import name_check_sha256
from app.content.models import ContentTemplate, TemplateStatus
from app.core.extensions import db as _db
from app.demo.seed import demo_usernames, seed
from app.interactions.models import InteractionEvent
from app.org.models import Role, User
from app.org.services import refuse_demo_accounts
from tests.factories import UserFactory


def _counts():
    return tuple(_db.session.scalar(select(func.count()).select_from(m))
                 for m in (User, ContentTemplate, Post, Task, InteractionEvent))


def test_seed_builds_the_demo_bank_once(db):
    first = seed("pw", dt.date(2025, 4, 25), days=2)
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
    assert seed("pw", dt.date(2025, 4, 25), days=2).created is False
    assert _counts() == before


def test_seed_leaves_todays_tasks_open_for_the_first_sub_branch(db):
    seed("pw", dt.date(2025, 4, 25), days=1)
    rm001 = _db.session.scalar(select(User).where(User.username == "rm001"))
    statuses = _db.session.scalars(select(Task.status).where(Task.staff_id == rm001.id)).all()
    assert statuses and all(s.value == "assigned" for s in statuses)


def test_seeded_names_are_marked_checked_and_wordings_alternate(db):
    seed("pw", dt.date(2025, 4, 25), days=1)
    users = _db.session.scalars(select(User)).all()
    assert users and all(u.name_check_sha256 == name_check_sha256(u.display_name)
                         for u in users)
    morning = _db.session.scalars(select(PostText.variant).join(Post).join(SopPlan)
                                  .join(ContentTemplate)
                                  .where(ContentTemplate.slug == "global-indices-morning"))
    assert sorted(morning) == [0, 1]  # the library's two wordings both go out


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


def test_seeded_posts_quote_only_closes_published_before_they_are_sent(db):
    from app.market.instruments import get_series
    from tests.market.helpers import published_days

    seed("pw", dt.date(2025, 4, 25), days=2)
    posts = _db.session.scalars(select(Post)).all()
    assert {post.run_date for post in posts} == {dt.date(2025, 4, 24), dt.date(2025, 4, 25)}
    for post in posts:
        assert post.market_as_of, post.id
        for code, as_of in post.market_as_of.items():
            published = get_series(code).published_at(dt.date.fromisoformat(as_of))
            assert published <= post.scheduled_at, (post.run_date, code, as_of)
            assert as_of == published_days(code, post.run_date)[-1].isoformat()
