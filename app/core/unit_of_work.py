"""One commit per unit of work: a request, a CLI command, a scheduler job.

Services flush; nothing below the owner of the unit of work commits.

- A request commits once, after its view returns, when the method changes state (not GET,
  HEAD or OPTIONS), the response is not an error (status < 400) and the view did not call
  :func:`discard_changes`. Anything else rolls back. A commit that fails becomes a 500.
  Views never call ``commit()`` or ``rollback()`` themselves.
- A GET (HEAD, OPTIONS) never writes: an ORM INSERT, UPDATE or DELETE, or a flush of pending
  changes, inside such a request raises :class:`WriteInSafeRequest`.
- A CLI command wrapped in :func:`command_unit_of_work`, or a scheduler job run inside
  :func:`unit_of_work`, commits once when it returns and rolls back when it raises (or
  exits through ``ctx.exit``).
"""

from __future__ import annotations

import functools
import logging
from contextlib import contextmanager

from flask import Flask, g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.extensions import db

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FAILED = "_unit_of_work_failed"
_READ_ONLY = "_unit_of_work_read_only"


class WriteInSafeRequest(RuntimeError):
    """A GET (HEAD, OPTIONS) request tried to write to the database."""


def discard_changes() -> None:
    """Roll back this request's changes now, and commit nothing at its end.

    For a view that handles a domain error itself (flashes it, re-renders or redirects):
    the page it then renders shows the stored state, never a half-done change.
    """
    db.session.rollback()
    setattr(g, _FAILED, True)


def _in_safe_request() -> bool:
    return has_request_context() and g.get(_READ_ONLY, False)


def _start_request() -> None:
    """``before_request``: from here on a safe request may not write.

    Changes already pending in the session (none in a fresh request; a test's own rows
    when the test shares its session with the test client) are flushed first, so the
    guard judges only what the request itself does.
    """
    setattr(g, _FAILED, False)  # ``g`` lives as long as the app context, which tests share
    setattr(g, _READ_ONLY, False)
    if request.method in SAFE_METHODS:
        db.session.flush()
        setattr(g, _READ_ONLY, True)


def _refuse_flush(session, flush_context, instances) -> None:
    if _in_safe_request() and (session.new or session.dirty or session.deleted):
        raise WriteInSafeRequest(f"{request.method} {request.path} tried to write")


def _refuse_write_statement(orm_execute_state) -> None:
    if _in_safe_request() and (orm_execute_state.is_insert or orm_execute_state.is_update
                               or orm_execute_state.is_delete):
        raise WriteInSafeRequest(f"{request.method} {request.path} tried to write")


def _finish_request(response):
    """``after_request``: commit a successful state-changing request, roll back a failed one.

    Safe methods neither commit nor roll back: the guard above keeps them from writing,
    and the session is closed when the app context ends.
    """
    if request.method in SAFE_METHODS:
        return response
    if response.status_code >= 400 or g.get(_FAILED, False):
        db.session.rollback()
    else:
        db.session.commit()
    return response


def register_unit_of_work(app: Flask) -> None:
    """Install the request commit point and the no-write guard for safe methods."""
    app.before_request(_start_request)
    app.after_request(_finish_request)
    if not event.contains(Session, "before_flush", _refuse_flush):
        event.listen(Session, "before_flush", _refuse_flush)
        event.listen(Session, "do_orm_execute", _refuse_write_statement)


@contextmanager
def unit_of_work():
    """Commit once when the ``with`` block ends normally; roll back if it raises.

    Any exception rolls back and propagates, a ``click`` exit included: ``ctx.exit()`` closes
    the command's app context first (and with it the session), so a command that must keep
    its work returns instead of exiting. Used by CLI commands and scheduler jobs.
    """
    try:
        yield
    except BaseException:
        if has_app_context():
            db.session.rollback()
        raise
    db.session.commit()


def command_unit_of_work(command):
    """Decorate a CLI command: commit once when it returns, roll back when it raises or exits."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        with unit_of_work():
            return command(*args, **kwargs)

    return wrapper

