"""OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written by hand beside the views it describes (``app.feed.api``) and kept in step by
tests: every ``/api/v1`` rule must appear here with its methods
(``tests/feed/test_openapi.py``), and schemathesis calls the live app with cases generated
from this document and checks every answer against it (``tests/feed/test_api_schema.py``).
Enumerations come from the models, limits from the validators, so they cannot drift.
"""

from __future__ import annotations

from app.broadcasts.models import NOTE_MAX_CHARS, TaskStatus
from app.compliance import Severity
from app.content.models import Channel
from app.content.services import MAX_BODY_CHARS
from app.core.http import MAX_ID
from app.feed.notes import NOTE_PATTERN
from app.feed.services import MAX_REACH_COUNT
from app.interactions.models import InteractionKind
from app.interactions.schemas import EVENT_ID_MAX_CHARS, MAX_QUANTITY

_ERROR = {"$ref": "#/components/schemas/Error"}
_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
_INSTANT = {"type": ["string", "null"], "format": "date-time"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int, texts: dict[int, str] | None = None) -> dict:
    text = {400: "请求体不是有效的 JSON 或嵌套过深", 401: "缺少或无效的 API 令牌",
            403: "该账号无权使用前台 API", 404: "任务不存在或不属于本人",
            409: "状态冲突", 413: "请求内容过大", 422: "字段校验失败", 429: "请求过于频繁"}
    text.update(texts or {})
    return {str(status): _json(_ERROR, text[status]) for status in statuses}


TASK = {
    "type": "object",
    "required": ["id", "post_id", "run_date", "sop", "channel", "text", "chart_url", "status",
                 "due_at", "completed_at", "reach_count", "overdue", "note"],
    "properties": {
        "id": _ID, "post_id": _ID,
        "run_date": {"type": "string", "format": "date"},
        "sop": {"type": "string", "description": "SOP plan name"},
        "channel": {"enum": [c.value for c in Channel]},
        "text": {"type": "string",
                 "description": "text to copy into WeCom: the approved text and the note"},
        "chart_url": {"type": ["string", "null"], "description": "path of the chart PNG"},
        "status": {"enum": [s.value for s in TaskStatus]},
        "due_at": {"type": "string", "format": "date-time"},
        "completed_at": _INSTANT,
        "reach_count": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_REACH_COUNT},
        "overdue": {"type": "boolean"},
        "note": {"type": ["string", "null"], "maxLength": NOTE_MAX_CHARS,
                 "description": "personal note 附言 after the approved text"},
    },
}

EVENT = {
    "type": "object",
    "required": ["event_id", "task_id", "kind"],
    "additionalProperties": False,
    "properties": {
        "event_id": {"type": "string", "minLength": 1, "maxLength": EVENT_ID_MAX_CHARS,
                     "description": "client-chosen id: a retry with the same id is a duplicate"},
        "task_id": _ID,
        "kind": {"enum": [k.value for k in InteractionKind]},
        "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY, "default": 1},
        "occurred_at": {"type": "string", "format": "date-time",
                        "description": "ISO 8601 with offset; default: time of receipt"},
        "amount_cny": {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$",
                       "description": "conversion 转化 only: amount in yuan"},
    },
}

RESULT = {
    "type": "object", "required": ["event_id", "status"],
    "properties": {
        "event_id": {},
        "status": {"enum": ["created", "duplicate", "conflict", "error"]},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


FINDING = {
    "type": "object", "required": ["rule_id", "severity", "start", "end", "message", "citation"],
    "properties": {
        "rule_id": {"type": "string", "description": "RULES.md rule id, e.g. AD-01"},
        "severity": {"enum": [s.value for s in Severity], "description": "block: refused"},
        "start": {"type": "integer", "minimum": 0,
                  "description": "offset of the finding in the body (code points)"},
        "end": {"type": "integer", "minimum": 0, "description": "end offset (exclusive)"},
        "message": {"type": "string"}, "citation": {"type": "string"},
    },
}

CHECK_BODY = {
    "type": "object", "required": ["template_id", "body"],
    "properties": {
        "template_id": _ID,
        "body": {"type": "string", "minLength": 1, "maxLength": MAX_BODY_CHARS,
                 "pattern": r"\S", "description": "the template body being edited"},
    },
}

CHECK_RESULT = {
    "type": "object", "required": ["sample_date", "findings", "segments", "variables"],
    "properties": {
        "sample_date": {"type": ["string", "null"], "format": "date",
                        "description": "market date the body was rendered with"},
        "findings": {"type": "array", "items": {"$ref": "#/components/schemas/Finding"}},
        "segments": {"type": "array", "items": {
            "type": "object", "required": ["text", "css", "rules"],
            "description": "the body cut at the findings, for highlighting"}},
        "variables": {"type": "array", "items": {
            "type": "object", "required": ["name", "value"],
            "description": "a variable the template may use, with today's value"}},
    },
}


def _note() -> dict:
    return {"put": {
        "operationId": "setTaskNote",
        "summary": "Set or remove (null or blank) the personal note 附言 of an open task",
        "description": "Idempotent. The note is checked by the compliance engine: blocking "
                       "findings refuse it (422, errors.note). The task's text then ends with "
                       "the note; its SHA-256 is recorded.",
        "parameters": [{"name": "task_id", "in": "path", "required": True, "schema": _ID}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["note"], "additionalProperties": False,
            "properties": {"note": {"type": ["string", "null"], "maxLength": NOTE_MAX_CHARS,
                                    "pattern": NOTE_PATTERN}}}}}},
        "responses": {
            "200": _json({"type": "object", "required": ["task", "findings"], "properties": {
                "task": {"$ref": "#/components/schemas/Task"},
                "findings": {"type": "array", "description": "warnings of the note",
                             "items": {"$ref": "#/components/schemas/Finding"}}}},
                "the task with its final text"),
            **_errors(400, 401, 403, 404, 409, 413, 422, 429, texts={
                409: "内容已撤回或任务已完成"})}}}


def _compliance_check() -> dict:
    return {"post": {
        "operationId": "complianceCheck",
        "summary": "Compliance findings of a template body (the editor's live check)",
        "description": "Content editors: bearer token, or the editor page's session with the "
                       "CSRF token in X-CSRFToken.",
        "requestBody": {"required": True,
                        "content": {"application/json": {"schema": CHECK_BODY}}},
        "responses": {"200": _json(CHECK_RESULT, "findings, highlighted segments, variables"),
                      **_errors(400, 401, 403, 404, 413, 422, 429, texts={
                          400: "请求体不是有效的 JSON，或会话请求缺少 CSRF 令牌",
                          403: "该账号无权编辑内容", 404: "模板不存在"})}}}


def openapi_document() -> dict:
    """The OpenAPI 3.1 document of ``/api/v1`` (a fresh dict each call).

    :returns: JSON-serialisable mapping: info, servers (relative), bearer security,
        paths ``/feed/today``, ``/tasks/{task_id}/complete``, ``/tasks/{task_id}/note``,
        ``/interactions``, ``/compliance/check``.
    """
    return {
        "openapi": "3.1.0",
        "info": {"title": "Zhongtai 中台 front-office API", "version": "1",
                 "description": "前台 API：今日任务、标记完成、登记客户互动。"
                                "Bearer token from 账号 → API 令牌 or `flask users token`."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {
                    "error": {"type": "string"},
                    "errors": {"type": "object"}}},
                "Task": TASK, "Event": EVENT, "EventResult": RESULT, "Finding": FINDING,
            },
        },
        "paths": {
            "/feed/today": {"get": {
                "operationId": "feedToday",
                "summary": "今日任务: the caller's tasks for the business date and overdue ones",
                "responses": {"200": _json({"type": "object", "required": ["date", "tasks"],
                                            "properties": {
                                                "date": {"type": "string", "format": "date"},
                                                "tasks": {"type": "array", "items": {
                                                    "$ref": "#/components/schemas/Task"}}}},
                                           "today's tasks"),
                              **_errors(401, 403, 429)}}},
            "/tasks/{task_id}/complete": {"post": {
                "operationId": "completeTask",
                "summary": "Mark the caller's task done (idempotent); optional reach count",
                "parameters": [{"name": "task_id", "in": "path", "required": True,
                                "schema": _ID}],
                "requestBody": {"required": False, "content": {"application/json": {"schema": {
                    "type": ["object", "null"], "additionalProperties": False,
                    "properties": {"reach_count": {
                        "type": ["integer", "null"], "minimum": 0, "maximum": MAX_REACH_COUNT,
                        "description": "customers sent to; null or absent: not reported"}}}}}},
                "responses": {"200": _json({"$ref": "#/components/schemas/Task"}, "the task"),
                              **_errors(400, 401, 403, 404, 409, 413, 422, 429)}}},
            "/interactions": {"post": {
                "operationId": "recordInteractions",
                "summary": "Record a batch of customer interactions; one result per event",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["events"], "properties": {
                        "events": {"type": "array",
                                   "items": {"$ref": "#/components/schemas/Event"}}}}}}},
                "responses": {
                    "200": _json({"type": "object", "required": [
                        "results", "created", "duplicates", "conflicts", "errors"],
                        "properties": {
                            "results": {"type": "array",
                                        "items": {"$ref": "#/components/schemas/EventResult"}},
                            **{k: {"type": "integer", "minimum": 0} for k in (
                                "created", "duplicates", "conflicts", "errors")}}},
                        "per-event results"),
                    **_errors(400, 401, 403, 413, 422, 429)}}},
            "/tasks/{task_id}/note": _note(),
            "/compliance/check": _compliance_check(),
        },
    }
