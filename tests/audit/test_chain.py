"""The one audit log: hash chain, tamper detection (edit, delete), CLI, content events, page."""

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select, text, update

from app.audit.chain import entry_hash, record, verify
from app.audit.models import GENESIS, AuditChainHead, AuditEvent
from app.content import services as content
from app.org.models import Role
from tests.factories import BranchFactory, UserFactory

BODY = ("今日金价上涨1.2%（数据来源：上海黄金交易所，截至2025-04-24）。"
        "过往走势不代表未来表现。市场有风险，投资须谨慎。")


@pytest.fixture
def actor(db):
    return UserFactory(role=Role.editor)


def _three(actor):
    return [record(actor.id, "template_created", "template", n, version=1,
                   content_sha256="a" * 64, after={"title": f"模板{n}"}) for n in (1, 2, 3)]


def test_entries_are_chained_and_verify(db, actor):
    first, second, third = _three(actor)
    # ids are not dense on PostgreSQL (rolled-back tests use sequence values)
    earlier = db.session.scalar(select(AuditEvent).where(AuditEvent.id < first.id)
                                .order_by(AuditEvent.id.desc()).limit(1))
    assert first.prev_sha256 == (earlier.entry_sha256 if earlier else GENESIS)
    assert second.prev_sha256 == first.entry_sha256
    assert third.prev_sha256 == second.entry_sha256
    assert all(entry_hash(e) == e.entry_sha256 for e in (first, second, third))
    head = db.session.get(AuditChainHead, 1)
    assert (head.last_event_id, head.last_sha256) == (third.id, third.entry_sha256)
    result = verify()
    assert result.ok and result.checked >= 3


def test_an_edited_row_is_detected(db, actor):
    first, second, third = _three(actor)
    db.session.execute(update(AuditEvent).where(AuditEvent.id == second.id)
                       .values(after={"title": "改过的标题"}))
    db.session.expire_all()
    result = verify()
    assert not result.ok and result.broken_id == second.id
    assert "被修改" in result.reason


def test_an_edited_time_is_detected(db, actor):
    first, second, third = _three(actor)
    db.session.execute(text("UPDATE audit_events SET actor_id = NULL WHERE id = :id"),
                       {"id": first.id})
    db.session.expire_all()
    assert verify().broken_id == first.id


def test_a_deleted_row_is_detected(db, actor):
    first, second, third = _three(actor)
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == second.id))
    db.session.expire_all()
    result = verify()
    assert not result.ok and result.broken_id == third.id
    assert "删除" in result.reason


def test_deleting_the_last_rows_is_detected_by_the_head(db, actor):
    first, second, third = _three(actor)
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == third.id))
    db.session.expire_all()
    result = verify()
    assert not result.ok and result.broken_id is None and "末尾" in result.reason


def test_cli_verify_reports_the_first_broken_link(db, actor, runner):
    first, second, third = _three(actor)
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "chain intact" in ok.output
    db.session.execute(update(AuditEvent).where(AuditEvent.id == second.id)
                       .values(action="template_approved"))
    db.session.expire_all()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"BROKEN at entry {second.id}" in broken.output


def test_template_life_cycle_is_recorded(db, actor):
    reviewer = UserFactory(role=Role.reviewer)
    template = content.create_template(actor.id, "gold-audit", "黄金", "gold", "moments_post",
                                       None, BODY, content_kind="market_commentary")
    content.save_version(template.id, actor.id, BODY + "\n祝好。")
    content.submit_for_review(template.id, actor.id)
    content.reject(template.id, reviewer.id, "请补充图表说明")
    content.submit_for_review(template.id, actor.id)
    content.approve(template.id, reviewer.id, "同意")
    content.retire(template.id, reviewer.id)
    events = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "template", AuditEvent.object_id == template.id)
        .order_by(AuditEvent.id)))
    assert [(e.action, e.object_version, e.actor_id) for e in events] == [
        ("template_created", 1, actor.id), ("template_edited", 2, actor.id),
        ("template_submitted", 2, actor.id), ("template_rejected", 2, reviewer.id),
        ("template_submitted", 2, actor.id), ("template_approved", 2, reviewer.id),
        ("template_retired", 2, reviewer.id)]
    assert events[1].content_sha256 == template.latest_version.body_sha256
    assert events[3].after == {"status": "draft", "comment": "请补充图表说明"}
    assert verify().ok


def _manager(login_as, db):
    hq = BranchFactory(code="A-HQ", name="总行", level="hq")
    east = BranchFactory(code="A-E", name="东区", level="branch", parent=hq)
    west = BranchFactory(code="A-W", name="西区", level="branch", parent=hq)
    manager = login_as(UserFactory(role=Role.manager, branch=east))
    return manager, east, west


def test_managers_browse_with_filters_within_their_scope(client, db, login_as, actor):
    manager, east, west = _manager(login_as, db)
    inside, outside = UserFactory(branch=east), UserFactory(branch=west)
    record(actor.id, "user_updated", "user", inside.id, after={"display_name": "东区用户"})
    record(actor.id, "user_updated", "user", outside.id, after={"display_name": "西区用户"})
    record(actor.id, "template_approved", "template", 77, version=3,
           after={"status": "approved"})
    db.session.commit()
    page = client.get("/audit/").get_data(as_text=True)
    assert "东区用户" in page and "西区用户" not in page and "批准模板" in page
    filtered = client.get("/audit/?object_type=template").get_data(as_text=True)
    assert "批准模板" in filtered and "东区用户" not in filtered
    assert client.get("/audit/?object_id=abc").status_code == 200  # a bad filter shows all


def test_export_is_xlsx_with_neutralised_formulas(client, db, login_as, actor):
    login_as(UserFactory(role=Role.admin))
    record(actor.id, "template_created", "template", 5, version=1,
           after={"=HYPERLINK(\"http://x\")": "标题"})
    db.session.commit()
    response = client.get("/audit/export.xlsx?object_type=template")
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "序号" and len(rows) >= 2
    after = [r[9] for r in rows[1:] if r[5] == 5][0]
    assert after == "'=HYPERLINK(\"http://x\")=标题"  # opens as text, not a formula
    assert [r[5] for r in rows[1:]] == [5] and isinstance(rows[1][0], int)


@pytest.mark.parametrize("role", [Role.frontline, Role.editor, Role.reviewer])
def test_other_roles_cannot_read_or_export(client, db, login_as, role):
    login_as(role.value)
    db.session.commit()
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.xlsx").status_code == 403
