"""Imports: every dialect (BOM, GBK, GB18030, XLSX, Chinese headers), bad rows, formula-looking
cells, re-imports, batches, and the CLI's JSON and exit codes."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select

from app.customers.files import UnreadableFile
from app.customers.imports import import_file, preview_file
from app.customers.models import Customer, CustomerOwnership, Verification, WecomContact
from tests import factories
from tests.customers.conftest import at

CANONICAL = "customer_id,rm,segment,has_account,province,aum_cny\n"
CHINESE = "客户号,客户经理,客群,是否本行开户,省份,AUM\n"


def _customers(db):
    return {c.customer_ref: c for c in db.session.scalars(select(Customer))}


@pytest.fixture
def rms(bank):
    return bank


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_customers_in_every_encoding_with_chinese_headers(db, rms, tmp_path, encoding):
    path = tmp_path / f"book-{encoding}.csv"
    path.write_bytes((CHINESE + "C1,t_rm_a,私行,是,浙江省,1200000\n"
                      "C2,t_rm_a,贵宾,否,广东,\"3,500.50\"\n"
                      "C3,t_rm_b,代发,Y,,0\n").encode(encoding))
    result = import_file("customers", path)
    assert result.as_dict() == {"imported": 3, "updated": 0, "unchanged": 0, "errors": []}
    book = _customers(db)
    assert (book["C1"].segment.code, book["C1"].has_account, book["C1"].province_code,
            book["C1"].aum_cny) == ("private", True, "33", Decimal("1200000.00"))
    assert (book["C2"].segment.code, book["C2"].has_account, book["C2"].province_code,
            book["C2"].aum_cny) == ("vip", False, "44", Decimal("3500.50"))
    assert (book["C3"].segment.code, book["C3"].rm_id, book["C3"].province_code) == (
        "payroll", rms.rm_b.id, None)


def test_canonical_headers_and_every_has_account_spelling(db, rms, tmp_path):
    path = tmp_path / "book.csv"
    rows = [f"H{i},t_rm_a,mass,{flag},,1" for i, flag in
            enumerate(["是", "否", "Y", "n", "1", "0", "true", "FALSE"])]
    path.write_text(CANONICAL + "\n".join(rows) + "\n", encoding="utf-8")
    assert import_file("customers", path).imported == 8
    book = _customers(db)
    assert [book[f"H{i}"].has_account for i in range(8)] == [True, False] * 4


def test_bad_rows_are_listed_with_their_line_numbers_and_good_rows_kept(db, rms, tmp_path):
    path = tmp_path / "book.csv"
    path.write_text(CANONICAL
                    + "OK1,t_rm_a,mass,1,,10\n"
                    + "BAD1,nobody,mass,1,,10\n"           # line 3: unknown RM
                    + '"OK2",t_rm_a,vip,1,,"1\n000"\n'    # lines 4-5: a quoted newline
                    + "BAD2,t_rm_a,gold,1,,10\n"           # line 6: unknown segment
                    + "BAD3,t_rm_a,mass,maybe,,10\n"       # line 7
                    + "BAD4,t_rm_a,mass,1,火星,10\n"         # line 8: no such province
                    + "BAD5,t_rm_a,mass,1,,-10\n"          # line 9: negative AUM
                    + ",t_rm_a,mass,1,,1\n"                # line 10: no customer id
                    + "\n"
                    + "OK3,t_rm_b,mass,0,上海市,0\n",        # line 12
                    encoding="utf-8")
    result = import_file("customers", path)
    assert [e["line"] for e in result.errors] == [3, 4, 6, 7, 8, 9, 10]
    assert "客户经理不存在：nobody" in result.errors[0]["message"]
    assert "客群无效：gold" in result.errors[2]["message"]
    assert result.imported == 2 and set(_customers(db)) == {"OK1", "OK3"}


def test_formula_looking_cells_are_plain_data(db, rms, tmp_path):
    path = tmp_path / "book.csv"
    path.write_text(CANONICAL + "=1+1,t_rm_a,mass,1,,1\n+86,t_rm_a,mass,1,,1\n"
                    "-5,t_rm_a,mass,1,,1\n@SUM(A1),t_rm_a,mass,1,,1\n", encoding="utf-8")
    assert import_file("customers", path).imported == 4
    assert set(_customers(db)) == {"=1+1", "+86", "-5", "@SUM(A1)"}


def test_reimport_changes_nothing_and_a_change_is_an_update(db, rms, tmp_path):
    path = tmp_path / "book.csv"
    path.write_text(CANONICAL + "R1,t_rm_a,mass,1,浙江,100\nR2,t_rm_a,vip,1,浙江,200\n",
                    encoding="utf-8")
    assert import_file("customers", path).as_dict()["imported"] == 2
    owners_before = db.session.scalars(select(CustomerOwnership)).all()
    assert import_file("customers", path).as_dict() == {
        "imported": 0, "updated": 0, "unchanged": 2, "errors": []}
    assert len(db.session.scalars(select(CustomerOwnership)).all()) == len(owners_before)
    path.write_text(CANONICAL + "R1,t_rm_a,mass,1,浙江省,100.00\nR2,t_rm_b,vip,1,浙江,200\n",
                    encoding="utf-8")
    assert import_file("customers", path, effective_at=at(20)).as_dict() == {
        "imported": 0, "updated": 1, "unchanged": 1, "errors": []}
    db.session.expire_all()  # the import writes with Core statements
    history = db.session.scalars(
        select(CustomerOwnership).join(Customer).where(Customer.customer_ref == "R2")
        .order_by(CustomerOwnership.id)).all()
    assert [(o.rm_id, o.valid_from, o.valid_to) for o in history] == [
        (rms.rm_a.id, None, at(20)), (rms.rm_b.id, at(20), None)]


def test_a_key_repeated_in_one_file_is_compared_like_a_reimport(db, rms, tmp_path, monkeypatch,
                                                                 app):
    monkeypatch.setitem(app.config, "IMPORT_BATCH_ROWS", 2)
    path = tmp_path / "book.csv"
    path.write_text(CANONICAL + "D1,t_rm_a,mass,1,,1\nD1,t_rm_a,mass,1,,1\nD2,t_rm_a,mass,1,,1\n"
                    "D1,t_rm_a,vip,1,,1\nD3,t_rm_a,mass,1,,1\n", encoding="utf-8")
    assert import_file("customers", path).as_dict() == {
        "imported": 3, "updated": 1, "unchanged": 1, "errors": []}
    assert _customers(db)["D1"].segment.code == "vip"


def _xlsx(path, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.create_sheet("ignored").append(["not", "read"])
    book.save(path)


def test_contacts_from_xlsx_first_sheet(db, rms, tmp_path):
    path = tmp_path / "contacts.xlsx"
    _xlsx(path, [
        ["外部联系人ID", "员工", "添加时间", "添加方式", "联系人类型", "企业名称", "删除时间"],
        ["wmX1", "t_rm_a", dt.datetime(2025, 4, 1, 9, 30), 1, 1, None, None],
        ["wmX2", "t_rm_a", "2025-04-02 10:00:00+00:00", 3, 2, "某某银行", "2025-04-03 08:00"],
        ["=HYPERLINK(\"x\")", "t_rm_b", "1743480000", None, None, None, None],
        ["wmX4", "t_rm_b", "yesterday", None, None, None, None],
    ])
    result = import_file("contacts", path)
    assert result.as_dict() == {"imported": 3, "updated": 0, "unchanged": 0,
                                "errors": [{"line": 5, "message": result.errors[0]["message"]}]}
    contacts = {c.external_userid: c for c in db.session.scalars(select(WecomContact))}
    assert contacts["wmX1"].added_at == at(1, 9, minute=30)  # no offset: Beijing time
    assert (contacts["wmX2"].added_at, contacts["wmX2"].contact_type,
            contacts["wmX2"].corp_name, contacts["wmX2"].removed_at) == (
        dt.datetime(2025, 4, 2, 10, tzinfo=dt.UTC), 2, "某某银行", at(3, 8))
    assert contacts['=HYPERLINK("x")'].added_at == dt.datetime.fromtimestamp(1743480000, dt.UTC)
    assert import_file("contacts", path).as_dict()["unchanged"] == 3


def test_a_contact_deleted_and_added_again_is_a_second_row(db, rms, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("external_userid,staff,add_time,add_way,contact_type,corp_name,removed_at\n"
                    "wmR,t_rm_a,2025-04-01 09:00,1,1,,2025-04-02 09:00\n"
                    "wmR,t_rm_a,2025-04-05 09:00,1,1,,\n", encoding="utf-8")
    assert import_file("contacts", path).imported == 2
    path.write_text("external_userid,staff,add_time,add_way,contact_type,corp_name,removed_at\n"
                    "wmR,t_rm_a,2025-04-05 09:00,1,1,,2025-04-09 09:00\n", encoding="utf-8")
    assert import_file("contacts", path).as_dict()["updated"] == 1
    rows = db.session.scalars(select(WecomContact).order_by(WecomContact.added_at)).all()
    assert [(r.added_at, r.removed_at) for r in rows] == [
        (at(1, 9), at(2, 9)), (at(5, 9), at(9, 9))]


def test_verifications_with_chinese_headers(db, tmp_path):
    path = tmp_path / "v.csv"
    path.write_bytes("外部联系人ID,客户号,认证方式,认证时间,IP省份\n"
                     "wmV1,C9,手机银行,2025-04-01 12:00,浙江\n"
                     "wmV2,C8,link,2025-04-01T12:00:00+08:00,未知\n"
                     "wmV3,C7,carrier pigeon,2025-04-01 12:00,浙江\n".encode("gbk"))
    result = import_file("verifications", path)
    assert (result.imported, [e["line"] for e in result.errors]) == (2, [4])
    rows = {v.external_userid: v for v in db.session.scalars(select(Verification))}
    assert (rows["wmV1"].method.value, rows["wmV1"].ip_province_code) == ("app", "33")
    assert (rows["wmV2"].verified_at, rows["wmV2"].ip_province_code) == (at(1, 12), None)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "文件为空"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "不是 CSV 或 XLSX"),
    (b"PK\x03\x04garbage", "XLSX"),
    ("名字,电话\n张三,123\n".encode(), "无法识别表头"),
    (b"\n\n", "没有表头"),
])
def test_unreadable_files(db, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message):
        import_file("customers", path)


def test_cli_prints_the_json_contract_and_exit_codes(db, rms, runner, tmp_path):
    path = tmp_path / "book.csv"
    path.write_text(CANONICAL + "K1,t_rm_a,mass,1,,1\nK2,nobody,mass,1,,1\n", encoding="utf-8")
    result = runner.invoke(args=["import", "customers", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "imported": 1, "updated": 0, "unchanged": 0,
        "errors": [{"line": 3, "message": "客户经理不存在：nobody"}]}
    missing = runner.invoke(args=["import", "contacts", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2 and "error" in json.loads(missing.stdout)
    wrong = runner.invoke(args=["import", "verifications", str(path)])
    assert wrong.exit_code == 2 and "缺少列" in json.loads(wrong.stdout)["error"]


def test_preview_parses_the_first_rows_without_writing(db, rms, tmp_path):
    path = tmp_path / "book.csv"
    path.write_text(CANONICAL + "P1,t_rm_a,mass,1,,1\nP2,t_rm_a,mass,x,,1\nP3,t_rm_a,vip,0,,2\n",
                    encoding="utf-8")
    preview = preview_file("customers", path, limit=2)
    assert [r["customer_ref"] for r in preview.rows] == ["P1"]
    assert [e["line"] for e in preview.errors] == [3]
    assert _customers(db) == {}


def test_record_contact_events_are_idempotent(db, rms):
    from app.customers.contacts import record_contact_added, record_contact_removed

    assert record_contact_added(rms.rm_a.id, "wmE", at(1), add_way=1) is True
    assert record_contact_added(rms.rm_a.id, "wmE", at(1), add_way=1) is False
    assert record_contact_removed(rms.rm_a.id, "wmE", at(3)) == 1
    assert record_contact_removed(rms.rm_a.id, "wmE", at(4)) == 0
    assert record_contact_added(rms.rm_a.id, "wmE", at(5)) is True
    rows = db.session.scalars(select(WecomContact).where(WecomContact.external_userid == "wmE")
                              .order_by(WecomContact.added_at)).all()
    assert [(r.added_at, r.removed_at) for r in rows] == [(at(1), at(3)), (at(5), None)]
    factories.UserFactory()  # the factories stay usable after Core inserts


def test_a_row_another_import_wrote_meanwhile_is_skipped_not_counted(db, rms):
    """The bulk insert skips a conflicting row (another import won the race) and says so."""
    from app.customers.writers import _CONTACT_FIELDS, _write_keyed

    existing = factories.WecomContactFactory(staff=rms.rm_a, added_at=at(2))
    row = {"staff_id": rms.rm_a.id, "external_userid": existing.external_userid,
           "added_at": existing.added_at, "add_way": 1, "contact_type": 1, "corp_name": None,
           "removed_at": None}
    fresh = {**row, "external_userid": "wmNEW"}
    counts = _write_keyed([row, fresh], WecomContact.__table__,
                          ("staff_id", "external_userid", "added_at"), _CONTACT_FIELDS, {})
    assert (counts.imported, counts.updated, counts.unchanged) == (1, 0, 0)
    assert db.session.scalar(select(WecomContact.id).where(
        WecomContact.external_userid == "wmNEW")) is not None


def test_the_marketing_opt_out_column_is_imported_and_kept_when_absent(db, rms, tmp_path):
    path = tmp_path / "book.csv"
    path.write_text("客户号,客户经理,客群,是否本行开户,拒绝营销\nR1,t_rm_a,vip,是,是\n"
                    "R2,t_rm_a,vip,是,\n", encoding="utf-8")
    assert import_file("customers", path).as_dict()["imported"] == 2
    flags = dict(db.session.execute(select(Customer.customer_ref,
                                           Customer.marketing_opt_out)).all())
    assert flags == {"R1": True, "R2": False}
    path.write_text(CANONICAL + "R1,t_rm_a,vip,1,浙江,0\n", encoding="utf-8")  # no such column
    import_file("customers", path)
    db.session.expire_all()
    assert db.session.scalar(select(Customer.marketing_opt_out).where(
        Customer.customer_ref == "R1")) is True
