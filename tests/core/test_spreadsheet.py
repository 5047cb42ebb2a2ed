"""Safe spreadsheet cells and download names (``app.core.spreadsheet``)."""

from __future__ import annotations

import datetime as dt
import decimal
from urllib.parse import unquote

import pytest
from werkzeug.http import parse_options_header

from app.core.spreadsheet import (
    MAX_FILENAME_CHARS,
    attachment_disposition,
    safe_cell,
    safe_filename,
)


@pytest.mark.parametrize("text", [
    '=HYPERLINK("http://x","y")', "@SUM(1+1)", "=cmd|' /C calc'!A0", "+1+1", "-2+3",
    "\t=1+1", "\r=1+1", "=",
])
def test_formula_text_gets_a_leading_quote(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [
    "金价早报", "a=b", " =1", "", "'=already", "1-2", "合计",
    -5, -0.25, decimal.Decimal("-1.50"), 0, None, dt.date(2025, 4, 25),
])
def test_other_values_are_unchanged(value):
    assert safe_cell(value) == value


@pytest.mark.parametrize(("name", "expected"), [
    ("考核看板_分行A_20250425.csv", "考核看板_分行A_20250425.csv"),
    ('a"b;c.csv', "a_b_c.csv"),
    ("../../etc/passwd", "etc_passwd"),
    ("..\\..\\boot.ini", "boot.ini"),
    ("报表\u202evsc.exe", "报表_vsc.exe"),  # right-to-left override would show "exe.csv"
    ("a\r\nContent-Type: text/html", "a_Content-Type_text_html"),
    ("NUL.csv", "_NUL.csv"),
    ("...", "download"),
    ("", "download"),
])
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_keeps_the_extension_when_cutting():
    name = safe_filename("长" * 500 + ".csv")
    assert len(name) == MAX_FILENAME_CHARS and name.endswith("长.csv")


def _params(header: str) -> dict:
    value, params = parse_options_header(header)
    assert value == "attachment"
    return params


def test_ascii_name_has_a_plain_filename():
    assert attachment_disposition("scorecard_all_20250425.csv") == (
        "attachment; filename=scorecard_all_20250425.csv"
    )


def test_cjk_name_with_quotes_gets_rfc_6266_encoding_and_an_ascii_fallback():
    header = attachment_disposition('考核看板_"分行"; x=1.csv', ascii_fallback="scorecard_7.csv")
    assert header.isascii() and "\r" not in header and "\n" not in header
    raw_params = header.split(";")[1:]
    assert [p.strip().split("=")[0] for p in raw_params] == ["filename", "filename*"]
    encoded = header.rsplit("UTF-8''", 1)[1]
    assert "%3D" in encoded and unquote(encoded) == "考核看板_分行_x=1.csv"
    assert raw_params[0].strip() == "filename=scorecard_7.csv"
    # A client that reads RFC 6266 gets the UTF-8 name (werkzeug prefers ``filename*``).
    assert _params(header)["filename"] == "考核看板_分行_x=1.csv"


def test_default_ascii_fallback_drops_non_ascii_letters():
    header = attachment_disposition("考核看板_Branch A.csv")
    assert header.startswith("attachment; filename=Branch_A.csv; filename*=UTF-8''")
