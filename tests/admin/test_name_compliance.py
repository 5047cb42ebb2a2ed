"""Issue 9: display names and branch names are checked for compliance when saved.

The daily run substitutes ``staff.name`` and ``staff.branch`` into texts whose literal part
it checked once, so a name with a blocking finding is refused at the admin form with a
Chinese message, nothing is saved, and a clean name carries the marker the run day reads.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.compliance import name_check_sha256
from app.org.models import Branch, Role, User
from tests.factories import UserFactory

BAD_NAME = "保本保收益"


def _events(db):
    return list(db.session.scalars(select(AuditEvent)))


def test_a_user_with_a_non_compliant_display_name_is_refused(client, db, admin, tree):
    page = client.post("/admin/users/new", data={
        "username": "rm-bad", "display_name": BAD_NAME, "role": "frontline",
        "branch_id": tree.east1.id, "password": ""}).get_data(as_text=True)
    assert "显示名含有不合规内容" in page and "保本" in page and "请修改" in page
    assert db.session.scalar(select(User).where(User.username == "rm-bad")) is None
    assert _events(db) == []


def test_a_clean_display_name_is_saved_with_its_check_marker(client, db, admin, tree):
    response = client.post("/admin/users/new", data={
        "username": "rm-ok", "display_name": "王小明", "role": "frontline",
        "branch_id": tree.east1.id, "password": ""})
    assert response.status_code == 200
    user = db.session.scalar(select(User).where(User.username == "rm-ok"))
    assert user.name_check_sha256 == name_check_sha256("王小明")


def test_renaming_a_user_to_a_non_compliant_name_is_refused(client, db, admin, tree):
    user = UserFactory(role=Role.frontline, branch=tree.east1, display_name="李四")
    db.session.commit()
    response = client.post(f"/admin/users/{user.id}", data={
        "display_name": "稳赚不赔李四", "role": "frontline", "branch_id": tree.east1.id,
        "wecom_userid": ""})
    assert response.status_code == 200
    assert "显示名含有不合规内容" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.display_name == "李四" and user.name_check_sha256 is None
    assert _events(db) == []


def test_a_branch_with_a_non_compliant_name_is_refused(client, db, admin, tree):
    page = client.post("/admin/branches", data={
        "code": "T-E9", "name": "保本理财支行", "level": "sub_branch",
        "parent_id": tree.east.id}).get_data(as_text=True)
    assert "机构名称含有不合规内容" in page
    assert db.session.scalar(select(Branch).where(Branch.code == "T-E9")) is None


def test_renaming_a_branch_checks_the_new_name(client, db, admin, tree):
    bad = client.post(f"/admin/branches/{tree.east1.id}", data={
        "code": "T-E1", "name": "稳赚支行", "level": "sub_branch", "parent_id": tree.east.id})
    assert "机构名称含有不合规内容" in bad.get_data(as_text=True)
    db.session.refresh(tree.east1)
    assert tree.east1.name == "东区一支行"
    good = client.post(f"/admin/branches/{tree.east1.id}", data={
        "code": "T-E1", "name": "东区新支行", "level": "sub_branch", "parent_id": tree.east.id})
    assert good.status_code == 302
    db.session.refresh(tree.east1)
    assert tree.east1.name_check_sha256 == name_check_sha256("东区新支行")


def test_the_marker_is_tied_to_the_name():
    assert name_check_sha256("张三") != name_check_sha256("张三 ")
    assert len(name_check_sha256("张三")) == 64


def test_names_check_marks_old_rows_once_and_lists_refused_ones(runner, db, tree):
    clean = UserFactory(role=Role.frontline, branch=tree.east1, display_name="赵六")
    twin = UserFactory(role=Role.frontline, branch=tree.east2, display_name="赵六")
    bad = UserFactory(role=Role.frontline, branch=tree.east1, display_name=BAD_NAME)
    result = runner.invoke(args=["names", "check"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["refused"] == [{"type": "user", "id": bad.id, "name": BAD_NAME,
                                  "message": report["refused"][0]["message"]}]
    assert "显示名含有不合规内容" in report["refused"][0]["message"]
    # 赵六 twice, the six branch names and the bad name: each distinct value checked once
    assert report["checked"] == len({"赵六", BAD_NAME, "总行", "东区分行", "西区分行",
                                     "东区一支行", "东区二支行", "西区一支行"})
    for user in (clean, twin, bad):
        db.session.refresh(user)
    assert clean.name_check_sha256 == twin.name_check_sha256 == name_check_sha256("赵六")
    assert bad.name_check_sha256 is None
    db.session.refresh(tree.east1)
    assert tree.east1.name_check_sha256 == name_check_sha256("东区一支行")
    again = json.loads(runner.invoke(args=["names", "check"]).output)
    assert (again["checked"], again["marked"]) == (1, 0)  # only the refused name is left
