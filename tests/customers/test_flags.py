"""Gaming flags: each flag with its evidence, and precision/recall on the labelled synthetic
population of ``flask demo adds``."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict

import pytest

from app.customers.adds import add_details
from app.customers.flags import FLAG_LABELS, flag_adds
from app.customers.imports import import_file
from app.demo.synthetic_adds import LABELS
from tests import factories
from tests.customers.conftest import at, verified_add

APRIL = (dt.date(2025, 4, 1), dt.date(2025, 4, 30))


def _flags(rm):
    adds = flag_adds(add_details(*APRIL, lambda column: column == rm.id))
    return {a.external_userid: {f.code: f for f in a.flags} for a in adds}


def test_cross_bank_and_own_corp_contacts(bank):
    other = factories.WecomContactFactory(staff=bank.rm_a, added_at=at(3), contact_type=2,
                                          corp_name="某某农商银行")
    own = factories.WecomContactFactory(staff=bank.rm_a, added_at=at(4), contact_type=2,
                                        corp_name="示例银行")
    company = factories.WecomContactFactory(staff=bank.rm_a, added_at=at(5), contact_type=2,
                                            corp_name="杭州云栖科技有限公司")
    flags = _flags(bank.rm_a)
    assert set(flags[other.external_userid]) == {"cross_bank"}
    assert flags[other.external_userid]["cross_bank"].evidence == [
        {"外部联系人": other.external_userid, "联系人类型": "企业微信用户",
         "企业名称": "某某农商银行", "添加时间": "2025-04-03 10:00"}]
    assert set(flags[own.external_userid]) == {"colleague"}
    assert flags[company.external_userid] == {}


def test_re_add_after_a_delete_shows_the_earlier_relationship(bank):
    first, _ = verified_add(bank.rm_a, at(2), removed_at=at(4, 9))
    factories.WecomContactFactory(staff=bank.rm_a, external_userid=first.external_userid,
                                  added_at=at(9))
    adds = flag_adds(add_details(*APRIL, lambda column: column == bank.rm_a.id))
    assert [[f.code for f in a.flags] for a in adds] == [[], ["re_add"]]
    assert adds[1].flags[0].evidence == [
        {"员工": "t_rm_a", "添加时间": "2025-04-02 10:00", "删除时间": "2025-04-04 09:00"}]
    assert adds[1].flags[0].label == FLAG_LABELS["re_add"]


def test_a_contact_followed_by_many_staff_is_a_colleague(bank):
    staff = [bank.rm_a, bank.rm_b, bank.rm_c, factories.UserFactory(branch=bank.east)]
    for i, rm in enumerate(staff):
        factories.WecomContactFactory(staff=rm, external_userid="wmCOLLEAGUE", added_at=at(2 + i))
    flags = _flags(bank.rm_a)["wmCOLLEAGUE"]
    assert set(flags) == {"colleague"} and len(flags["colleague"].evidence) == 4
    three = [bank.rm_a, bank.rm_b, bank.rm_c]
    for i, rm in enumerate(three):
        factories.WecomContactFactory(staff=rm, external_userid="wmFAMILY", added_at=at(2 + i))
    assert _flags(bank.rm_a)["wmFAMILY"] == {}


def test_a_burst_of_unverified_adds_is_flagged_but_a_verified_event_is_not(bank):
    burst = [factories.WecomContactFactory(staff=bank.rm_a, added_at=at(7, 20, minute=3 * i))
             for i in range(9)]
    for i in range(12):  # a branch event: a dozen customers in an hour, all verified
        verified_add(bank.rm_b, at(8, 10, minute=4 * i))
    flags_a, flags_b = _flags(bank.rm_a), _flags(bank.rm_b)
    assert all(set(flags_a[c.external_userid]) == {"bought_followers"} for c in burst)
    evidence = flags_a[burst[0].external_userid]["bought_followers"].evidence
    assert evidence[0]["添加数"] == "9" and evidence[0]["未认证或非客户"] == "9"
    assert all(flags == {} for flags in flags_b.values())


def test_adds_report_details_list_the_flag_codes(bank, runner):
    factories.WecomContactFactory(staff=bank.rm_a, added_at=at(3), contact_type=2,
                                  corp_name="某某农商银行")
    result = runner.invoke(args=["adds", "report", "--from", "2025-04-01", "--to", "2025-04-30",
                                 "--staff", "t_rm_a", "--details"])
    (add,) = json.loads(result.output)["adds"]
    assert (add["flags"], add["reasons"]) == (["cross_bank"], ["not_verified"])


@pytest.fixture
def synthetic(runner, tmp_path, db):
    out = tmp_path / "synthetic"
    result = runner.invoke(args=["demo", "adds", "--staff", "40", "--seed", "7",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["synthetic"] is True
    for kind in ("customers", "contacts", "verifications"):
        assert import_file(kind, out / f"{kind}.csv").errors == []
    return out


def test_flags_precision_and_recall_on_the_synthetic_population(synthetic, capsys):
    from sqlalchemy import select

    from app.auth.permissions import DataScope
    from app.core.extensions import db
    from app.org.models import Branch

    branch = db.session.scalar(select(Branch).where(Branch.code == "SYN"))
    adds = flag_adds(add_details(*APRIL, DataScope(branch_path=branch.path).staff_clause))
    with (synthetic / "labels.csv").open(encoding="utf-8") as handle:
        labelled = {(r["staff"], r["external_userid"], r["add_time"]): r["label"]
                    for r in csv.DictReader(handle)}
    flagged = defaultdict(set)
    for add in adds:
        key = (add.staff, add.external_userid, add.added_at.astimezone(
            dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S"))
        assert key in labelled
        for flag in add.flags:
            flagged[flag.code].add(key)
    assert len(adds) == len(labelled)
    report = {}
    for code in LABELS:
        truth = {key for key, label in labelled.items() if label == code}
        hits = flagged[code] & truth
        report[code] = (len(truth), len(flagged[code]), len(hits) / len(truth),
                        1 - len(hits) / len(flagged[code]) if flagged[code] else 0.0)
    with capsys.disabled():
        print("\nflag               labelled flagged  recall  false flags")
        for code, (n, f, recall, false) in report.items():
            print(f"{code:<18} {n:>8} {f:>7}  {recall:6.1%}  {false:6.1%}")
    for code, (n, _, recall, false) in report.items():
        assert n >= 5, code  # every kind of gaming is present
        assert recall >= 0.95, (code, report[code])
        assert false < 0.05, (code, report[code])
