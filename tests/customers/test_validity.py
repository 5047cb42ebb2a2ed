"""Valid adds: each rule, each reason code, the province-quota boundary, reassignment."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from app.customers.adds import add_details, staff_summary
from app.customers.models import CustomerOwnership
from app.customers.validity import REASONS, AddRules
from app.customers.writers import ImportContext, write_customers
from tests import factories
from tests.customers.conftest import at, verified_add

APRIL = (dt.date(2025, 4, 1), dt.date(2025, 4, 30))


def _only(rm):
    return lambda column: column == rm.id


def _reasons(rm, rules=None, period=APRIL):
    return {a.external_userid: a.reasons for a in add_details(*period, _only(rm), rules)}


def test_a_verified_first_add_of_an_own_customer_is_valid(bank):
    add, _ = verified_add(bank.rm_a, at(10))
    details = add_details(*APRIL, _only(bank.rm_a))
    assert [(d.external_userid, d.valid, d.reasons) for d in details] == [
        (add.external_userid, True, [])]
    (summary,) = staff_summary(*APRIL, _only(bank.rm_a))
    assert (summary.staff, summary.adds, summary.valid_adds) == ("t_rm_a", 1, 1)
    assert summary.invalid == dict.fromkeys(REASONS, 0)


def test_not_verified_without_a_record_or_after_the_grace(bank):
    missing, _ = verified_add(bank.rm_a, at(10), verified_after=None)
    late, _ = verified_add(bank.rm_a, at(11), verified_after=dt.timedelta(days=7, seconds=60))
    in_time, _ = verified_add(bank.rm_a, at(12), verified_after=dt.timedelta(days=6, hours=23))
    reasons = _reasons(bank.rm_a)
    assert reasons[missing.external_userid] == ["not_verified"]
    assert reasons[late.external_userid] == ["not_verified"]
    assert reasons[in_time.external_userid] == []


def test_grace_is_configurable(bank):
    add, _ = verified_add(bank.rm_a, at(10), verified_after=dt.timedelta(days=3))
    assert _reasons(bank.rm_a, AddRules(grace_days=2))[add.external_userid] == ["not_verified"]
    assert _reasons(bank.rm_a, AddRules(grace_days=3))[add.external_userid] == []


def test_not_customer_when_the_verified_id_is_not_in_the_book(bank):
    add = factories.WecomContactFactory(staff=bank.rm_a, added_at=at(10))
    factories.VerificationFactory(external_userid=add.external_userid, customer_ref="NOPE",
                                  verified_at=at(10, 12))
    assert _reasons(bank.rm_a)[add.external_userid] == ["not_customer"]


def test_no_account(bank):
    customer = factories.CustomerFactory(rm=bank.rm_a, has_account=False)
    add, _ = verified_add(bank.rm_a, at(10), customer=customer)
    assert _reasons(bank.rm_a)[add.external_userid] == ["no_account"]


def test_not_own_customer_and_not_first_add_together(bank):
    customer = factories.CustomerFactory(rm=bank.rm_b)
    first, _ = verified_add(bank.rm_b, at(5), customer=customer)
    again, _ = verified_add(bank.rm_a, at(10), customer=customer,
                            external_userid=first.external_userid)
    assert _reasons(bank.rm_b)[first.external_userid] == []
    assert _reasons(bank.rm_a)[again.external_userid] == ["not_own_customer", "not_first_add"]
    (summary,) = staff_summary(*APRIL, _only(bank.rm_a))
    assert summary.valid_adds == 0
    assert summary.invalid["not_own_customer"] == summary.invalid["not_first_add"] == 1


def test_a_re_add_after_a_delete_is_not_a_first_add(bank):
    first, customer = verified_add(bank.rm_a, at(2), removed_at=at(3))
    factories.WecomContactFactory(staff=bank.rm_a, external_userid=first.external_userid,
                                  added_at=at(9))
    details = add_details(*APRIL, _only(bank.rm_a))
    assert [(d.added_at, d.reasons) for d in details] == [
        (at(2), []), (at(9), ["not_first_add"])]


def test_an_earlier_add_of_another_wechat_account_of_the_same_customer(bank):
    _, customer = verified_add(bank.rm_a, at(2))
    second, _ = verified_add(bank.rm_a, at(9), customer=customer)
    assert _reasons(bank.rm_a)[second.external_userid] == ["not_first_add"]


def test_an_earlier_add_before_the_period_still_counts(bank):
    first, customer = verified_add(bank.rm_a, at(20, month=3))
    again, _ = verified_add(bank.rm_a, at(9), customer=customer,
                            external_userid=first.external_userid)
    assert _reasons(bank.rm_a)[again.external_userid] == ["not_first_add"]


@pytest.mark.parametrize(("passing", "out", "allowed"), [(10, 3, 2), (9, 2, 1), (5, 1, 1),
                                                         (4, 1, 0), (15, 3, 3)])
def test_province_quota_boundary_earliest_first(bank, passing, out, allowed):
    """floor(20 % × adds passing rules 1-4) out-of-province adds stay valid, earliest first."""
    out_adds = [verified_add(bank.rm_a, at(1 + i), ip_province="44")[0] for i in range(out)]
    for i in range(passing - out):
        verified_add(bank.rm_a, at(10 + i))
    reasons = _reasons(bank.rm_a)
    assert [reasons[a.external_userid] for a in out_adds] == (
        [[]] * allowed + [["out_of_province"]] * (out - allowed))
    (summary,) = staff_summary(*APRIL, _only(bank.rm_a))
    assert summary.valid_adds == passing - (out - allowed)


def test_province_quota_counts_only_adds_passing_the_other_rules(bank):
    """Invalid adds do not raise the quota: 5 passing (one out of province) + 5 unverified."""
    out_add, _ = verified_add(bank.rm_a, at(1), ip_province="44")
    for i in range(4):
        verified_add(bank.rm_a, at(2 + i))
    for i in range(5):
        verified_add(bank.rm_a, at(10 + i), verified_after=None)
    assert _reasons(bank.rm_a)[out_add.external_userid] == []  # floor(0.2 × 5) = 1
    out_two, _ = verified_add(bank.rm_a, at(20), ip_province="44")
    assert _reasons(bank.rm_a)[out_two.external_userid] == ["out_of_province"]


def test_province_quota_is_per_calendar_month_and_counts_the_whole_month(bank):
    march_out, _ = verified_add(bank.rm_a, at(28, month=3), ip_province="44")
    april_out, _ = verified_add(bank.rm_a, at(1), ip_province="44")
    for i in range(4):
        verified_add(bank.rm_a, at(20 + i))
    # March alone: 1 passing → quota 0. April: 5 passing → quota 1, even for a report of 1 April.
    march = (dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    assert _reasons(bank.rm_a, period=march)[march_out.external_userid] == ["out_of_province"]
    first_day = (dt.date(2025, 4, 1), dt.date(2025, 4, 1))
    assert _reasons(bank.rm_a, period=first_day) == {april_out.external_userid: []}


def test_provinces_compare_as_provinces_not_strings(bank, tmp_path, app):
    """The IP province of a verification written 'Zhejiang' is the branch's 浙江省."""
    add = factories.WecomContactFactory(staff=bank.rm_a, added_at=at(1))
    customer = factories.CustomerFactory(rm=bank.rm_a)
    path = tmp_path / "v.csv"
    path.write_text("external_userid,customer_id,method,verified_at,ip_province\n"
                    f"{add.external_userid},{customer.customer_ref},app,2025-04-01 11:00,"
                    "Zhejiang Province\n", encoding="utf-8")
    from app.customers.imports import import_file

    assert import_file("verifications", path).imported == 1
    for i in range(4):  # quota floor(0.2 × 5) = 1 would allow one; it must not be needed
        verified_add(bank.rm_a, at(2 + i), ip_province="44")
    reasons = _reasons(bank.rm_a)
    assert reasons[add.external_userid] == []
    assert sorted(map(tuple, reasons.values())) == [(), (), ("out_of_province",),
                                                    ("out_of_province",), ("out_of_province",)]


def test_rules_left_out_of_config_do_not_apply(bank):
    add, _ = verified_add(bank.rm_a, at(10), verified_after=None)
    rules = AddRules(enabled=frozenset({"customer", "own", "first", "province"}))
    assert _reasons(bank.rm_a, rules)[add.external_userid] == []


def test_reassignment_keeps_who_owned_the_customer_when(bank, db):
    """Imported to rm_a, moved to rm_b on 15 April: adds are judged by the owner at add time."""
    errors = []
    record = {"customer_ref": "MOVE-1", "rm": "t_rm_a", "segment": "vip", "has_account": True,
              "province_code": "33", "aum_cny": 5}
    context = ImportContext(effective_at=at(1), error=lambda line, msg: errors.append(msg))
    assert write_customers([(2, record)], context).imported == 1
    moved = ImportContext(effective_at=at(15), error=lambda line, msg: errors.append(msg))
    assert write_customers([(2, {**record, "rm": "t_rm_b"})], moved).updated == 1
    assert errors == []
    history = db.session.query(CustomerOwnership).order_by(CustomerOwnership.id).all()
    mine = [(o.rm_id, o.valid_from, o.valid_to) for o in history[-2:]]
    assert mine == [(bank.rm_a.id, None, at(15)), (bank.rm_b.id, at(15), None)]
    from app.customers.models import Customer

    customer = db.session.query(Customer).filter_by(customer_ref="MOVE-1").one()
    by_a, _ = verified_add(bank.rm_a, at(10), customer=customer)
    by_b_early, _ = verified_add(bank.rm_b, at(12), customer=customer)
    by_b_late, _ = verified_add(bank.rm_b, at(20), customer=customer)
    assert _reasons(bank.rm_a)[by_a.external_userid] == []
    reasons_b = _reasons(bank.rm_b)
    assert reasons_b[by_b_early.external_userid] == ["not_own_customer", "not_first_add"]
    assert reasons_b[by_b_late.external_userid] == ["not_first_add"]


def test_adds_report_cli(bank, runner):
    good, _ = verified_add(bank.rm_a, at(10))
    bad, _ = verified_add(bank.rm_c, at(11), verified_after=None)
    result = runner.invoke(args=["adds", "report", "--from", "2025-04-01", "--to", "2025-04-30",
                                 "--branch", "T-HZ", "--details"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["staff"] == [
        {"staff": "t_rm_a", "adds": 1, "valid_adds": 1, "invalid": dict.fromkeys(REASONS, 0)},
        {"staff": "t_rm_c", "adds": 1, "valid_adds": 0,
         "invalid": {**dict.fromkeys(REASONS, 0), "not_verified": 1}},
    ]
    assert payload["adds"] == [
        {"external_userid": good.external_userid, "staff": "t_rm_a",
         "add_time": "2025-04-10T10:00:00+08:00", "valid": True, "reasons": [], "flags": []},
        {"external_userid": bad.external_userid, "staff": "t_rm_c",
         "add_time": "2025-04-11T10:00:00+08:00", "valid": False, "reasons": ["not_verified"],
         "flags": []},
    ]
    only_c = runner.invoke(args=["adds", "report", "--from", "2025-04-11", "--to", "2025-04-11",
                                 "--staff", "t_rm_c"])
    assert json.loads(only_c.output) == {"staff": [payload["staff"][1]]}
    west = runner.invoke(args=["adds", "report", "--from", "2025-04-01", "--to", "2025-04-30",
                               "--branch", "T-XH"])
    assert [s["staff"] for s in json.loads(west.output)["staff"]] == ["t_rm_a"]
    unknown = runner.invoke(args=["adds", "report", "--from", "2025-04-01", "--to", "2025-04-30",
                                  "--branch", "NOPE"])
    assert unknown.exit_code == 1
