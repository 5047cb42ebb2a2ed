"""Which wording 措辞 of a template each staff member receives on a run date.

Deterministic by staff id and rotating by day: within each branch (the staff member's own
sub-branch), staff are ranked by id, and on run date ``D`` the staff member of rank ``r``
gets wording ``(r + D.toordinal()) mod n``. So

- the staff of one sub-branch spread evenly over the ``n`` wordings (their counts differ by
  at most one; no two of them share a wording when the sub-branch has at most ``n`` staff),
  which plain ``staff_id mod n`` cannot promise because the ids of a sub-branch are rarely
  consecutive;
- a re-run of the same date gives everyone the same wording again (tasks are idempotent);
- each staff member moves to the next wording the next day, so their customers do not read
  the same wording every day.

A staff member joining or leaving a sub-branch shifts the ranks after them from the next
run on; tasks already created keep their wording.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import groupby
from typing import Protocol

from app.broadcasts.plan_texts import (
    PlanSkipped,
    PlanTexts,
    RuleTarget,
    StaffRow,
    ValueChecker,
    render_plan_texts,
)
from app.content.variants import variant_label


class _Staff(Protocol):
    id: int
    branch_id: int


def assign_variants(staff: Sequence[_Staff], count: int, run_date: dt.date) -> list[int]:
    """The wording of each staff member on ``run_date``, in ``staff`` order.

    :param staff: rows with ``id`` and ``branch_id`` (e.g. ``plan_texts.StaffRow``).
    :param count: number of wordings of the template version (≥ 1).
    :param run_date: the run date (its ordinal rotates the wordings by one each day).
    :returns: one variant number in ``range(count)`` per staff member.
    :raises ValueError: ``count`` < 1.
    """
    if count < 1:
        raise ValueError("a template version has at least one wording")
    if count == 1:
        return [0] * len(staff)
    shift = run_date.toordinal()
    variant_of: dict[int, int] = {}
    ordered = sorted(staff, key=lambda row: (row.branch_id, row.id))
    for _, members in groupby(ordered, key=lambda row: row.branch_id):
        for rank, row in enumerate(members):
            variant_of[row.id] = (rank + shift) % count
    return [variant_of[row.id] for row in staff]


def render_variants(bodies: Sequence[str], target: RuleTarget, context: dict,
                    staff: list[StaffRow], checker: ValueChecker,
                    run_date: dt.date) -> list[PlanTexts | None]:
    """Render and check each wording once, for the staff assigned to it on ``run_date``.

    :param bodies: the wordings of the approved version, variant 0 first.
    :returns: one :class:`PlanTexts` per wording, index = variant number; ``None`` for a
        wording nobody receives today (fewer staff than wordings).
    :raises PlanSkipped: from :func:`render_plan_texts`, the reason prefixed with the
        wording (「措辞 2：合规检查未通过：…」) when there are several.
    """
    assigned = assign_variants(staff, len(bodies), run_date)
    texts: list[PlanTexts | None] = []
    for variant, body in enumerate(bodies):
        members = [row for row, got in zip(staff, assigned, strict=True) if got == variant]
        if not members:
            texts.append(None)
            continue
        try:
            texts.append(render_plan_texts(body, target, context, members, checker))
        except PlanSkipped as skipped:
            if len(bodies) > 1:
                skipped.reason = f"{variant_label(variant)}：{skipped.reason}"
            raise
    return texts
