"""CSV export of the scorecard (UTF-8 with BOM, so Excel opens the Chinese headers).

Names typed by users (branches, staff, templates, SOP plans) are text cells passed
through ``safe_cell``: a title such as ``=HYPERLINK(...)`` cannot run as a formula.
"""

from __future__ import annotations

import csv
import io

from app.core.spreadsheet import safe_cell
from app.metrics.records import Scorecard
from app.metrics.tables import (
    FRONT_BY_BRANCH,
    FRONT_BY_STAFF,
    MIDDLE_BY_SOP,
    MIDDLE_BY_TEMPLATE,
    Table,
    export_value,
)

SECTIONS = (
    ("前台·过程考核", FRONT_BY_BRANCH, "front_by_branch", "front_total"),
    ("前台·过程考核", FRONT_BY_STAFF, "front_by_staff", "front_total"),
    ("中台·结果考核", MIDDLE_BY_TEMPLATE, "middle_by_template", "middle_total"),
    ("中台·结果考核", MIDDLE_BY_SOP, "middle_by_sop", "middle_total"),
)


def _write_table(writer, heading: str, table: Table, rows: list, total) -> None:
    writer.writerow([f"{heading}（{table.title}）"])
    writer.writerow([_header(c) for c in table.columns])
    for row in [*rows, total] if rows else rows:
        writer.writerow([_cell(getattr(row, c.attr), c.kind) for c in table.columns])
    writer.writerow([])


def _cell(value, kind: str) -> str:
    """Numbers as formatted by ``export_value``; text (user-typed names) neutralised."""
    text = export_value(value, kind)
    return safe_cell(text) if kind == "text" else text


def _header(column) -> str:
    return f"{column.label}（0-1）" if column.kind == "rate" else column.label


def scorecard_csv(card: Scorecard) -> bytes:
    """Render both sides of ``card`` as one CSV file.

    Layout: two lines naming the scope and the run-date range, then four sections
    (front office per branch and per staff, middle office per template and per SOP plan),
    each a title line, a header line, the rows and a 合计 (total) line, then a blank line.
    Rates are fractions with 4 decimals (empty when the denominator is 0); amounts in yuan.
    Text cells starting with ``=``, ``+``, ``-``, ``@``, tab or CR get a leading ``'``.

    :returns: UTF-8 bytes starting with a BOM, CRLF line ends (``csv`` default).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["考核看板", safe_cell(card.branch_name)])
    writer.writerow(["区间（帖子日期）", card.start.isoformat(), card.end.isoformat()])
    writer.writerow([])
    for heading, table, attr, total_attr in SECTIONS:
        _write_table(writer, heading, table, getattr(card, attr), getattr(card, total_attr))
    return buffer.getvalue().encode("utf-8-sig")
