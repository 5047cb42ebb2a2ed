"""Customer-segment targeting of 群发: which of a staff member's contacts a plan may reach.

A 群发 plan whose audience lists customer segments (``plan_audience``) sends each staff
member's mass message only to the contacts of that staff member (still followed) that
real-name verification links to a customer in one of those segments who has not refused
marketing (``customers.marketing_opt_out``). One query per push row, answered from the
indexes on ``wecom_contacts (staff_id, …)``, ``verifications`` and ``customers``.
"""

from __future__ import annotations

from sqlalchemy import select

from app.broadcasts.audience import audiences
from app.core.extensions import db
from app.customers.models import Customer, Verification, WecomContact


def plan_segment_ids(plan_id: int) -> list[int]:
    """Segment ids of the plan's audience (``[]``: every customer of the staff member)."""
    return audiences([plan_id])[plan_id].segment_ids


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
