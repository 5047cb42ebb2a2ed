"""A plan's audience 下发范围: branch subtrees, and for 群发 customer segments.

The branches are ``sop_plans.branch_id`` (the first) plus the ``plan_audience`` rows with a
branch; the targeted staff are the active front-line users in the union of their subtrees,
each once. Segments (``plan_audience`` rows with a segment) narrow a 群发 plan's customers
(``app.connector.segments``). Every read here is one query for all plans asked about.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, delete, or_, select

from app.broadcasts.models import SopPlan
from app.broadcasts.plan_models import PlanAudience
from app.broadcasts.plan_texts import StaffRow
from app.compliance import name_check_sha256
from app.content.models import Channel
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.customers.models import Segment
from app.org.models import Branch, Role, User
from app.org.services import in_subtree


@dataclass
class Audience:
    """A plan's audience as plain values: branches in the editor's order, segments by code."""

    branch_ids: list[int] = field(default_factory=list)
    branch_names: list[str] = field(default_factory=list)
    branch_paths: list[str] = field(default_factory=list)
    segment_ids: list[int] = field(default_factory=list)
    segment_codes: list[str] = field(default_factory=list)
    segment_names: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """Chinese summary, e.g. ``杭州分行、宁波分行 · 客群：贵宾``."""
        text = "、".join(self.branch_names)
        return f"{text} · 客群：{'、'.join(self.segment_names)}" if self.segment_names else text


def audiences(plan_ids: list[int]) -> dict[int, Audience]:
    """The audience of each plan: two queries for all of ``plan_ids``.

    :returns: plan id → :class:`Audience` (first branch = ``sop_plans.branch_id``).
    """
    result = {plan_id: Audience() for plan_id in plan_ids}
    if not plan_ids:
        return result
    first = db.session.execute(
        select(SopPlan.id, Branch.id, Branch.name, Branch.path)
        .join(Branch, SopPlan.branch_id == Branch.id).where(SopPlan.id.in_(plan_ids)))
    for plan_id, *branch in first:
        _add_branch(result[plan_id], *branch)
    rows = db.session.execute(
        select(PlanAudience.sop_plan_id, Branch.id, Branch.name, Branch.path,
               Segment.id, Segment.code, Segment.name)
        .outerjoin(Branch, PlanAudience.branch_id == Branch.id)
        .outerjoin(Segment, PlanAudience.segment_id == Segment.id)
        .where(PlanAudience.sop_plan_id.in_(plan_ids))
        .order_by(PlanAudience.sop_plan_id, PlanAudience.position, PlanAudience.id))
    for plan_id, branch_id, name, path, segment_id, code, segment_name in rows:
        audience = result[plan_id]
        if branch_id is not None:
            _add_branch(audience, branch_id, name, path)
        else:
            audience.segment_ids.append(segment_id)
            audience.segment_codes.append(code)
            audience.segment_names.append(segment_name)
    return result


def _add_branch(audience: Audience, branch_id: int, name: str, path: str) -> None:
    if branch_id not in audience.branch_ids:
        audience.branch_ids.append(branch_id)
        audience.branch_names.append(name)
        audience.branch_paths.append(path)


def audience_of(plan: SopPlan) -> Audience:
    """The audience of one plan."""
    return audiences([plan.id])[plan.id]


def audience_staff(branch_paths: list[str]) -> list[StaffRow]:
    """Active front-line users in the union of the subtrees of ``branch_paths``, by id, once each.

    One query (an OR of subtree conditions); a user lies in one branch, so overlapping
    subtrees (a branch and one of its sub-branches) never list anyone twice.

    :returns: plain rows (no ORM objects): id, display name, branch name, branch id and
        whether each name carries a valid check-on-save marker (one hash per distinct name);
        ``[]`` without paths.
    """
    if not branch_paths:
        return []
    rows = db.session.execute(
        select(User.id, User.display_name, Branch.name, Branch.id, User.name_check_sha256,
               Branch.name_check_sha256).join(Branch, User.branch_id == Branch.id)
        .where(or_(*[in_subtree(path) for path in sorted(set(branch_paths))]),
               User.role == Role.frontline, User.is_active_account.is_(True))
        .order_by(User.id))
    markers: dict[str, str] = {}

    def checked(value: str, stored: str | None) -> bool:
        if stored is None:
            return False
        if value not in markers:
            markers[value] = name_check_sha256(value)
        return markers[value] == stored

    return [StaffRow(id_, str(name), str(branch or ""), branch_id, checked(str(name), name_mark),
                     checked(str(branch or ""), branch_mark))
            for id_, name, branch, branch_id, name_mark, branch_mark in rows]


def plans_reaching(branch_ids: list[int]) -> ColumnElement[bool]:
    """SQL condition on ``SopPlan``: one of its audience branches is in ``branch_ids``."""
    extra = select(PlanAudience.sop_plan_id).where(PlanAudience.branch_id.in_(branch_ids))
    return or_(SopPlan.branch_id.in_(branch_ids), SopPlan.id.in_(extra))


def check_audience(branch_ids: list[int], segment_ids: list[int],
                   channel: Channel) -> dict[str, str]:
    """Per-field Chinese errors of an audience (empty when it is valid).

    At least one existing branch; segments exist and only with the 群发 channel.
    """
    errors = {}
    if not branch_ids:
        errors["branch_ids"] = "请至少选择一个下发机构"
    elif len(set(db.session.scalars(select(Branch.id).where(Branch.id.in_(branch_ids))))) \
            != len(set(branch_ids)):
        errors["branch_ids"] = "机构不存在"
    if segment_ids:
        if channel is not Channel.mass_message:
            errors["segment_ids"] = "只有群发计划可以按客群筛选客户"
        elif len(set(db.session.scalars(select(Segment.id).where(
                Segment.id.in_(segment_ids))))) != len(set(segment_ids)):
            errors["segment_ids"] = "客群不存在"
    return errors


def set_audience(plan: SopPlan, branch_ids: list[int], segment_ids: list[int]) -> None:
    """Replace the plan's audience: ``branch_ids[0]`` becomes ``branch_id``. Flushes.

    :raises ValidationFailed: no branch (checked by :func:`check_audience` first).
    """
    branch_ids = list(dict.fromkeys(branch_ids))
    if not branch_ids:
        raise ValidationFailed("SOP 计划无效", {"branch_ids": "请至少选择一个下发机构"})
    plan.branch_id = branch_ids[0]
    db.session.flush()
    db.session.execute(delete(PlanAudience).where(PlanAudience.sop_plan_id == plan.id))
    db.session.add_all([PlanAudience(sop_plan_id=plan.id, branch_id=branch_id, position=n)
                        for n, branch_id in enumerate(branch_ids)])
    db.session.add_all([PlanAudience(sop_plan_id=plan.id, segment_id=segment_id,
                                     position=len(branch_ids) + n)
                        for n, segment_id in enumerate(dict.fromkeys(segment_ids))])
    db.session.flush()
