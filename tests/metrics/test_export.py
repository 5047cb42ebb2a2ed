"""Issue 6, case 4: spreadsheet formulas in the scorecard CSV, and a safe download name.

Names typed by users (template titles, SOP plan names, user and branch names) reach the CSV;
a cell such as ``=HYPERLINK(...)`` must arrive as text, never as a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from types import SimpleNamespace
from urllib.parse import unquote

import pytest

from app.broadcasts.models import TaskStatus
from app.core.spreadsheet import FORMULA_PREFIXES
from app.interactions.models import InteractionKind
from app.org.models import BranchLevel, Role
from tests.factories import (
    BranchFactory,
    ContentTemplateFactory,
    InteractionEventFactory,
    PostFactory,
    SopPlanFactory,
    TaskFactory,
    UserFactory,
)

HYPERLINK = '=HYPERLINK("http://x","y")'
SUM = "@SUM(1+1)"
CMD = "=cmd|' /C calc'!A0"
ARGS = {"period": "daily", "end": "2025-04-25"}


@pytest.fixture
def hostile(db):
    """A bank whose names are formulas: branch, staff, author, template and SOP plan."""
    hq = BranchFactory(name='-总行"; filename=evil.exe', level=BranchLevel.hq)
    sub = BranchFactory(name="+支行\t", parent=hq)
    author = UserFactory(role=Role.editor, branch=hq, display_name="\t=1+2")
    template = ContentTemplateFactory(title=HYPERLINK, author=author)
    plan = SopPlanFactory(template=template, branch=hq, name=SUM)
    staff = UserFactory(branch=sub, display_name=CMD)
    post = PostFactory(sop_plan=plan, run_date=dt.date(2025, 4, 25))
    task = TaskFactory(post=post, staff=staff, status=TaskStatus.done, reach_count=10,
                       completed_at=dt.datetime(2025, 4, 25, 1, 0, tzinfo=dt.UTC))
    InteractionEventFactory(task=task, kind=InteractionKind.like, quantity=3)
    db.session.commit()  # the view's error handler must not roll the rows back
    return SimpleNamespace(hq=hq, sub=sub, author=author, template=template, plan=plan,
                           staff=staff)


def _export(client, login_as, hostile):
    login_as(UserFactory(role=Role.admin, branch=hostile.hq))
    response = client.get("/metrics/scorecard.csv",
                          query_string={**ARGS, "branch_id": hostile.hq.id})
    assert response.status_code == 200
    return response, list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_formula_names_come_out_as_text(client, login_as, hostile):
    _, rows = _export(client, login_as, hostile)
    cells = [cell for row in rows for cell in row]
    assert "'" + HYPERLINK in cells  # template title (per template; detail of the SOP row)
    assert "'" + SUM in cells  # SOP plan name
    assert "'" + CMD in cells  # front-line user's name
    assert "'\t=1+2" in cells  # template author
    assert "'+支行\t" in cells  # branch name
    assert rows[0] == ["考核看板", "'" + hostile.hq.name]
    assert [c for c in cells if c.startswith(FORMULA_PREFIXES)] == []


def test_numbers_stay_numbers(client, login_as, hostile):
    _, rows = _export(client, login_as, hostile)
    staff = next(row for row in rows if row and row[0] == "'" + CMD)
    # tasks assigned, done, on time, execution rate, on-time rate, replies, reach
    assert staff[2:] == ["1", "1", "1", "1.0000", "1.0000", "0", "10", "0"]
    template = next(row for row in rows if row and row[0] == "'" + HYPERLINK)
    assert template[2:6] == ["1", "10", "3", "0"]  # posts, reach, likes, comments


def test_download_name_is_safe_and_keeps_the_chinese_name(client, login_as, hostile):
    response, _ = _export(client, login_as, hostile)
    header = response.headers["Content-Disposition"]
    params = [part.strip() for part in header.split(";")]
    assert params[0] == "attachment"
    assert params[1] == f"filename=scorecard_{hostile.hq.id}_20250425_20250425.csv"
    assert params[2].startswith("filename*=UTF-8''") and len(params) == 3
    name = unquote(params[2].removeprefix("filename*=UTF-8''"))
    assert name == "考核看板_-总行_filename=evil.exe_20250425_20250425.csv"
    assert '"' not in name and ";" not in name and "/" not in name
