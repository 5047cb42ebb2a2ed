"""Customer-segment targeting of 群发: which of a staff member's contacts a plan may reach.

A 群发 plan whose audience lists customer segments (``plan_audience``) sends each staff
member's mass message only to the contacts of that staff member (still followed) that
real-name verification links to a customer in one of those segments who has not refused
marketing (``customers.marketing_opt_out``). A few queries per push row (the plan's
audience, then the contacts), answered from the indexes on ``wecom_contacts (staff_id, …)``,
``verifications`` and ``customers``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.broadcasts.audience import audiences
from app.broadcasts.models import SopPlan
from app.broadcasts.welcome import contacts_to_welcome, is_welcome
from app.core.extensions import db
from app.customers.models import Customer, Verification, WecomContact


def recipients(plan: SopPlan, staff_id: int, run_date: dt.date) -> list[str] | None:
    """The customers one staff member's 群发 of ``plan`` on ``run_date`` goes to.

    :returns: ``None`` = all the staff member's customers; else the ``external_userid``s of
        the contacts in the plan's segments and, for an ``after-add`` welcome plan, only
        those the staff member added on the welcomed date (``app.broadcasts.welcome``).
    """
    segment_ids = audiences([plan.id])[plan.id].segment_ids
    chosen = None
    if segment_ids:
        chosen = segment_recipients(staff_id, segment_ids)
    if is_welcome(plan.schedule):
        added = contacts_to_welcome(plan.schedule, plan.timezone, run_date, staff_id)
        chosen = added if chosen is None else sorted(set(added) & set(chosen))
    return chosen


def segment_recipients(staff_id: int, segment_ids: list[int]) -> list[str]:
    """``external_userid``s of the staff member's current contacts in ``segment_ids``.

    :param staff_id: the sending staff member (``users.id``).
    :param segment_ids: customer segments (``segments.id``), not empty.
    :returns: distinct external ids, sorted; opted-out customers and removed contacts left out.
    """
    rows = db.session.scalars(
        select(WecomContact.external_userid).distinct()
        .join(Verification, Verification.external_userid == WecomContact.external_userid)
        .join(Customer, Customer.customer_ref == Verification.customer_ref)
        .where(WecomContact.staff_id == staff_id, WecomContact.removed_at.is_(None),
               Customer.segment_id.in_(segment_ids), Customer.marketing_opt_out.is_(False))
        .order_by(WecomContact.external_userid))
    return list(rows)
