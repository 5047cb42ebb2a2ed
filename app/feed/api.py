"""JSON API v1 for front-line clients, authenticated per user by a bearer token.

``GET /api/v1/feed/today``, ``POST /api/v1/tasks/<id>/complete``,
``PUT /api/v1/tasks/<id>/note`` (personal note 附言) and ``POST /api/v1/interactions``,
described by ``GET /api/v1/openapi.json`` (public, ``app.feed.openapi``). Only the
session-less bearer token authenticates here, so the blueprint is exempt from CSRF.
Errors are JSON ``{"error", "errors"?}``. Bodies are read by
``app.core.http.read_json_body``: at most ``MAX_REQUEST_BYTES`` (413) and
``MAX_JSON_DEPTH`` levels of nesting (400); ids in URLs beyond ``MAX_ID`` are 404.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from flask import current_app, jsonify

from app.auth.decorators import api_permission_required
from app.auth.permissions import Action
from app.core.clock import business_now, business_today
from app.core.extensions import csrf, token_auth
from app.core.http import read_json_body
from app.feed import api_bp, notes
from app.feed import services as feed
from app.feed.openapi import openapi_document
from app.feed.schemas import (
    parse_complete_body,
    parse_events_body,
    parse_note_body,
    task_json,
)
from app.interactions import services as interactions

logger = logging.getLogger(__name__)

csrf.exempt(api_bp)


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


@api_bp.get("/feed/today")
@api_permission_required(Action.use_feed)
def feed_today():
    """The caller's tasks for the business date, plus overdue open ones (see services)."""
    day = business_today()
    items = feed.tasks_for_day(token_auth.current_user().id, day)
    tz = _tz()
    return jsonify({"date": day.isoformat(), "tasks": [task_json(i, tz) for i in items]})


@api_bp.post("/tasks/<int:task_id>/complete")
@api_permission_required(Action.use_feed)
def complete_task(task_id: int):
    """Mark the caller's task done (idempotent); body optional ``{"reach_count": N}``."""
    reach_count = parse_complete_body(read_json_body(required=False))
    staff_id = token_auth.current_user().id
    task = feed.complete_task(task_id, staff_id, reach_count, business_now())
    item = feed.task_item(task, business_today())
    return jsonify(task_json(item, _tz()))


@api_bp.put("/tasks/<int:task_id>/note")
@api_permission_required(Action.use_feed)
def put_note(task_id: int):
    """Set or remove (``null``/blank) the personal note of the caller's open task (idempotent).

    Blocking compliance findings refuse it (422, ``errors.note``); the answer holds the task,
    whose ``text`` is the final text, and the warnings of the note.
    """
    staff_id = token_auth.current_user().id
    feed.get_own_task(task_id, staff_id)  # an unknown task is 404 whatever the body
    note = parse_note_body(read_json_body(required=True))
    task, findings = notes.set_note(task_id, staff_id, note)
    item = feed.task_item(task, business_today())
    return jsonify({"task": task_json(item, _tz()), "findings": [f.to_dict() for f in findings]})


@api_bp.post("/interactions")
@api_permission_required(Action.use_feed)
def record_interactions():
    """Record a batch of interaction events; per-item results, HTTP 200 unless the batch is bad."""
    events = parse_events_body(read_json_body(required=True))
    results = interactions.record_events(token_auth.current_user().id, events)
    return jsonify({"results": [r.to_dict() for r in results], **interactions.summarize(results)})


@api_bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API (no token needed: it holds no data)."""
    return jsonify(openapi_document())
