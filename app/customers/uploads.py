"""Imports from the web: an upload is stored, previewed, confirmed, then run with progress.

Each upload gets a random id (32 hex digits). Its file and a small JSON state file (kind, file name,
uploader, status, progress, result) live in ``<instance>/imports/``; state files are
replaced atomically, so any web worker can show the progress of an import that another
process runs. The import runs in a background thread with its own app context and unit of
work (``IMPORT_IN_BACKGROUND``; tests run it inline) through the same engine as the CLI.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from pathlib import Path

from flask import Flask, current_app

from app.core.errors import NotFound
from app.core.unit_of_work import unit_of_work
from app.customers.files import UnreadableFile
from app.customers.imports import Preview, import_file, preview_file, record_import

logger = logging.getLogger(__name__)


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _state_path(upload_id: str) -> Path:
    if len(upload_id) != 32 or any(c not in "0123456789abcdef" for c in upload_id):
        raise NotFound("导入任务不存在")
    return _folder() / f"{upload_id}.json"


def _write_state(upload_id: str, state: dict) -> None:
    path = _state_path(upload_id)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


def load_state(upload_id: str) -> dict:
    """The state of upload ``upload_id``: kind, filename, status, position, size, result.

    ``status`` is ``uploaded``, ``running``, ``done`` or ``failed``.

    :raises NotFound: unknown upload_id.
    """
    path = _state_path(upload_id)
    if not path.is_file():
        raise NotFound("导入任务不存在")
    return json.loads(path.read_text(encoding="utf-8"))


def save_upload(kind: str, filename: str, stream, user_id: int) -> str:
    """Store an uploaded file (spooled by werkzeug) and return its new upload_id."""
    upload_id = secrets.token_hex(16)
    suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    stored = _folder() / f"{upload_id}{suffix}"
    with stored.open("wb") as handle:
        while chunk := stream.read(1024 * 1024):
            handle.write(chunk)
    _write_state(upload_id, {"kind": kind, "filename": filename, "path": str(stored),
                         "user_id": user_id, "status": "uploaded", "position": 0, "size": 1})
    logger.info("import uploaded upload_id=%s kind=%s user_id=%s", upload_id, kind, user_id)
    return upload_id


def preview(upload_id: str) -> tuple[dict, Preview | None, str | None]:
    """The state, a preview of the first rows (or ``None``) and an unreadable-file message."""
    state = load_state(upload_id)
    try:
        return state, preview_file(state["kind"], state["path"]), None
    except UnreadableFile as error:
        return state, None, error.message


def start_import(upload_id: str) -> None:
    """Run the import of an uploaded file once (a second confirm is ignored).

    :raises NotFound: unknown upload_id.
    """
    state = load_state(upload_id)
    if state["status"] != "uploaded":
        return
    _write_state(upload_id, {**state, "status": "running"})
    app = current_app._get_current_object()
    if app.config["IMPORT_IN_BACKGROUND"]:
        threading.Thread(target=_run, args=(app, upload_id), daemon=True,
                         name=f"import-{upload_id[:8]}").start()
    else:  # inside the request, whose unit of work commits
        _run_guarded(upload_id, in_request=True)


def _run(app: Flask, upload_id: str) -> None:
    """Thread body: its own app context and unit of work (one commit when the import ends)."""
    with app.app_context():
        _run_guarded(upload_id, in_request=False)


def _run_guarded(upload_id: str, in_request: bool) -> None:
    """Import, then record ``done`` (after the commit) or ``failed`` (nothing written)."""
    state = load_state(upload_id)
    try:
        if in_request:
            result = _import(upload_id, state)
        else:
            with unit_of_work():
                result = _import(upload_id, state)
    except UnreadableFile as error:
        _write_state(upload_id, {**state, "status": "failed", "error": error.message})
        return
    except Exception:
        logger.exception("import failed upload_id=%s", upload_id)
        _write_state(upload_id, {**state, "status": "failed", "error": "导入失败，未写入任何数据"})
        if in_request:
            raise
        return
    _write_state(upload_id, {**state, "status": "done", "position": 1, "size": 1,
                         "result": result.as_dict()})


def _import(upload_id: str, state: dict):
    last = {"written": 0}

    def progress(position: int, size: int) -> None:
        if position - last["written"] >= size / 50 or position >= size:
            last["written"] = position
            _write_state(upload_id, {**state, "status": "running", "position": position,
                                 "size": max(size, 1)})

    result = import_file(state["kind"], state["path"], progress=progress)
    record_import(state.get("user_id"), state["kind"], state["path"], state.get("filename"),
                  result)
    return result
