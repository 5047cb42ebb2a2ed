"""The two-sided scorecard 考核看板, computed in SQL from raw tasks and interaction events.

Front office 前台 is measured on process (execution and on-time rates, replies);
middle office 中台 on outcomes (reach, engagement, inquiries, blocks/deletes,
conversions) per content template and SOP plan.

Every number comes from SQL aggregates over raw ``tasks`` and ``interaction_events``
(see ``app.metrics.queries`` for the scope rules and the query shape); this module
enforces who may see which branch subtree and assembles the dataclasses.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from sqlalchemy import select

from app.auth.permissions import Action, can, require, scope
from app.core.errors import NotFound, PermissionDenied
from app.core.extensions import db
from app.metrics.behavior import BehaviorRow, behavior_rows
from app.metrics.customer_measures import CustomerMeasures, customer_measures
from app.metrics.queries import Scope, scorecard_rows
from app.metrics.records import DailyPoint, Scorecard, front_row, middle_row
from app.org.models import Branch, User
from app.org.services import tree_order

logger = logging.getLogger(__name__)

def _daily(rows: list[dict]) -> list[DailyPoint]:
    return [
        DailyPoint(
            run_date=r["run_date"], tasks_assigned=int(r["tasks_assigned"]),
            tasks_done=int(r["tasks_done"]), reach=int(r["reach"]),
            execution_rate=r["execution_rate"], engagement_rate=r["engagement_rate"],
        )
        for r in rows
    ]


def resolve_branch(viewer: User, branch_id: int | None) -> Branch | None:
    """Check that ``viewer`` may read the scorecard of ``branch_id``'s subtree.

    :param viewer: the logged-in user.
    :param branch_id: requested subtree root; ``None`` = the viewer's default (whole bank for
        admin/editor/reviewer, own branch for a manager).
    :returns: the subtree root, or ``None`` for the whole bank.
    :raises PermissionDenied: front-line users, and managers asking outside their subtree.
    :raises NotFound: ``branch_id`` does not exist.
    """
    require(viewer, Action.read_scorecard)
    if branch_id is None:
        return None if scope(viewer).is_whole_bank else viewer.branch
    branch = db.session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("机构不存在")
    if not can(viewer, Action.read_scorecard, branch):
        logger.info("scorecard refused user_id=%s branch_id=%s", viewer.id, branch_id)
        raise PermissionDenied("只能查看本机构及下辖机构的考核数据")
    return branch


def sees_whole_bank(viewer: User) -> bool:
    """True when ``viewer`` may read the whole bank's scorecard (head-office roles)."""
    return can(viewer, Action.read_scorecard) and scope(viewer).is_whole_bank


def branch_choices(viewer: User) -> list[Branch]:
    """Branches ``viewer`` may select, in ``tree_order`` (empty for front-line users)."""
    if not can(viewer, Action.read_scorecard):
        return []
    return tree_order(db.session.scalars(select(Branch).where(scope(viewer).branch_clause())))


def customer_card(viewer: User, branch_id: int | None, start: dt.date,
                  end: dt.date) -> CustomerMeasures:
    """Valid adds, verification rate and coverage of the scorecard's subtree and period.

    :raises PermissionDenied: see ``resolve_branch``.
    :raises NotFound: see ``resolve_branch``.
    """
    return customer_measures(resolve_branch(viewer, branch_id), start, end,
                             current_app.config["ADDS_MONTHLY_TARGET"])


def behavior_card(viewer: User, branch_id: int | None, start: dt.date,
                  end: dt.date) -> list[BehaviorRow]:
    """WeCom-measured communication of the subtree's staff (empty in manual mode).

    :raises PermissionDenied: see ``resolve_branch``.
    :raises NotFound: see ``resolve_branch``.
    """
    branch = resolve_branch(viewer, branch_id)
    return behavior_rows(branch.path if branch else None, start, end)


def daily_only(viewer: User, branch_id: int | None, start: dt.date, end: dt.date) -> Scorecard:
    """Like ``scorecard`` but computes only the daily series (for the chart).

    :returns: a ``Scorecard`` whose tables are empty and ``daily`` is filled.
    :raises PermissionDenied: see ``resolve_branch``.
    :raises NotFound: see ``resolve_branch``.
    """
    branch = resolve_branch(viewer, branch_id)
    scope = Scope(path=branch.path if branch else None, start=start, end=end)
    rows = scorecard_rows(scope, ("day",))
    return Scorecard(
        branch_id=branch.id if branch else None, branch_name=branch.name if branch else "全行",
        start=start, end=end, daily=_daily(rows["day"]),
    )


def scorecard(viewer: User, branch_id: int | None, start: dt.date, end: dt.date) -> Scorecard:
    """Compute both sides of the scorecard for a branch subtree and run-date range.

    :param viewer: the logged-in user (data scope is enforced here).
    :param branch_id: subtree root, ``None`` for the viewer's default scope.
    :param start: first post run date, inclusive (Asia/Shanghai calendar date).
    :param end: last post run date, inclusive.
    :returns: a ``Scorecard`` with front-office rows per branch and staff, middle-office rows
        per template and SOP plan, totals and the daily series.
    :raises PermissionDenied: see ``resolve_branch``.
    :raises NotFound: see ``resolve_branch``.
    """
    branch = resolve_branch(viewer, branch_id)
    scope = Scope(path=branch.path if branch else None, start=start, end=end)
    rows = scorecard_rows(scope)
    logger.debug("scorecard user_id=%s branch_id=%s %s..%s", viewer.id, branch_id, start, end)
    (total,) = rows["total"]
    return Scorecard(
        branch_id=branch.id if branch else None,
        branch_name=branch.name if branch else "全行",
        start=start,
        end=end,
        front_by_branch=[front_row(r, depth_from="sort_key") for r in rows["branch"]],
        front_by_staff=[front_row(r) for r in rows["staff"]],
        front_total=front_row(total),
        middle_by_template=[middle_row(r) for r in rows["template"]],
        middle_by_sop=[middle_row(r) for r in rows["sop"]],
        middle_total=middle_row(total),
        daily=_daily(rows["day"]),
    )
