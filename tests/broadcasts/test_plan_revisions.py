"""Issue 9: a plan edit is a new revision; what ran keeps its revision, pending runs follow.

Every plan action leaves an audit entry. Ticks are called with explicit instants.
"""

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.broadcasts import jobs
from app.broadcasts.models import PlanRun, Post, RunStatus
from app.broadcasts.plan_models import SopPlanRevision
from app.broadcasts.plan_rules import PlanInput
from app.broadcasts.services import archive_plan, create_plan, edit_plan, set_plan_active
from app.content.models import TemplateStatus
from app.core.errors import PermissionDenied, ValidationFailed
from app.core.extensions import db as _db
from app.org.models import BranchLevel
from tests.broadcasts.test_run_day import BRIEF, approved_template
from tests.factories import BranchFactory, UserFactory

UTC = dt.UTC
NOW = dt.datetime(2025, 4, 25, 0, 0, 30, tzinfo=UTC)  # 08:00:30 in Shanghai


@pytest.fixture
def setup(db):
    hq = BranchFactory(level=BranchLevel.hq)
    for _ in range(2):
        UserFactory(role="frontline", branch=hq)
    editor = UserFactory(role="editor", branch=hq)
    template = approved_template(BRIEF)
    data = PlanInput("每小时", template.id, [hq.id], dt.time(8, 0), calendar="daily",
                     schedule="cron:0 * * * *")
    plan = create_plan(editor, data)
    plan.created_at = dt.datetime(2025, 1, 1, tzinfo=UTC)
    _db.session.flush()
    return plan, editor, data


def _runs(plan_id):
    return _db.session.scalars(select(PlanRun).where(PlanRun.sop_plan_id == plan_id)
                               .order_by(PlanRun.scheduled_at)).all()


def _audit(plan_id):
    return [e.action for e in _db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "plan", AuditEvent.object_id == plan_id)
        .order_by(AuditEvent.id))]


def test_creating_a_plan_writes_revision_one_and_an_audit_entry(setup):
    plan, editor, _ = setup
    [revision] = _db.session.scalars(select(SopPlanRevision).where(
        SopPlanRevision.sop_plan_id == plan.id)).all()
    assert plan.revision == 1 and revision.number == 1 and revision.created_by_id == editor.id
    assert revision.fields["schedule"] == "cron:0 * * * *"
    assert revision.fields["branch_ids"] == [plan.branch_id]
    assert revision.fields["channel"] == plan.template.channel.value
    assert _audit(plan.id) == ["plan_created"]


def test_published_runs_keep_their_revision_and_pending_runs_follow_a_rename(setup):
    plan, editor, data = setup
    jobs.tick("a", NOW)
    [published] = [r for r in _runs(plan.id) if r.status is RunStatus.published]
    data.name = "每小时（新）"
    edit_plan(editor, plan.id, data)
    assert plan.revision == 2
    runs = _runs(plan.id)
    _db.session.refresh(published)
    assert published.revision == 1
    assert _db.session.get(Post, published.post_id).revision == 1
    assert {r.revision for r in runs if r.status is RunStatus.pending} == {2}
    assert len([r for r in runs if r.status is RunStatus.pending]) == 48  # kept, moved
    jobs.tick("a", NOW + dt.timedelta(hours=1))
    newest = _db.session.scalars(select(Post).where(Post.sop_plan_id == plan.id)
                                 .order_by(Post.id.desc())).first()
    assert newest.revision == 1  # one post per date: 08:00 already published today
    assert _audit(plan.id) == ["plan_created", "plan_edited"]
    event = _db.session.scalars(select(AuditEvent).where(AuditEvent.action == "plan_edited")).one()
    assert event.before == {"name": "每小时"} and event.after == {"name": "每小时（新）"}


def test_a_schedule_change_recreates_the_coming_occurrences(setup):
    plan, editor, data = setup
    jobs.tick("a", NOW)
    data.schedule = "cron:30 9 * * *"
    edit_plan(editor, plan.id, data)
    assert [r.status for r in _runs(plan.id)] == [RunStatus.published]  # pending deleted
    jobs.tick("a", NOW + dt.timedelta(seconds=30))
    pending = [r for r in _runs(plan.id) if r.status is RunStatus.pending]
    assert [r.scheduled_at.astimezone(dt.timezone(dt.timedelta(hours=8))).time()
            for r in pending] == [dt.time(9, 30)] * 2
    assert {r.revision for r in pending} == {2}
    revisions = _db.session.scalars(select(SopPlanRevision).where(
        SopPlanRevision.sop_plan_id == plan.id).order_by(SopPlanRevision.number)).all()
    assert [r.number for r in revisions] == [1, 2] and revisions[1].changed == ["schedule"]


def test_an_edit_that_changes_nothing_adds_no_revision(setup):
    plan, editor, data = setup
    edit_plan(editor, plan.id, data)
    assert plan.revision == 1 and _audit(plan.id) == ["plan_created"]


def test_pause_resume_and_archive_are_audited_and_archived_plans_cannot_be_edited(setup):
    plan, editor, data = setup
    set_plan_active(editor, plan.id, False)
    set_plan_active(editor, plan.id, False)  # no change, no entry
    set_plan_active(editor, plan.id, True)
    archive_plan(editor, plan.id)
    assert _audit(plan.id) == ["plan_created", "plan_paused", "plan_resumed", "plan_archived"]
    with pytest.raises(ValidationFailed) as error:
        edit_plan(editor, plan.id, data)
    assert "已归档" in error.value.errors["plan"]


def test_only_plan_managers_edit(setup):
    plan, _, data = setup
    with pytest.raises(PermissionDenied):
        edit_plan(UserFactory(role="reviewer"), plan.id, data)


def test_the_plan_page_shows_revisions_and_edits_through_the_form(setup, client, login_as):
    plan, editor, _ = setup
    _db.session.commit()
    login_as(editor)
    page = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "修改记录" in page and "保存为新版本" in page
    response = client.post(f"/plans/{plan.id}", data={
        "name": "每小时", "template_id": plan.template_id, "branch_ids": plan.branch_id,
        "send_time": "08:00", "calendar": "daily", "schedule": "weekly:MON@09:00"})
    assert response.status_code == 302
    page = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "第 2 版" in page and "发送规则" in page and "weekly:MON@09:00" in page


def test_a_reviewer_reads_the_plan_page_but_cannot_edit(setup, client, login_as):
    plan, _, _ = setup
    login_as(UserFactory(role="reviewer"))
    _db.session.commit()
    assert "修改记录" in client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "保存为新版本" not in client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert client.post(f"/plans/{plan.id}", data={"name": "x"}).status_code == 403


def test_a_plan_stays_editable_while_its_template_has_a_new_version_in_review(setup):
    plan, editor, data = setup
    plan.template.status = TemplateStatus.in_review  # the approved version keeps running
    _db.session.flush()
    edit_plan(editor, plan.id, replace(data, name="每小时（改）"))
    assert plan.name == "每小时（改）" and plan.revision == 2
    plan.template.status = TemplateStatus.retired
    _db.session.flush()
    with pytest.raises(ValidationFailed) as refused:
        edit_plan(editor, plan.id, replace(data, name="停用后"))
    assert refused.value.errors["template_id"] == "只能选择已批准的模板"
