"""Known scorecard data: a small branch tree, two templates, tasks and events."""

from __future__ import annotations

import datetime as dt
import decimal
from types import SimpleNamespace

import pytest

from app.broadcasts.models import TaskStatus
from app.interactions.models import InteractionKind
from app.org.models import BranchLevel, Role
from tests.factories import (
    BranchFactory,
    ContentTemplateFactory,
    InteractionEventFactory,
    PostFactory,
    SopPlanFactory,
    TaskFactory,
    UserFactory,
)

RUN_DATE = dt.date(2025, 4, 25)
DUE = dt.datetime(2025, 4, 25, 2, 30, tzinfo=dt.UTC)


def make_task(post, staff, *, done=False, on_time=False, reach=None):
    """A task of ``post`` for ``staff``; done tasks finish 1 h before or after ``DUE``."""
    if not done:
        return TaskFactory(post=post, staff=staff, due_at=DUE)
    offset = dt.timedelta(hours=-1 if on_time else 1)
    return TaskFactory(
        post=post, staff=staff, due_at=DUE, status=TaskStatus.done,
        completed_at=DUE + offset, reach_count=reach,
    )


def add_events(task, kind, quantity, amount=None):
    return InteractionEventFactory(task=task, kind=kind, quantity=quantity, amount_cny=amount)


@pytest.fixture
def world(db):
    """HQ → 分行A (支行a1, a2) and 分行B (支行b1); data on 2025-04-25.

    In a1: staff s1 has 4 tasks of the 金价 template (3 done, 2 on time, reach 100) with
    5 likes, 3 comments, 2 inquiries, 4 replies, 1 block + 1 delete, 1 conversion of 10000.50.
    In b1 (sibling branch): staff s3 has 1 done task of the same template with 50 likes.
    """
    hq = BranchFactory(name="总行", level=BranchLevel.hq)
    branch_a = BranchFactory(name="分行A", level=BranchLevel.branch, parent=hq)
    branch_b = BranchFactory(name="分行B", level=BranchLevel.branch, parent=hq)
    a1 = BranchFactory(name="支行a1", parent=branch_a)
    a2 = BranchFactory(name="支行a2", parent=branch_a)
    b1 = BranchFactory(name="支行b1", parent=branch_b)
    editor = UserFactory(role=Role.editor, branch=hq, display_name="编辑甲")
    gold = ContentTemplateFactory(title="金价早报", author=editor)
    fund = ContentTemplateFactory(title="基金周报", author=editor)
    s1 = UserFactory(branch=a1, display_name="张三")
    s2 = UserFactory(branch=a2, display_name="李四")
    s3 = UserFactory(branch=b1, display_name="王五")
    gold_posts = [
        PostFactory(sop_plan=SopPlanFactory(template=gold, branch=hq, name=f"金价SOP{i}"),
                    run_date=RUN_DATE)
        for i in range(4)
    ]
    fund_post = PostFactory(sop_plan=SopPlanFactory(template=fund, branch=hq, name="基金SOP"),
                            run_date=RUN_DATE)
    t1 = make_task(gold_posts[0], s1, done=True, on_time=True, reach=50)
    t2 = make_task(gold_posts[1], s1, done=True, on_time=True, reach=30)
    make_task(gold_posts[2], s1, done=True, on_time=False, reach=20)
    make_task(gold_posts[3], s1)
    add_events(t1, InteractionKind.like, 3)
    add_events(t2, InteractionKind.like, 2)
    add_events(t1, InteractionKind.comment, 3)
    add_events(t1, InteractionKind.inquiry, 1)
    add_events(t2, InteractionKind.inquiry, 1)
    add_events(t1, InteractionKind.reply, 4)
    add_events(t1, InteractionKind.block, 1)
    add_events(t2, InteractionKind.delete, 1)
    add_events(t1, InteractionKind.conversion, 1, decimal.Decimal("10000.50"))
    make_task(fund_post, s2)
    sibling_task = make_task(gold_posts[0], s3, done=True, on_time=True, reach=40)
    add_events(sibling_task, InteractionKind.like, 50)
    # Commit (releases the test savepoint only) so that a view's rollback after a 403
    # does not undo the fixture data; the outer test transaction still rolls back.
    db.session.commit()
    return SimpleNamespace(
        hq=hq, branch_a=branch_a, branch_b=branch_b, a1=a1, a2=a2, b1=b1, editor=editor,
        gold=gold, fund=fund, s1=s1, s2=s2, s3=s3, gold_posts=gold_posts, fund_post=fund_post,
    )
