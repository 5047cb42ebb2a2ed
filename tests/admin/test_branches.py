"""Issue 6.8: the branch tree in the UI: create, rename, move (with the subtree), audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.permissions import Action, can
from app.org.models import Branch, BranchLevel, Role
from tests.factories import BranchFactory, UserFactory


def _form(branch, **changes):
    data = {"code": branch.code, "name": branch.name, "level": branch.level.value,
            "parent_id": branch.parent_id or 0}
    data.update(changes)
    return data


def _events(db):
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_create_a_branch_under_a_parent(client, db, admin, tree):
    response = client.post("/admin/branches", data={
        "code": "T-E3", "name": "东区三支行", "level": "sub_branch", "parent_id": tree.east.id})
    assert response.status_code == 302
    branch = db.session.scalar(select(Branch).where(Branch.code == "T-E3"))
    assert branch.parent == tree.east and branch.path == f"{tree.east.path}{branch.id}/"
    [event] = _events(db)
    assert (event.action, event.object_id, event.actor_id) == ("branch_created", branch.id,
                                                               admin.id)
    assert event.after["parent"] == "T-E 东区分行"
    page = client.get("/admin/branches").get_data(as_text=True)
    page = page[page.index('id="branch-tree"'):]  # depth-first: a subtree follows its root
    assert page.index("东区分行") < page.index("东区三支行") < page.index("西区分行")


def test_a_moved_sub_branch_changes_manager_scope(client, db, admin, tree):
    """东区一支行 moves to 西区分行: the west manager now sees it, the east one no longer."""
    east_manager = UserFactory(role=Role.manager, branch=tree.east)
    west_manager = UserFactory(role=Role.manager, branch=tree.west)
    assert not can(west_manager, Action.read_scorecard, tree.east1)

    response = client.post(f"/admin/branches/{tree.east1.id}",
                           data=_form(tree.east1, parent_id=tree.west.id))
    assert response.status_code == 302
    db.session.expire_all()
    assert tree.east1.parent == tree.west
    assert tree.east1.path == f"{tree.west.path}{tree.east1.id}/"
    assert can(west_manager, Action.read_scorecard, tree.east1)  # the scope follows the tree
    assert not can(east_manager, Action.read_scorecard, tree.east1)
    [event] = _events(db)
    assert event.action == "branch_updated"
    assert ("parent", "T-E 东区分行", "T-W 西区分行") in event.changes()


def test_moving_a_branch_rewrites_every_descendant_path(client, db, admin, tree):
    """东区分行 and its two sub-branches move under another head office in one change."""
    second_hq = BranchFactory(code="T-HQ2", name="第二总行", level=BranchLevel.hq)

    response = client.post(f"/admin/branches/{tree.east.id}",
                           data=_form(tree.east, parent_id=second_hq.id))
    assert response.status_code == 302
    db.session.expire_all()
    east_path = f"/{second_hq.id}/{tree.east.id}/"
    assert tree.east.path == east_path
    assert tree.east1.path == f"{east_path}{tree.east1.id}/"
    assert tree.east2.path == f"{east_path}{tree.east2.id}/"
    assert tree.west1.path == f"/{tree.hq.id}/{tree.west.id}/{tree.west1.id}/"  # untouched


@pytest.mark.parametrize("target, parent, field, message", [
    ("east", "east", "parent_id", "不能移动到自身或其下级机构之下"),
    ("east", "east1", "parent_id", "不能移动到自身或其下级机构之下"),
    ("hq", "east1", "parent_id", "不能移动到自身或其下级机构之下"),
    ("east1", "east2", "parent_id", "上级机构的层级必须高于本机构"),
    ("east1", None, "parent_id", "请选择上级机构"),
])
def test_moves_that_would_break_the_tree_are_refused(client, db, admin, tree, target, parent,
                                                     field, message):
    branch = getattr(tree, target)
    before = {b.id: b.path for b in db.session.scalars(select(Branch))}
    parent_id = getattr(tree, parent).id if parent else 0
    page = client.post(f"/admin/branches/{branch.id}",
                       data=_form(branch, parent_id=parent_id)).get_data(as_text=True)
    assert message in page
    db.session.expire_all()
    assert {b.id: b.path for b in db.session.scalars(select(Branch))} == before
    assert _events(db) == []


def test_rename_and_relevel_rules(client, db, admin, tree):
    taken = client.post(f"/admin/branches/{tree.east.id}", data=_form(tree.east, code="T-W"))
    assert "机构代码已存在" in taken.get_data(as_text=True)
    children = client.post(f"/admin/branches/{tree.east.id}",
                           data=_form(tree.east, level="sub_branch"))
    assert "下级机构的层级必须低于本机构" in children.get_data(as_text=True)
    renamed = client.post(f"/admin/branches/{tree.east.id}", data=_form(tree.east, name="东部分行"))
    assert renamed.status_code == 302 and tree.east.name == "东部分行"
    [event] = _events(db)
    assert event.changes() == [("name", "东区分行", "东部分行")]
