"""The demo seed: built once (two days) by ``flask demo seed`` and read by each test;
re-seeding changes nothing.

Every read-only test of what the seed builds (bank, posts, names, customer book, events)
and of the command's output lives here, so the seed runs once for all of them.
"""

import datetime as dt
import decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import scoped_session, sessionmaker

from app.auth.permissions import DataScope
from app.broadcasts.models import Post, PostText, SopPlan, Task, TaskStatus
from app.compliance import name_check_sha256
from app.content.models import ContentTemplate, TemplateStatus
from app.core.extensions import db as _db
from app.customers.adds import add_details, staff_summary
from app.customers.coverage import staff_coverage
from app.customers.flags import flag_adds, flag_counts
from app.customers.models import CoverageSnapshot, Customer
from app.customers.services import segment_totals
from app.demo import cli as demo_cli
from app.demo.seed import demo_usernames, seed
from app.interactions.models import InteractionEvent
from app.interactions.rules import TaskFacts, check_event
from app.market.instruments import get_series
from app.org.models import Role, User
from tests.market.helpers import published_days

#: One worker seeds the demo for all of this module's tests (``--dist loadgroup``).
pytestmark = pytest.mark.xdist_group("demo-seed")

DEMO_DATE = dt.date(2025, 4, 25)


def _counts():
    return tuple(_db.session.scalar(select(func.count()).select_from(m))
                 for m in (User, ContentTemplate, Post, Task, InteractionEvent))


@pytest.fixture(scope="module")
def seeded(app):
    """The demo seeded once by ``flask demo seed --days 2`` for this module's read-only
    tests, in one outer transaction rolled back at the end of the module:
    ``(session, the seed's result, the command's output)``.

    The command's call of ``seed`` is watched (the real function runs) to keep its result.
    """
    results = []

    def watched_seed(*args, **kwargs):
        results.append(seed(*args, **kwargs))
        return results[-1]

    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_cli, "seed", watched_seed)
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        _db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        try:
            command = app.test_cli_runner().invoke(args=["demo", "seed", "--days", "2"])
            assert command.exit_code == 0, command.output
            yield _db.session, results[0], command.output
        finally:
            _db.session.remove()
            outer.rollback()
            connection.close()
            _db.session = original


def test_seed_builds_the_demo_bank_once(seeded):
    _, first, _ = seeded
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


def test_seed_command_prints_what_it_built_and_the_logins(app, seeded):
    _, first, output = seeded
    assert f"demo seeded: {first.users} users, {first.templates} templates" in output
    assert f"{first.customers} customers" in output
    logins = app.test_cli_runner().invoke(args=["demo", "logins"]).output
    for name in ("editor", "reviewer", "manager", "admin", "rm001"):
        assert name in logins
    assert app.config["DEMO_PASSWORD"] in logins


def test_seed_leaves_todays_tasks_open_for_the_first_sub_branch(seeded):
    session, _, _ = seeded
    rm001 = session.scalar(select(User).where(User.username == "rm001"))
    statuses = session.scalars(select(Task.status).join(Post)
                               .where(Task.staff_id == rm001.id, Post.run_date == DEMO_DATE)).all()
    assert statuses and all(s.value == "assigned" for s in statuses)


def test_seeded_posts_quote_only_closes_published_before_they_are_sent(seeded):
    session, _, _ = seeded
    posts = session.scalars(select(Post)).all()
    assert {post.run_date for post in posts} == {dt.date(2025, 4, 24), dt.date(2025, 4, 25)}
    for post in posts:
        assert post.market_as_of, post.id
        for code, as_of in post.market_as_of.items():
            published = get_series(code).published_at(dt.date.fromisoformat(as_of))
            assert published <= post.scheduled_at, (post.run_date, code, as_of)
            assert as_of == published_days(code, post.run_date)[-1].isoformat()


def test_seeded_names_are_marked_checked_and_wordings_alternate(seeded):
    session, _, _ = seeded
    users = session.scalars(select(User)).all()
    assert users and all(u.name_check_sha256 == name_check_sha256(u.display_name)
                         for u in users)
    morning = session.scalars(select(PostText.variant).join(Post).join(SopPlan)
                              .join(ContentTemplate)
                              .where(ContentTemplate.slug == "global-indices-morning",
                                     Post.run_date == DEMO_DATE))
    assert sorted(morning) == [0, 1]  # the library's two wordings both go out


def test_seed_builds_a_book_with_coverage_and_flagged_adds(seeded):
    result = seeded[1]
    assert result.customers == 3600
    assert _db.session.scalar(select(func.count()).select_from(Customer)) == 3600
    everyone = DataScope(is_whole_bank=True).staff_clause
    totals = {row.segment: row for row in segment_totals(staff_coverage(DEMO_DATE, everyone))}
    assert set(totals) == {"private", "vip", "payroll", "mass"}
    rate = sum(r.covered for r in totals.values()) / 3600
    assert 0.2 < rate < 0.6
    summary = staff_summary(DEMO_DATE.replace(day=1), DEMO_DATE, everyone)
    assert len(summary) == 36 and 0 < sum(s.valid_adds for s in summary) < sum(
        s.adds for s in summary)
    flags = flag_counts(flag_adds(add_details(DEMO_DATE.replace(day=1), DEMO_DATE, everyone)))
    assert all(flags[code] > 0 for code in ("cross_bank", "bought_followers", "colleague"))
    snapshots = _db.session.scalar(
        select(func.count(func.distinct(CoverageSnapshot.snapshot_date))))
    assert snapshots == 30


def test_seeded_events_pass_the_rules_of_live_input(app, seeded):
    session, _, _ = seeded
    # the seed is history as of the end of the demo date (Asia/Shanghai)
    now = dt.datetime.combine(DEMO_DATE, dt.time(23, 59, 59), ZoneInfo("Asia/Shanghai"))
    max_amount = decimal.Decimal(app.config["MAX_CONVERSION_AMOUNT_CNY"])
    tasks = {
        row.id: TaskFacts(row.id, row.status is TaskStatus.done, row.reach_count,
                          row.scheduled_at, row.completed_at)
        for row in session.execute(
            select(Task.id, Task.status, Task.reach_count, Task.completed_at, Post.scheduled_at)
            .join(Post, Task.post_id == Post.id))
    }
    events = session.scalars(select(InteractionEvent).order_by(InteractionEvent.id)).all()
    assert len(events) > 100
    logged: dict[tuple, int] = {}
    failures = []
    for e in events:
        key = (e.task_id, e.kind)
        errors = check_event(tasks[e.task_id], e.kind, e.quantity, e.occurred_at, e.amount_cny,
                             logged.get(key, 0), now, max_amount)
        logged[key] = logged.get(key, 0) + e.quantity
        if errors:
            failures.append((e.event_id, errors))
    assert failures == []
