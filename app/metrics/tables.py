"""Column definitions of the scorecard tables, shared by the HTML page and the CSV export."""

from __future__ import annotations

import decimal
from dataclasses import dataclass

DASH = "—"


@dataclass(frozen=True)
class Column:
    """One table column: row attribute, Chinese header, and kind (text/int/rate/money)."""

    attr: str
    label: str
    kind: str = "int"


@dataclass(frozen=True)
class Table:
    """A scorecard table: key used in ``sort_<key>`` query args, title, columns, default sort."""

    key: str
    title: str
    columns: tuple[Column, ...]
    default_sort: str


_FRONT = (
    Column("tasks_assigned", "下发任务数"),
    Column("tasks_done", "已执行"),
    Column("tasks_on_time", "准时执行"),
    Column("execution_rate", "执行率", "rate"),
    Column("on_time_rate", "准时率", "rate"),
    Column("replies", "回复客户数"),
    Column("reach", "触达客户数"),
    Column("measured_tasks", "企业微信实测任务"),
)
_MIDDLE = (
    Column("posts", "帖子数"),
    Column("reach", "触达客户数"),
    Column("likes", "点赞"),
    Column("comments", "评论"),
    Column("inquiries", "咨询"),
    Column("engagement_rate", "互动率", "rate"),
    Column("inquiry_rate", "咨询率", "rate"),
    Column("blocks_deletes", "拉黑/删除"),
    Column("block_delete_rate", "拉黑/删除率", "rate"),
    Column("conversions", "转化笔数"),
    Column("conversion_amount_cny", "转化金额（元）", "money"),
    Column("conversion_rate", "转化率", "rate"),
    Column("measured_tasks", "企业微信实测任务"),
)

FRONT_BY_BRANCH = Table(
    "branch", "按机构", (Column("label", "机构", "text"), *_FRONT), "-execution_rate"
)
FRONT_BY_STAFF = Table(
    "staff", "按员工",
    (Column("label", "员工", "text"), Column("detail", "所属机构", "text"), *_FRONT),
    "-execution_rate",
)
MIDDLE_BY_TEMPLATE = Table(
    "template", "按内容模板",
    (Column("label", "内容模板", "text"), Column("detail", "模板作者（中台）", "text"), *_MIDDLE),
    "-engagement_rate",
)
MIDDLE_BY_SOP = Table(
    "sop", "按 SOP 计划",
    (Column("label", "SOP 计划", "text"), Column("detail", "内容模板", "text"), *_MIDDLE),
    "-engagement_rate",
)
TABLES = {t.key: t for t in (FRONT_BY_BRANCH, FRONT_BY_STAFF, MIDDLE_BY_TEMPLATE, MIDDLE_BY_SOP)}


def parse_sort(table: Table, spec: str | None) -> tuple[str, bool]:
    """Read a ``sort_<table>`` value such as ``-execution_rate``.

    :returns: ``(attribute, descending)``; unknown attributes fall back to the default.
    """
    spec = spec or table.default_sort
    descending = spec.startswith("-")
    attr = spec.lstrip("-")
    if attr not in {c.attr for c in table.columns}:
        return parse_sort(table, table.default_sort)
    return attr, descending


def sort_rows(rows: list, attr: str, descending: bool) -> list:
    """Sort rows by ``attr``; rows whose value is ``None`` always come last.

    Ties keep the SQL order (stable sort), which is by name then id.
    """
    present = [r for r in rows if getattr(r, attr) is not None]
    missing = [r for r in rows if getattr(r, attr) is None]
    return sorted(present, key=lambda r: getattr(r, attr), reverse=descending) + missing


def display(value, kind: str) -> str:
    """Format a cell for the page: rates as percent with one decimal, money with separators."""
    if value is None:
        return DASH
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "money":
        return f"{decimal.Decimal(value):,.2f}"
    return str(value)


def export_value(value, kind: str) -> str:
    """Format a cell for CSV: rates as fractions with 4 decimals, empty when undefined."""
    if value is None:
        return ""
    if kind == "rate":
        return f"{value:.4f}"
    if kind == "money":
        return f"{decimal.Decimal(value):.2f}"
    return str(value)
