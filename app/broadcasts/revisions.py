"""Plan revisions 计划版本: every edit is a new revision; what ran keeps the one it ran with.

A revision stores the plan's planning fields (:func:`snapshot`). Posts and runs already
published, skipped or failed keep their ``revision``; pending runs follow the new one:
when the timing changed (schedule, time zone, dates, maximum runs) they are deleted and the
scheduler's next tick creates the coming occurrences again, otherwise they are moved to
the new revision in place.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update

from app.broadcasts.audience import Audience
from app.broadcasts.models import PlanRun, RunStatus, SopPlan
from app.broadcasts.plan_models import SopPlanRevision
from app.core.clock import utcnow
from app.core.extensions import db

#: Fields whose change moves the plan's occurrences.
TIMING_FIELDS = ("schedule", "timezone", "start_date", "end_date", "max_runs")
#: Chinese labels of the revision fields (plan page).
FIELD_LABELS = {"name": "名称", "template_title": "模板", "schedule": "发送规则",
                "timezone": "时区", "start_date": "开始日期", "end_date": "结束日期",
                "max_runs": "运行次数上限", "channel": "渠道", "branch_names": "下发机构",
                "segment_codes": "客群"}


def snapshot(plan: SopPlan, audience: Audience) -> dict:
    """The plan's planning fields as JSON values (the ``fields`` of a revision)."""
    return {"name": plan.name, "template_id": plan.template_id,
            "template_title": plan.template.title, "schedule": plan.schedule,
            "timezone": plan.timezone, "start_date": _iso(plan.start_date),
            "end_date": _iso(plan.end_date), "max_runs": plan.max_runs,
            "channel": plan.channel.value, "branch_ids": list(audience.branch_ids),
            "branch_names": list(audience.branch_names),
            "segment_codes": list(audience.segment_codes)}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def record_revision(plan: SopPlan, fields: dict, actor_id: int | None,
                    previous: dict | None = None) -> SopPlanRevision:
    """Append revision ``plan.revision`` with ``fields``; ``changed`` against ``previous``.

    :returns: the new revision row (flushed).
    """
    changed = [] if previous is None else sorted(
        key for key in fields if fields.get(key) != previous.get(key))
    revision = SopPlanRevision(sop_plan_id=plan.id, number=plan.revision, fields=fields,
                               changed=changed, created_by_id=actor_id, created_at=utcnow())
    db.session.add(revision)
    db.session.flush()
    return revision


def follow_revision(plan: SopPlan, changed: list[str]) -> int:
    """Move the plan's pending runs to its current revision.

    :param changed: the fields the edit changed; a timing field deletes the pending runs
        (re-created at the next tick), otherwise they take the new revision number.
    :returns: pending runs deleted or moved.
    """
    pending = (PlanRun.sop_plan_id == plan.id, PlanRun.status == RunStatus.pending)
    if any(name in TIMING_FIELDS for name in changed):
        statement = delete(PlanRun).where(*pending)
    else:
        statement = update(PlanRun).where(*pending).values(revision=plan.revision)
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount


def history(plan_id: int) -> list[SopPlanRevision]:
    """The plan's revisions, newest first."""
    return list(db.session.scalars(select(SopPlanRevision).where(
        SopPlanRevision.sop_plan_id == plan_id).order_by(SopPlanRevision.number.desc())))


def changed_labels(revision: SopPlanRevision) -> list[str]:
    """Chinese names of the fields a revision changed (ids left out)."""
    return [FIELD_LABELS[key] for key in revision.changed if key in FIELD_LABELS]
