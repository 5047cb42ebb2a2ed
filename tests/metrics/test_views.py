import csv
import io
import re

import pytest

from app.org.models import Role
from tests.factories import UserFactory

ARGS = {"period": "daily", "end": "2025-04-25"}


def test_scorecard_page_shows_both_sides(client, login_as, world):
    login_as(world.editor)
    query = {**ARGS, "branch_id": world.branch_a.id}
    response = client.get("/metrics/scorecard", query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "前台·过程考核" in html and "中台·结果考核" in html
    assert "张三" in html and "王五" not in html
    assert "75.0%" in html  # 张三 execution rate
    assert "50.0%" in html  # 张三 on-time rate
    assert "10.0%" in html  # 金价早报 engagement rate
    assert "10,000.50" in html
    assert "互动率</dt><dd>（评论 + 点赞 + 咨询）÷ 触达客户数" in html
    assert "/metrics/scorecard/chart.png?" in html
    assert "—" in html  # 基金周报 has no reach


def test_default_filters_use_business_date_and_week(app, client, login_as, world, monkeypatch):
    login_as(world.editor)
    monkeypatch.setitem(app.config, "BUSINESS_DATE", "2025-04-25")
    html = client.get("/metrics/scorecard").get_data(as_text=True)
    assert "2025-04-21 至 2025-04-25" in html
    assert "王五" in html  # whole bank by default for the middle office


def test_sorting_by_query_arg(client, login_as, world):
    login_as(world.editor)
    query = {**ARGS, "sort_staff": "execution_rate"}
    html = client.get("/metrics/scorecard", query_string=query).get_data(as_text=True)
    staff_table = html[html.index('id="table-staff"'):]
    # execution rates: 李四 0, 张三 0.75, 王五 1.0
    assert staff_table.index("李四") < staff_table.index("张三") < staff_table.index("王五")
    query["sort_staff"] = "-execution_rate"
    html = client.get("/metrics/scorecard", query_string=query).get_data(as_text=True)
    staff_table = html[html.index('id="table-staff"'):]
    assert staff_table.index("王五") < staff_table.index("张三") < staff_table.index("李四")


def test_manager_sees_only_own_subtree(client, db, login_as, world):
    login_as(UserFactory(role=Role.manager, branch=world.branch_a))
    db.session.commit()  # survive the error handler's rollback after a 403
    response = client.get("/metrics/scorecard", query_string=ARGS)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "张三" in html and "王五" not in html
    assert "全行" not in html and "支行b1" not in html  # branch select limited to scope
    query = {**ARGS, "branch_id": world.branch_b.id}
    refused = client.get("/metrics/scorecard", query_string=query)
    assert refused.status_code == 403
    assert client.get("/metrics/scorecard.csv",
                      query_string={**ARGS, "branch_id": world.b1.id}).status_code == 403
    assert client.get("/metrics/scorecard/chart.png",
                      query_string={**ARGS, "branch_id": world.hq.id}).status_code == 403


@pytest.mark.parametrize("path", ["/metrics/scorecard", "/metrics/scorecard.csv",
                                  "/metrics/scorecard/chart.png"])
def test_frontline_is_refused(client, login_as, world, path):
    login_as(world.s1)
    assert client.get(path, query_string=ARGS).status_code == 403


def test_anonymous_redirected_to_login(client, db):
    response = client.get("/metrics/scorecard")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_invalid_filters_give_422(client, login_as, world):
    login_as(world.editor)
    bad = {"period": "custom", "end": "2025-04-25", "start": "2025-05-01"}
    response = client.get("/metrics/scorecard", query_string=bad)
    assert response.status_code == 422
    assert "开始日期不能晚于结束日期" in response.get_data(as_text=True)
    assert client.get("/metrics/scorecard", query_string={"end": "nope"}).status_code == 422
    assert client.get("/metrics/scorecard.csv", query_string=bad).status_code == 422


def test_unknown_branch_is_404(client, login_as, world):
    login_as(world.editor)
    response = client.get("/metrics/scorecard", query_string={**ARGS, "branch_id": 999999})
    assert response.status_code == 404


def test_chart_is_png(client, login_as, world):
    login_as(world.editor)
    query = {"period": "custom", "start": "2025-04-21", "end": "2025-04-25"}
    response = client.get("/metrics/scorecard/chart.png", query_string=query)
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data[:8] == b"\x89PNG\r\n\x1a\n"
    empty = client.get("/metrics/scorecard/chart.png",
                       query_string={"period": "daily", "end": "2024-01-02"})
    assert empty.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_csv_export(client, login_as, world):
    login_as(world.editor)
    response = client.get("/metrics/scorecard.csv",
                          query_string={**ARGS, "branch_id": world.branch_a.id})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["考核看板", "分行A"]
    assert rows[1] == ["区间（帖子日期）", "2025-04-25", "2025-04-25"]
    staff_header = rows.index(["员工", "所属机构", "下发任务数", "已执行", "准时执行",
                               "执行率（0-1）", "准时率（0-1）", "回复客户数", "触达客户数",
                               "企业微信实测任务"])
    staff_rows = {r[0]: r for r in rows[staff_header + 1:staff_header + 4]}
    assert staff_rows["张三"] == ["张三", "支行a1", "4", "3", "2", "0.7500", "0.5000", "4", "100",
                                 "0"]
    assert staff_rows["合计"][2:4] == ["5", "3"]
    gold = next(r for r in rows if r[:2] == ["金价早报", "编辑甲"])
    assert gold[2:] == ["4", "100", "5", "3", "2", "0.1000", "0.0200", "2", "0.0200",
                        "1", "10000.50", "0.0100", "0"]
    fund = next(r for r in rows if r[:1] == ["基金周报"])
    assert fund[7] == ""  # engagement rate undefined without reach
    assert not any("王五" in cell for row in rows for cell in row)


def _errors(html: str) -> list[str]:
    return re.findall(r'<p class="error"[^>]*>(.*?)</p>', html)


@pytest.mark.parametrize(("query", "expected"), [
    ({"period": "custom", "end": "2025-04-25", "start": "2025-05-01"}, "开始日期不能晚于结束日期"),
    ({"period": "custom", "end": "2025-04-25", "start": "2023-01-01"}, "区间不能超过 366 天"),
    ({"period": "custom", "end": "2025-04-25"}, "请填写开始日期"),
    ({"period": "weekly", "end": "abc"}, "截止日期：日期格式应为 YYYY-MM-DD"),
    ({"period": "weekly", "end": ""}, "截止日期：请填写截止日期"),
    ({"period": "month", "end": "2025-04-25"}, "考核周期："),
])
def test_each_filter_mistake_is_one_chinese_message(client, login_as, world, query, expected):
    login_as(world.editor)
    response = client.get("/metrics/scorecard", query_string=query)
    assert response.status_code == 422
    errors = _errors(response.get_data(as_text=True))
    assert len(errors) == 1 and expected in errors[0], errors
    assert not re.search(r"[A-Za-z]{3,}", errors[0].replace("YYYY-MM-DD", ""))


def test_branch_options_are_indented_without_blank_characters(client, login_as, world):
    login_as(world.editor)
    html = client.get("/metrics/scorecard").get_data(as_text=True)
    assert "\u3000" not in html and "— " in html
