"""The permission policy: the table itself, object rules and data scopes."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from app.auth.permissions import POLICY, Action, DataScope, can, require, roles_for, scope
from app.broadcasts.models import Task
from app.core.errors import PermissionDenied
from app.org.models import Branch, BranchLevel, Role, User
from tests.factories import BranchFactory, PostFactory, TaskFactory, UserFactory

F, E, R, M, A = Role.frontline, Role.editor, Role.reviewer, Role.manager, Role.admin

#: The product's access rules, written out once more by hand: a change to POLICY must be
#: a change to this table too.
EXPECTED = {
    Action.use_feed: {F, A},
    Action.view_charts: {F, E, R, M, A},
    Action.read_content: {E, R, A},
    Action.write_content: {E, A},
    Action.review_content: {R},
    Action.retire_content: {E, R, A},
    Action.read_plans: {E, R, M, A},
    Action.manage_plans: {E, A},
    Action.read_tracking: {E, R, M, A},
    Action.withdraw_posts: {E, R, A},
    Action.read_scorecard: {E, R, M, A},
    Action.manage_users: {A},
    Action.manage_branches: {A},
    Action.read_audit: {M, A},
    Action.export_audit: {M, A},
    Action.read_coverage: {E, R, M, A},
    Action.use_customer_book: {F, A},
    Action.import_customers: {A},
}


def test_policy_table_is_the_agreed_one():
    assert {action: set(roles) for action, roles in POLICY.items()} == EXPECTED
    assert set(POLICY) == set(Action)


@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_can_follows_the_table_for_active_users_only(db, role, action):
    user = UserFactory(role=role)
    assert can(user, action) is (role in roles_for(action))
    user.is_active_account = False
    assert can(user, action) is False
    assert can(None, action) is False


def test_review_never_of_ones_own_version(db):
    reviewer = UserFactory(role=Role.reviewer)
    own, other = SimpleNamespace(author_id=reviewer.id), SimpleNamespace(author_id=reviewer.id + 1)
    assert can(reviewer, Action.review_content, other)
    assert not can(reviewer, Action.review_content, own)
    with pytest.raises(PermissionDenied, match="双人复核"):
        require(reviewer, Action.review_content, own)
    with pytest.raises(PermissionDenied, match="合规复核"):
        require(UserFactory(role=Role.admin), Action.review_content, other)


def test_a_task_belongs_to_its_staff_member_only(db):
    owner, colleague = UserFactory(role=Role.frontline), UserFactory(role=Role.frontline)
    task = TaskFactory(staff=owner)
    assert can(owner, Action.use_feed, task)
    assert not can(colleague, Action.use_feed, task)


@pytest.fixture
def tree(db):
    hq = BranchFactory(level=BranchLevel.hq, name="总行")
    east = BranchFactory(level=BranchLevel.branch, name="东区分行", parent=hq)
    west = BranchFactory(level=BranchLevel.branch, name="西区分行", parent=hq)
    east_sub = BranchFactory(name="东区一支行", parent=east)
    west_sub = BranchFactory(name="西区一支行", parent=west)
    staff = {b.name: UserFactory(role=Role.frontline, branch=b) for b in (east_sub, west_sub)}
    return SimpleNamespace(hq=hq, east=east, west=west, east_sub=east_sub, west_sub=west_sub,
                           staff=staff)


def test_scope_whole_bank_subtree_or_own_rows(db, tree):
    for role in (Role.admin, Role.editor, Role.reviewer):
        assert scope(UserFactory(role=role, branch=tree.east_sub)) == DataScope(is_whole_bank=True)
    manager = UserFactory(role=Role.manager, branch=tree.east)
    assert scope(manager) == DataScope(branch_path=tree.east.path)
    rm = tree.staff["东区一支行"]
    assert scope(rm) == DataScope(user_id=rm.id)


def test_manager_scope_selects_the_subtree_in_sql(db, tree):
    manager = UserFactory(role=Role.manager, branch=tree.east)
    names = set(db.session.scalars(select(Branch.name).where(
        scope(manager).branch_clause())))
    assert names == {"东区分行", "东区一支行"}
    assert can(manager, Action.read_scorecard, tree.east_sub)
    assert not can(manager, Action.read_scorecard, tree.west)
    assert not can(manager, Action.read_scorecard, tree.hq)


def test_front_line_scope_is_own_rows_not_the_sub_branch(db, tree):
    """A front-line user is never handed their whole sub-branch."""
    rm = tree.staff["东区一支行"]
    colleague = UserFactory(role=Role.frontline, branch=tree.east_sub)
    due = dt.datetime(2025, 4, 25, 2, 30, tzinfo=dt.UTC)
    post = PostFactory()
    mine = TaskFactory(post=post, staff=rm, due_at=due)
    TaskFactory(post=post, staff=colleague, due_at=due)
    visible = set(db.session.scalars(select(Task.id).where(scope(rm).staff_clause(Task.staff_id))))
    assert visible == {mine.id}
    assert not db.session.scalars(select(Branch.id).where(
        scope(rm).branch_clause())).all()
    assert not can(rm, Action.read_scorecard, tree.east_sub)


def test_manager_staff_clause_covers_the_subtree_only(db, tree):
    manager = UserFactory(role=Role.manager, branch=tree.east)
    ids = set(db.session.scalars(select(User.id).where(scope(manager).staff_clause(User.id))))
    assert tree.staff["东区一支行"].id in ids
    assert tree.staff["西区一支行"].id not in ids


def test_anonymous_may_do_nothing():
    anonymous = AnonymousUserMixin()
    assert not any(can(anonymous, action) for action in Action)
    with pytest.raises(PermissionDenied):
        require(anonymous, Action.review_content)
