"""Input limits in ``app.core.http``: JSON depth scan, bounded ids, int converter, body limits."""

from __future__ import annotations

import io
import json
import time

import pytest
from flask import request
from werkzeug.routing import IntegerConverter

from app.core.http import (
    MAX_ID,
    BoundedIntegerConverter,
    BoundedJSONProvider,
    JSONTooDeep,
    body_limit,
    bounded_int,
    check_json_depth,
    json_depth,
)
from app.factory import create_app
from config import TestConfig

KIB = 1024


@pytest.mark.parametrize(("text", "depth"), [
    ("1", 0), ('"[[["', 0), ("[]", 1), ("{}", 1), ('[[{"a": [1]}]]', 4),
    ('["]]]", [["\\"[["]]]', 3), ('{"k\\\\": [[]]}', 3), ("[[", 2), ("]][[[", 1),
])
def test_json_depth_counts_brackets_outside_strings(text, depth):
    assert json_depth(text) == depth


def test_depth_limit_is_inclusive():
    check_json_depth("[" * 32 + "]" * 32, 32)
    with pytest.raises(JSONTooDeep):
        check_json_depth("[" * 33 + "]" * 33, 32)
    check_json_depth(json.dumps(["[" * 100]), 32)  # brackets inside a string do not count


@pytest.mark.parametrize("text", [
    '"' + '\\"' * 300_000,  # an unterminated string full of escaped quotes
    '"' * 300_001,
    "[" * 500_000,
    '["' + "a" * 1_000_000,
])
def test_depth_scan_stays_linear_on_hostile_text(text):
    started = time.perf_counter()
    json_depth(text)
    assert time.perf_counter() - started < 2


def test_provider_decodes_bytes_like_json_loads_before_scanning(app):
    provider = BoundedJSONProvider(app)
    # U+225B and U+5B22 hold the bytes of '"' and '[' in UTF-16: scanning raw bytes would
    # see a string boundary and a bracket that are not there.
    tricky = {"name": "\u225b\u5b22[[[", "n": [[1]]}
    for encoding in ("utf-8", "utf-16", "utf-32"):
        assert provider.loads(json.dumps(tricky, ensure_ascii=False).encode(encoding)) == tricky
        with pytest.raises(JSONTooDeep):
            provider.loads(("[" * 40 + "]" * 40).encode(encoding))


def test_app_json_is_bounded(app):
    assert isinstance(app.json, BoundedJSONProvider)
    with app.app_context(), pytest.raises(JSONTooDeep):
        app.json.loads("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(("text", "expected"), [
    ("1", 1), (" 42 ", 42), (str(MAX_ID), MAX_ID),
])
def test_bounded_int_accepts_ascii_ids(text, expected):
    assert bounded_int(text) == expected


@pytest.mark.parametrize("text", [
    "", "-1", "1.5", "1_000", "\u0661\u0662", "１２", str(MAX_ID + 1), str(2**63), str(2**70),
    "9" * 5000,
])
def test_bounded_int_refuses_everything_else(text):
    with pytest.raises(ValueError):
        bounded_int(text)
    with pytest.raises(ValueError):
        bounded_int("0", minimum=1)


def test_every_int_rule_uses_the_bounded_converter(app):
    assert app.url_map.converters["int"] is BoundedIntegerConverter
    int_rules = [
        rule.rule for rule in app.url_map.iter_rules()
        for converter in rule._converters.values() if isinstance(converter, IntegerConverter)
    ]
    assert "/content/<int:template_id>" in int_rules
    assert "/api/v1/tasks/<int:task_id>/complete" in int_rules
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                assert isinstance(converter, BoundedIntegerConverter), (rule.rule, name)
                assert converter.max == MAX_ID


# --- per-view body limit (for file imports, issue 7) ---------------------------------------

@pytest.fixture
def make_upload_app(app):
    """``make_upload_app(**overrides)``: an app with two upload routes, 8 KiB default limit.

    ``/probe/import`` carries ``@body_limit("MAX_IMPORT_BYTES")`` (256 KiB here);
    ``/probe/plain`` has the default limit. Both return the uploaded file's size.
    """

    def _make(**overrides):
        settings = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                    "MAX_REQUEST_BYTES": 8 * KIB, "MAX_IMPORT_BYTES": 256 * KIB, **overrides}
        upload_app = create_app(TestConfig(), **settings)

        @upload_app.post("/probe/import")
        @body_limit("MAX_IMPORT_BYTES")
        def probe_import():
            return {"bytes": len(request.files["file"].read())}

        @upload_app.post("/probe/plain")
        def probe_plain():
            return {"bytes": len(request.files["file"].read())}

        return upload_app

    return _make


def _upload(client, path: str, size: int):
    return client.post(path, data={"file": (io.BytesIO(b"x" * size), "a.csv")},
                       content_type="multipart/form-data")


def test_body_limit_raises_the_limit_for_that_view_only(db, make_upload_app):
    client = make_upload_app(WTF_CSRF_ENABLED=False).test_client()
    assert _upload(client, "/probe/import", 200 * KIB).get_json() == {"bytes": 200 * KIB}
    assert _upload(client, "/probe/import", 300 * KIB).status_code == 413
    plain = _upload(client, "/probe/plain", 32 * KIB)
    assert plain.status_code == 413 and "请求内容过大" in plain.get_data(as_text=True)
    assert _upload(client, "/probe/plain", 2 * KIB).get_json() == {"bytes": 2 * KIB}


def test_body_limit_applies_before_the_csrf_check_reads_the_form(db, make_upload_app):
    client = make_upload_app(WTF_CSRF_ENABLED=True).test_client()
    # The CSRF hook parses the form before the view: under the import limit it gets to
    # judge the (missing) token (400), instead of a 413 from the default limit.
    response = _upload(client, "/probe/import", 200 * KIB)
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    assert _upload(client, "/probe/import", 300 * KIB).status_code == 413


def test_config_maps_onto_flask_limits(app):
    assert app.config["MAX_REQUEST_BYTES"] == 1024 * KIB == app.config["MAX_CONTENT_LENGTH"]
    assert app.config["MAX_FORM_MEMORY_BYTES"] == 512 * KIB == app.config["MAX_FORM_MEMORY_SIZE"]
    assert app.config["MAX_FORM_PARTS"] == 1000
    assert app.config["MAX_IMPORT_BYTES"] == 256 * 1024 * KIB
    assert app.config["MAX_JSON_DEPTH"] == 32


def test_limits_are_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MAX_REQUEST_BYTES", "2048")
    monkeypatch.setenv("MAX_FORM_MEMORY_BYTES", "131072")
    monkeypatch.setenv("MAX_JSON_DEPTH", "8")
    configured = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.db")
    assert configured.config["MAX_CONTENT_LENGTH"] == 2048
    assert configured.config["MAX_FORM_MEMORY_SIZE"] == 128 * KIB
    with configured.app_context(), pytest.raises(JSONTooDeep):
        configured.json.loads("[" * 9 + "]" * 9)


def test_form_memory_limit_below_a_multipart_chunk_refuses_to_boot(tmp_path):
    with pytest.raises(RuntimeError, match="MAX_FORM_MEMORY_BYTES"):
        create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/x.db",
                   MAX_FORM_MEMORY_BYTES=4 * KIB)
