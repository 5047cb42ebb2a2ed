"""A small bank in Zhejiang for the customers tests, and a helper to make a verified add."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from app.org.models import BranchLevel, Role
from tests import factories

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def at(day: int, hour: int = 10, month: int = 4, minute: int = 0) -> dt.datetime:
    """An instant in April 2025, Beijing time."""
    return dt.datetime(2025, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def bank(db):
    """HQ → 杭州分行 (浙江) → two sub-branches; two RMs in the first, one in the second,
    a manager of the first sub-branch; one customer per RM."""
    hq = factories.BranchFactory(code="T-HQ", level=BranchLevel.hq, province_code="33")
    branch = factories.BranchFactory(code="T-HZ", level=BranchLevel.branch, parent=hq,
                                     province_code="33")
    west = factories.BranchFactory(code="T-XH", parent=branch, province_code="33")
    east = factories.BranchFactory(code="T-BJ", parent=branch, province_code="33")
    rm_a = factories.UserFactory(username="t_rm_a", branch=west, role=Role.frontline)
    rm_b = factories.UserFactory(username="t_rm_b", branch=west, role=Role.frontline)
    rm_c = factories.UserFactory(username="t_rm_c", branch=east, role=Role.frontline)
    manager = factories.UserFactory(username="t_mgr", branch=west, role=Role.manager)
    return SimpleNamespace(hq=hq, branch=branch, west=west, east=east, rm_a=rm_a, rm_b=rm_b,
                           rm_c=rm_c, manager=manager)


def verified_add(rm, added_at, *, customer=None, verified_after=dt.timedelta(hours=1),
                 ip_province="33", external_userid=None, segment="mass", **contact):
    """A contact of ``rm`` verified as ``customer`` (a new customer of ``rm`` by default)."""
    if customer is None:
        customer = factories.CustomerFactory(rm=rm, segment=factories.segment(segment))
    kwargs = {"external_userid": external_userid} if external_userid else {}
    add = factories.WecomContactFactory(staff=rm, added_at=added_at, **kwargs, **contact)
    if verified_after is not None:
        factories.VerificationFactory(external_userid=add.external_userid,
                                      customer_ref=customer.customer_ref,
                                      verified_at=added_at + verified_after,
                                      ip_province_code=ip_province)
    return add, customer
