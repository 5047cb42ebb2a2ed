import datetime as dt
import decimal

import pytest

from app.core.errors import NotFound, PermissionDenied
from app.metrics.periods import Period, period_range
from app.metrics.services import branch_choices, resolve_branch, scorecard
from app.org.models import Role
from tests.factories import BranchFactory, PostFactory, UserFactory
from tests.metrics.conftest import RUN_DATE, make_task


def _by_label(rows):
    return {row.label: row for row in rows}


def test_front_office_rates_per_staff_and_branch(world):
    card = scorecard(world.editor, world.branch_a.id, RUN_DATE, RUN_DATE)
    staff = _by_label(card.front_by_staff)
    assert set(staff) == {"张三", "李四"}
    s1 = staff["张三"]
    assert (s1.tasks_assigned, s1.tasks_done, s1.tasks_on_time) == (4, 3, 2)
    assert s1.execution_rate == pytest.approx(0.75)
    assert s1.on_time_rate == pytest.approx(0.5)
    assert s1.replies == 4
    assert s1.reach == 100
    assert s1.detail == "支行a1"
    s2 = staff["李四"]
    assert (s2.tasks_assigned, s2.tasks_done, s2.execution_rate, s2.on_time_rate) == (1, 0, 0, 0)
    branches = _by_label(card.front_by_branch)
    assert set(branches) == {"支行a1", "支行a2"}
    assert branches["支行a1"].execution_rate == pytest.approx(0.75)
    assert card.front_total.tasks_assigned == 5
    assert card.front_total.execution_rate == pytest.approx(3 / 5)


def test_middle_office_outcomes_per_template(world):
    card = scorecard(world.editor, world.branch_a.id, RUN_DATE, RUN_DATE)
    templates = _by_label(card.middle_by_template)
    gold = templates["金价早报"]
    assert gold.detail == "编辑甲"
    assert gold.posts == 4
    assert gold.reach == 100
    assert (gold.likes, gold.comments, gold.inquiries) == (5, 3, 2)
    assert gold.engagement_rate == pytest.approx(0.10)
    assert gold.inquiry_rate == pytest.approx(0.02)
    assert gold.blocks_deletes == 2
    assert gold.block_delete_rate == pytest.approx(0.02)
    assert gold.conversions == 1
    assert gold.conversion_amount_cny == decimal.Decimal("10000.50")
    assert gold.conversion_rate == pytest.approx(0.01)
    fund = templates["基金周报"]
    assert (fund.posts, fund.reach) == (1, 0)
    assert fund.engagement_rate is None and fund.conversion_rate is None
    sops = _by_label(card.middle_by_sop)
    assert sops["金价SOP0"].likes == 3 and sops["金价SOP0"].reach == 50
    assert sops["基金SOP"].detail == "基金周报"


def test_events_in_sibling_branch_do_not_count(world):
    card = scorecard(world.editor, world.branch_a.id, RUN_DATE, RUN_DATE)
    assert _by_label(card.middle_by_template)["金价早报"].likes == 5
    whole = scorecard(world.editor, None, RUN_DATE, RUN_DATE)
    gold = _by_label(whole.middle_by_template)["金价早报"]
    assert (gold.likes, gold.reach) == (55, 140)
    assert whole.branch_name == "全行"
    assert "王五" in _by_label(whole.front_by_staff)
    only_b = scorecard(world.editor, world.branch_b.id, RUN_DATE, RUN_DATE)
    assert [r.label for r in only_b.front_by_staff] == ["王五"]


def test_date_range_is_inclusive_on_run_date(world):
    later = PostFactory(sop_plan=world.gold_posts[0].sop_plan, run_date=dt.date(2025, 4, 28))
    make_task(later, world.s1, done=True, on_time=True, reach=10)
    same_day = scorecard(world.editor, world.branch_a.id, RUN_DATE, RUN_DATE)
    assert _by_label(same_day.front_by_staff)["张三"].tasks_assigned == 4
    week = scorecard(world.editor, world.branch_a.id, RUN_DATE, dt.date(2025, 4, 28))
    assert _by_label(week.front_by_staff)["张三"].tasks_assigned == 5
    assert [p.run_date for p in week.daily] == [RUN_DATE, dt.date(2025, 4, 28)]
    assert week.daily[0].execution_rate == pytest.approx(3 / 5)
    assert week.daily[0].engagement_rate == pytest.approx(0.10)
    assert week.daily[1].execution_rate == 1.0
    assert week.daily[1].engagement_rate == 0.0


def test_empty_range_gives_none_rates(world):
    card = scorecard(world.editor, None, dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    assert card.front_by_staff == [] and card.middle_by_template == [] and card.daily == []
    assert card.front_total.tasks_assigned == 0
    assert card.front_total.execution_rate is None
    assert card.middle_total.engagement_rate is None


def test_manager_scope(world):
    manager = UserFactory(role=Role.manager, branch=world.branch_a)
    card = scorecard(manager, None, RUN_DATE, RUN_DATE)
    assert card.branch_id == world.branch_a.id
    assert scorecard(manager, world.a1.id, RUN_DATE, RUN_DATE).front_by_staff[0].label == "张三"
    with pytest.raises(PermissionDenied):
        scorecard(manager, world.branch_b.id, RUN_DATE, RUN_DATE)
    with pytest.raises(PermissionDenied):
        scorecard(manager, world.hq.id, RUN_DATE, RUN_DATE)
    assert [b.name for b in branch_choices(manager)] == ["分行A", "支行a1", "支行a2"]


def test_branch_rows_are_depth_first_with_sibling_ids_compared_as_numbers(world):
    # As text, /…/1000000/ sorts before /…/999999/ and before 支行b1's own (small) id.
    for branch_id, name in ((1_000_000, "支行b3"), (999_999, "支行b2")):
        branch = BranchFactory(id=branch_id, name=name, parent=world.branch_b)
        make_task(world.gold_posts[0], UserFactory(branch=branch), done=True)
    card = scorecard(world.editor, world.branch_b.id, RUN_DATE, RUN_DATE)
    assert [row.label for row in card.front_by_branch] == ["支行b1", "支行b2", "支行b3"]


def test_frontline_refused_and_unknown_branch(world):
    with pytest.raises(PermissionDenied):
        resolve_branch(world.s1, None)
    assert branch_choices(world.s1) == []
    with pytest.raises(NotFound):
        resolve_branch(world.editor, 999_999)
    reviewer = UserFactory(role=Role.reviewer, branch=world.hq)
    assert resolve_branch(reviewer, world.b1.id) == world.b1
    assert len(branch_choices(reviewer)) >= 6


def test_cancelled_post_is_left_out(world):
    from app.broadcasts.models import PostStatus

    world.fund_post.status = PostStatus.cancelled
    card = scorecard(world.editor, world.branch_a.id, RUN_DATE, RUN_DATE)
    assert set(_by_label(card.front_by_staff)) == {"张三"}


@pytest.mark.parametrize(
    ("period", "end", "expected"),
    [
        (Period.daily, dt.date(2025, 4, 25), (dt.date(2025, 4, 25), dt.date(2025, 4, 25))),
        (Period.weekly, dt.date(2025, 4, 25), (dt.date(2025, 4, 21), dt.date(2025, 4, 25))),
        (Period.weekly, dt.date(2025, 4, 21), (dt.date(2025, 4, 21), dt.date(2025, 4, 21))),
        (Period.weekly, dt.date(2025, 4, 27), (dt.date(2025, 4, 21), dt.date(2025, 4, 27))),
        (Period.monthly, dt.date(2025, 4, 25), (dt.date(2025, 4, 1), dt.date(2025, 4, 25))),
    ],
)
def test_period_presets(period, end, expected):
    assert period_range(period, end) == expected


def test_custom_period_validation():
    from app.core.errors import ValidationFailed

    start, end = dt.date(2025, 3, 3), dt.date(2025, 4, 25)
    assert period_range(Period.custom, end, start) == (start, end)
    with pytest.raises(ValidationFailed):
        period_range(Period.custom, end)
    with pytest.raises(ValidationFailed):
        period_range(Period.custom, start, end)
    with pytest.raises(ValidationFailed):
        period_range(Period.custom, end, dt.date(2023, 1, 1))


def test_boundaries_reach_only_when_done_and_on_time_inclusive(world):
    from app.broadcasts.models import TaskStatus
    from tests.factories import TaskFactory
    from tests.metrics.conftest import DUE

    staff = UserFactory(branch=world.a2, display_name="赵六")
    # an open task has no reach: the schema refuses one (ck_tasks_reach_count_only_when_done)
    TaskFactory(post=world.gold_posts[0], staff=staff, due_at=DUE)
    TaskFactory(post=world.gold_posts[1], staff=staff, due_at=DUE, status=TaskStatus.done,
                completed_at=DUE, reach_count=7)
    row = _by_label(scorecard(world.editor, world.a2.id, RUN_DATE, RUN_DATE).front_by_staff)["赵六"]
    assert (row.tasks_assigned, row.tasks_done, row.tasks_on_time, row.reach) == (2, 1, 1, 7)


def test_late_events_count_towards_the_post_run_date(world):
    from app.interactions.models import InteractionKind
    from tests.factories import InteractionEventFactory, TaskFactory

    task = TaskFactory(post=world.gold_posts[3], staff=world.s2)
    InteractionEventFactory(task=task, kind=InteractionKind.comment, quantity=4,
                            occurred_at=dt.datetime(2025, 5, 20, 8, 0, tzinfo=dt.UTC))
    card = scorecard(world.editor, world.branch_a.id, RUN_DATE, RUN_DATE)
    assert _by_label(card.middle_by_template)["金价早报"].comments == 3 + 4
    may = scorecard(world.editor, world.branch_a.id, dt.date(2025, 5, 1), dt.date(2025, 5, 31))
    assert may.middle_by_template == []
