"""Customers pages: data scope (an RM sees only their own customers, a manager only their
subtree), the heat map, the drill-down with evidence, and the import upload flow."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from app.auth.permissions import DataScope
from app.core.storage import storage
from app.customers.models import Customer, ImportJob, ImportStatus
from app.metrics.customer_measures import adds_target
from app.org.models import Role, User
from tests import factories
from tests.customers.conftest import at, verified_add


@pytest.fixture(autouse=True)
def pinned_date(app, monkeypatch):
    monkeypatch.setitem(app.config, "BUSINESS_DATE", "2025-04-25")


@pytest.fixture
def book(bank, db):
    """Committed (only a savepoint: the test's outer transaction still rolls back), so the
    rollback of a request that answers 403 or 404 keeps these rows."""
    mine = factories.CustomerFactory(rm=bank.rm_a, customer_ref="MINE-1",
                                     segment=factories.segment("private"), aum_cny=7_000_000)
    verified_add(bank.rm_a, at(2), customer=factories.CustomerFactory(rm=bank.rm_a,
                                                                        customer_ref="MINE-2"))
    theirs = factories.CustomerFactory(rm=bank.rm_c, customer_ref="THEIRS-1")
    factories.WecomContactFactory(staff=bank.rm_c, added_at=at(3), contact_type=2,
                                  corp_name="某某农商银行", external_userid="wmCROSS")
    db.session.commit()
    return mine, theirs


def test_rm_sees_only_their_own_customers(bank, book, client, login_as):
    login_as(bank.rm_a)
    page = client.get("/customers/mine")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "MINE-1" in html and "600万以上" in html and "私行" in html
    assert "MINE-2" not in html  # covered: not on the follow-up list
    assert "THEIRS-1" not in html and "wmCROSS" not in html
    assert client.get("/customers/coverage").status_code == 403
    assert client.get(f"/customers/staff/{bank.rm_c.id}").status_code == 403


def test_manager_sees_only_their_subtree(bank, book, client, login_as):
    login_as(bank.manager)  # manager of 西湖 (T-XH): rm_a and rm_b, not rm_c in 滨江
    page = client.get("/customers/coverage").get_data(as_text=True)
    assert bank.rm_a.display_name in page and bank.rm_c.display_name not in page
    assert client.get(f"/customers/coverage?branch_id={bank.east.id}").status_code == 403
    assert client.get(f"/customers/coverage?branch_id={bank.branch.id}").status_code == 403
    assert client.get(f"/customers/staff/{bank.rm_c.id}").status_code == 404
    assert client.get(f"/customers/staff/{bank.rm_a.id}").status_code == 200


def test_branch_manager_drills_down_to_a_flagged_add_with_evidence(bank, book, client, login_as):
    manager = factories.UserFactory(role=Role.manager, branch=bank.branch)
    login_as(manager)
    page = client.get(f"/customers/coverage?branch_id={bank.branch.id}").get_data(as_text=True)
    assert bank.rm_c.display_name in page and "客群" in page
    assert f"/customers/staff/{bank.rm_c.id}" in page
    staff = client.get(f"/customers/staff/{bank.rm_c.id}").get_data(as_text=True)
    assert "wmCROSS" in staff and "跨行互加" in staff and "某某农商银行" in staff
    assert "未在宽限期内完成实名认证" in staff
    chart = client.get(f"/customers/coverage/heatmap.png?branch_id={bank.branch.id}")
    assert chart.status_code == 200 and chart.data.startswith(b"\x89PNG")
    assert "/customers/coverage/trend.png" in page
    trend = client.get(f"/customers/coverage/trend.png?branch_id={bank.branch.id}")
    assert trend.status_code == 200 and trend.data.startswith(b"\x89PNG")
    assert client.get(f"/customers/coverage/trend.png?branch_id={bank.hq.id}").status_code == 403


def test_rm_sees_the_trend_of_their_coverage(bank, book, client, login_as):
    from app.customers.snapshots import take_snapshot

    take_snapshot(dt.date(2025, 4, 24))
    login_as(bank.rm_a)
    assert "/customers/mine/trend.png" in client.get("/customers/mine").get_data(as_text=True)
    chart = client.get("/customers/mine/trend.png")
    assert chart.status_code == 200 and chart.data.startswith(b"\x89PNG")


def test_admin_uploads_previews_confirms_and_sees_the_result(bank, client, login_as, db):
    login_as("admin")
    content = ("客户号,客户经理,客群,是否本行开户,省份,AUM\n"
               "UP-1,t_rm_a,私行,是,浙江,100\nUP-2,nobody,私行,是,浙江,100\n").encode("gbk")
    response = client.post("/customers/imports", data={
        "kind": "customers", "file": (io.BytesIO(content), "客户.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    preview = client.get(preview_url).get_data(as_text=True)
    assert "UP-1" in preview and "确认导入" in preview
    assert db.session.scalar(select(Customer).where(Customer.customer_ref == "UP-1")) is None
    job_id = int(preview_url.rsplit("/", 1)[1])
    job = db.session.get(ImportJob, job_id)
    assert (job.status, job.kind, job.filename) == (ImportStatus.uploaded, "customers", "客户.csv")
    assert storage("imports").get(job.storage_key) == content  # not a file of the web node
    done = client.post("/customers/imports/confirm", data={"job_id": str(job_id)})
    assert done.status_code == 302
    result = client.get(preview_url).get_data(as_text=True)
    assert "导入完成" in result and "客户经理不存在：nobody" in result
    assert db.session.scalar(select(Customer).where(Customer.customer_ref == "UP-1")) is not None
    db.session.refresh(job)
    assert (job.status, job.imported, job.error_count) == (ImportStatus.done, 1, 1)
    assert job.errors == [{"line": 3, "message": "客户经理不存在：nobody"}]
    again = client.post("/customers/imports/confirm", data={"job_id": str(job_id)})
    assert again.status_code == 302  # a second confirm runs nothing
    db.session.refresh(job)
    assert job.imported == 1
    assert "客户.csv" in client.get("/customers/imports").get_data(as_text=True)


def test_an_unreadable_upload_fails_and_writes_nothing(bank, client, login_as, db):
    login_as("admin")
    response = client.post("/customers/imports", data={
        "kind": "contacts", "file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
        content_type="multipart/form-data")
    preview_url = response.headers["Location"]
    assert "文件无法读取" in client.get(preview_url).get_data(as_text=True)
    job_id = preview_url.rsplit("/", 1)[1]
    client.post("/customers/imports/confirm", data={"job_id": job_id})
    job = db.session.get(ImportJob, int(job_id))
    db.session.refresh(job)
    assert job.status is ImportStatus.failed and "无法识别表头" in job.message
    assert "无法识别表头" in client.get(preview_url).get_data(as_text=True)


def test_upload_refuses_other_files_and_unknown_ids(bank, client, login_as, db):
    admin = factories.UserFactory(role=Role.admin)
    db.session.commit()  # survives the rollback of the refused requests
    login_as(admin)
    response = client.post("/customers/imports", data={
        "kind": "customers", "file": (io.BytesIO(b"MZ\x00"), "x.exe")},
        content_type="multipart/form-data")
    assert response.status_code == 422 and "只支持 CSV 或 XLSX" in response.get_data(as_text=True)
    assert client.get("/customers/imports/999999").status_code == 404
    assert client.get("/customers/imports/../../etc").status_code == 404
    assert client.post("/customers/imports/confirm", data={"job_id": "../x"}).status_code == 302


def test_scorecard_shows_valid_adds_coverage_and_verification_rate(bank, book, client, login_as):
    manager = factories.UserFactory(role=Role.manager, branch=bank.branch)
    login_as(manager)
    page = client.get("/metrics/scorecard?period=monthly&end=2025-04-25").get_data(as_text=True)
    section = page[page.index('id="scorecard-customers"'):page.index('id="middle-title"')]
    # 2 adds (one verified own first add, one cross-bank unverified): 1 valid, 50 % verified
    assert "有效添加 <strong>1</strong> / 添加 2" in section
    assert "添加认证率 <strong>50.0%</strong>" in section
    # 3 front-line staff in the subtree, 50 valid adds each per month, April month to date
    # (25 of 30 days): 125 asked, 1 valid = 0.8 %
    assert '本期目标 <span id="adds-target">125</span>' in section
    assert "目标完成 <strong>0.8%</strong>" in section
    assert "私行" in section and "普通" in section


def test_the_adds_target_is_prorated_per_period_and_counts_active_frontline_staff(bank, db):
    everyone = DataScope(is_whole_bank=True).staff_clause
    day, week = (dt.date(2025, 4, 25),) * 2, (dt.date(2025, 4, 21), dt.date(2025, 4, 27))
    frontline = db.session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.frontline, User.is_active_account.is_(True)))
    assert adds_target(everyone, *day, 30) == pytest.approx(frontline * 30 / 30)
    assert adds_target(everyone, *week, 30) == pytest.approx(frontline * 30 * 7 / 30)
    assert adds_target(everyone, dt.date(2025, 2, 1), dt.date(2025, 2, 28), 40) \
        == pytest.approx(frontline * 40)  # a whole month is the monthly target
    bank.rm_c.is_active_account = False
    db.session.flush()
    assert adds_target(everyone, *day, 30) == pytest.approx(frontline - 1)
    assert adds_target(everyone, *day, 0) is None
    across = adds_target(everyone, dt.date(2025, 4, 28), dt.date(2025, 5, 4), 30)
    assert across == pytest.approx((frontline - 1) * 30 * (3 / 30 + 4 / 31))  # Apr + May days
