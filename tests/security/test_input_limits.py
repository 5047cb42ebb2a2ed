"""Issue 6, cases 2 and 3: request size limits, bad numbers, deep JSON, API errors as JSON.

Each test sends the attack from the issue and checks the answer: 413 before the body is
read; 404 for ids beyond 64 bits (indeed beyond ``MAX_ID``) in URLs; a field error for such
ids in query strings and JSON; 400 for JSON nested too deep; never a 500, on either backend.
"""

from __future__ import annotations

import io
import json

import pytest
from werkzeug.exceptions import TooManyRequests
from werkzeug.test import encode_multipart

from app.core.http import MAX_ID
from app.org.models import Role

MIB = 1024 * 1024
FIFTY_MB = 50 * 1000 * 1000
#: Past the id range: just past ``MAX_ID`` (PostgreSQL INTEGER), past 64 bits (SQLite), huge.
BEYOND_ID_RANGE = [str(MAX_ID + 1), str(2**63), str(2**64), str(2**200), "9" * 5000]
TOO_LARGE = "请求内容过大"
TOO_DEEP = "请求体嵌套过深"


class CountingStream(io.RawIOBase):
    """A request body of ``size`` bytes of ``fill``, made up on demand, that counts reads.

    Seekable only so that the test client can measure it (it seeks to the end and back).
    """

    def __init__(self, size: int, fill: bytes = b"x") -> None:
        self.size, self.fill, self.position, self.bytes_read = size, fill, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = offset if whence == io.SEEK_SET else self.size + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        count = max(0, min(len(buffer), self.size - self.position))
        buffer[:count] = self.fill * count
        self.position += count
        self.bytes_read += count
        return count


def bearer(world, role=Role.frontline) -> dict:
    return {"Authorization": f"Bearer {world.tokens[role]}"}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- case 2: no request size limit ----------------------------------------------------------

def test_50_mb_json_body_is_refused_with_413_json_before_it_is_read(client, world):
    body = CountingStream(FIFTY_MB)
    response = client.post("/api/v1/interactions", input_stream=body,
                           content_type="application/json", headers=bearer(world))
    assert response.status_code == 413
    assert response.get_json() == {"error": TOO_LARGE}
    assert body.bytes_read == 0


@pytest.mark.parametrize("content_type", [
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=zhongtai",
])
def test_50_mb_form_field_is_refused_with_413_before_it_is_read(client, db, content_type):
    body = CountingStream(FIFTY_MB)
    response = client.post("/login", input_stream=body, content_type=content_type)
    assert response.status_code == 413
    assert TOO_LARGE in response.get_data(as_text=True) and response.mimetype == "text/html"
    assert body.bytes_read == 0


def test_body_without_content_length_is_cut_at_the_limit(client, world):
    """A chunked body (the server terminates the stream) is read only up to the limit."""
    body = CountingStream(FIFTY_MB, fill=b" ")
    headers = {**bearer(world), "Transfer-Encoding": "chunked"}
    response = client.post("/api/v1/interactions", input_stream=body,
                           content_type="application/json", headers=headers,
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413 and response.get_json() == {"error": TOO_LARGE}
    assert body.bytes_read <= MIB + 64 * 1024


def test_multipart_text_field_over_the_form_memory_limit_is_413(client, db):
    """One non-file field over ``MAX_FORM_MEMORY_BYTES`` (512 KiB), body under 1 MiB."""
    boundary, body = encode_multipart({"username": "x" * 600 * 1024, "password": "p"})
    response = client.post("/login", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413


def test_body_just_under_the_limit_is_accepted(client, world):
    padding = "x" * (MIB - 100)
    response = client.post("/api/v1/interactions", data=json.dumps({"events": [], "p": padding}),
                           content_type="application/json", headers=bearer(world))
    assert response.status_code == 200 and response.get_json()["results"] == []


# --- case 3: numbers beyond 64 bits and deep JSON -------------------------------------------

def _int_rules(app):
    return [(rule, method) for rule in app.url_map.iter_rules() if "<int:" in rule.rule
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def _send(client, method, path, headers=None):
    response = client.open(path, method=method, headers=headers, json={} if method == "POST"
                           else None)
    response.close()
    return response


@pytest.mark.parametrize("number", BEYOND_ID_RANGE)
def test_every_int_url_beyond_the_id_range_is_404(app, client, world, sign_in, number):
    sign_in(world.users[Role.admin])
    problems = []
    for rule, method in _int_rules(app):
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", number)
        headers = bearer(world) if path.startswith("/api/") else None
        response = _send(client, method, path, headers)
        if response.status_code != 404 or (path.startswith("/api/") and not response.is_json):
            problems.append((method, path[:60], response.status_code))
    assert problems == []


def test_issue_urls_beyond_64_bits_are_404(client, world, sign_in):
    sign_in(world.users[Role.editor])
    assert client.get(f"/content/{2**64}").status_code == 404
    response = client.post(f"/api/v1/tasks/{2**64}/complete", headers=bearer(world))
    assert response.status_code == 404 and response.get_json() == {"error": "页面不存在"}


def test_largest_id_reaches_the_database_and_is_not_found(app, client, world, sign_in):
    """``MAX_ID`` is a valid id: the view runs its query (both backends) and finds nothing."""
    sign_in(world.users[Role.admin])
    problems = []
    for rule, method in _int_rules(app):
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", str(MAX_ID))
        headers = bearer(world) if path.startswith("/api/") else None
        status = _send(client, method, path, headers).status_code
        # 404, or 403 (an admin may not review) / 302 (the page flashes "not found")
        if status not in (302, 403, 404):
            problems.append((method, path, status))
    assert problems == []


@pytest.mark.parametrize("path", ["/metrics/scorecard", "/metrics/scorecard.csv",
                                  "/metrics/scorecard/chart.png"])
@pytest.mark.parametrize("branch_id", [*BEYOND_ID_RANGE, "-1", "0", "1e3", "\u0661"])
def test_scorecard_branch_id_beyond_range_is_a_form_error(client, world, sign_in, path,
                                                          branch_id):
    sign_in(world.users[Role.editor])
    response = client.get(path, query_string={"branch_id": branch_id, "period": "daily",
                                              "end": "2025-04-25"})
    assert response.status_code == 422
    if path == "/metrics/scorecard":
        assert "机构：选择无效" in response.get_data(as_text=True)


def test_scorecard_largest_branch_id_is_404(client, world, sign_in):
    sign_in(world.users[Role.editor])
    response = client.get("/metrics/scorecard", query_string={"branch_id": str(MAX_ID)})
    assert response.status_code == 404


@pytest.mark.parametrize("task_id", [MAX_ID + 1, 2**63, 2**64, -(2**64), 2**200])
def test_json_task_id_beyond_the_id_range_is_a_per_item_error(client, world, task_id):
    events = [{"event_id": "big", "task_id": task_id, "kind": "like"},
              {"event_id": "edge", "task_id": MAX_ID, "kind": "like"}]
    response = client.post("/api/v1/interactions", json={"events": events},
                           headers=bearer(world))
    assert response.status_code == 200
    big, edge = response.get_json()["results"]
    assert big["status"] == "error" and "task_id" in big["errors"]
    assert edge == {"event_id": "edge", "status": "error", "errors": {"task_id": "任务不存在"}}


def test_json_quantity_and_reach_beyond_64_bits_are_field_errors(client, world):
    events = [{"event_id": "q", "task_id": world.task.id, "kind": "like", "quantity": 2**64}]
    body = client.post("/api/v1/interactions", json={"events": events}, headers=bearer(world))
    assert body.status_code == 200
    assert "quantity" in body.get_json()["results"][0]["errors"]
    reach = client.post(f"/api/v1/tasks/{world.task.id}/complete",
                        json={"reach_count": 2**70}, headers=bearer(world))
    assert reach.status_code == 422 and "reach_count" in reach.get_json()["errors"]


def test_json_integer_literal_with_5000_digits_is_400(client, world):
    body = '{"events": [{"event_id": "x", "task_id": ' + "9" * 5000 + ', "kind": "like"}]}'
    response = client.post("/api/v1/interactions", data=body, headers=bearer(world))
    assert response.status_code == 400
    assert response.get_json() == {"error": "请求体不是有效的 JSON"}


@pytest.mark.parametrize("path", ["/api/v1/interactions", "/api/v1/tasks/{task}/complete"])
def test_json_nested_100000_deep_is_400_not_recursion_error(client, world, path):
    url = path.format(task=world.task.id)
    response = client.post(url, data=nested(100_000), content_type="application/json",
                           headers=bearer(world))
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(TOO_DEEP)
    inside = client.post(url, data='{"events": ' + nested(100_000) + "}", headers=bearer(world))
    assert inside.status_code == 400 and inside.get_json()["error"].startswith(TOO_DEEP)


def test_json_depth_limit_is_32_levels(client, world):
    at_limit = '{"events": ' + nested(31) + "}"
    response = client.post("/api/v1/interactions", data=at_limit, headers=bearer(world))
    assert response.status_code == 200  # parsed; the inner lists are per-item errors
    assert response.get_json()["errors"] == 1
    over = '{"events": ' + nested(32) + "}"
    refused = client.post("/api/v1/interactions", data=over, headers=bearer(world))
    assert refused.status_code == 400
    assert refused.get_json() == {"error": f"{TOO_DEEP}（最多 32 层）"}


def test_brackets_inside_strings_do_not_count(client, world):
    events = [{"event_id": "[" * 65, "task_id": world.task.id, "kind": "like"}]
    response = client.post("/api/v1/interactions", json={"events": events},
                           headers=bearer(world))
    assert response.status_code == 200
    assert "event_id" in response.get_json()["results"][0]["errors"]  # too long, not too deep


# --- every API error as JSON ----------------------------------------------------------------

@pytest.fixture
def probe_app(make_app):
    """An app with ``/api/v1/probe/*`` routes that fail on purpose (429, 500)."""
    probed = make_app(WTF_CSRF_ENABLED=False)

    @probed.get("/api/v1/probe/limited")
    def limited():
        raise TooManyRequests(retry_after=30)

    @probed.get("/api/v1/probe/crash")
    def crash():
        raise RuntimeError("boom")

    return probed


def test_api_404_405_413_are_json(client, world):
    cases = [
        (client.get("/api/v1/nope", headers=bearer(world)), 404),
        (client.get("/api/v1/interactions", headers=bearer(world)), 405),
        (client.post("/api/v1/interactions", data="x" * (MIB + 1), headers=bearer(world)), 413),
    ]
    for response, status in cases:
        assert response.status_code == status
        assert response.is_json and set(response.get_json()) == {"error"}
    assert cases[1][0].headers["Allow"]


def test_api_429_and_500_are_json(probe_app, db):
    client = probe_app.test_client()
    limited = client.get("/api/v1/probe/limited")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "30"
    assert limited.get_json() == {"error": "操作过于频繁，请稍后再试"}
    crash = client.get("/api/v1/probe/crash")
    assert crash.status_code == 500
    assert crash.get_json() == {"error": "服务器内部错误，请稍后再试"}
