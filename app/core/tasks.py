"""Background tasks: Dramatiq on Redis in production, in-process by default.

A feature package declares a task with :func:`task` at module level and queues it with
:func:`enqueue`; nothing else in the app knows the queue exists::

    from app.core.tasks import enqueue, task

    @task(queue_name="imports", max_retries=3, time_limit_seconds=600)
    def import_customers(upload_id: int) -> None:
        ...  # runs in its own app context and unit of work; takes ids, reloads rows

    enqueue(import_customers, upload.id)  # from a view, a CLI command or another task

- ``TASK_QUEUE_URL`` empty (development, ``make run``, tests): :func:`enqueue` runs the
  task at once, inline, inside the caller's app context and unit of work; an exception
  propagates to the caller. Nothing extra to run.
- ``TASK_QUEUE_URL=redis://…``: :func:`enqueue` sends a Dramatiq message to the queue
  ``<TASK_QUEUE_NAMESPACE>:<queue_name>``; ``flask tasks worker`` processes run it, each
  message in a fresh app context and one unit of work (commit on return, roll back on an
  exception), retried with exponential backoff up to ``max_retries``. If the caller's
  session is inside a transaction, the message is sent only when that transaction
  commits, and dropped if it rolls back, so a worker never looks for rows that were not
  committed (or never will be).

Arguments must be JSON values (ids, dates as ISO strings); tasks must be idempotent, since
a message is delivered at least once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.extensions import db
from app.core.task_metrics import TASK_RUNS, TaskOutcomes
from app.core.unit_of_work import unit_of_work

logger = logging.getLogger(__name__)
_EXTENSION = "task_queue"
_PENDING = "zt_pending_messages"


@dataclass(frozen=True)
class TaskSpec:
    """A declared task: its function and Dramatiq options."""

    fn: Callable
    name: str
    queue_name: str
    max_retries: int
    time_limit_ms: int
    max_age_ms: int | None = None


#: Every task declared with :func:`task`, by name (filled at import of the feature modules).
REGISTRY: dict[str, TaskSpec] = {}


def task(fn: Callable | None = None, *, queue_name: str = "default", max_retries: int = 3,
         time_limit_seconds: int = 600, max_age_seconds: int | None = None):
    """Declare a module-level function as a background task (decorator).

    :param queue_name: Dramatiq queue (workers may be started for some queues only).
    :param max_retries: retries after a failure, with exponential backoff.
    :param time_limit_seconds: the worker interrupts a run that takes longer.
    :param max_age_seconds: broker mode: a message still waiting this long after it was
        sent is dropped unrun (Dramatiq's ``AgeLimit``): for periodic work that the next
        period queues again, so messages never pile up while workers are down.
    :returns: the function itself, unchanged (call it directly to run it inline).
    :raises ValueError: two tasks with the same ``module.function`` name.
    """
    if fn is None:
        return functools.partial(task, queue_name=queue_name, max_retries=max_retries,
                                 time_limit_seconds=time_limit_seconds,
                                 max_age_seconds=max_age_seconds)
    name = f"{fn.__module__}.{fn.__qualname__}"
    if name in REGISTRY and REGISTRY[name].fn is not fn:
        raise ValueError(f"task {name} is declared twice")
    REGISTRY[name] = TaskSpec(fn, name, queue_name, max_retries, time_limit_seconds * 1000,
                              max_age_seconds * 1000 if max_age_seconds else None)
    fn.task_name = name
    return fn


@dataclass
class TaskQueue:
    """The app's queue: ``broker`` is ``None`` in-process, else a Dramatiq broker."""

    broker: dramatiq.Broker | None
    actors: dict[str, dramatiq.Actor] = field(default_factory=dict)

    def actor(self, name: str) -> dramatiq.Actor:
        """The Dramatiq actor of task ``name``, declared on first use.

        :raises KeyError: no task of that name was declared with :func:`task`.
        """
        if name not in self.actors:
            spec = REGISTRY[name]
            options = {"max_retries": spec.max_retries, "time_limit": spec.time_limit_ms}
            if spec.max_age_ms:
                options["max_age"] = spec.max_age_ms
            self.actors[name] = dramatiq.Actor(
                _in_unit_of_work(current_app._get_current_object(), spec.fn),
                broker=self.broker, actor_name=name, queue_name=spec.queue_name, priority=0,
                options=options)
        return self.actors[name]

    def declare_all(self) -> None:
        """Declare every registered task on the broker (a worker does this before consuming)."""
        for name in sorted(REGISTRY):
            self.actor(name)


def _in_unit_of_work(app: Flask, fn: Callable) -> Callable:
    """``fn`` run by a worker: its own app context, one unit of work, session removed."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with app.app_context():
            try:
                with unit_of_work():
                    return fn(*args, **kwargs)
            finally:
                db.session.remove()

    return run


def build_broker(url: str, namespace: str) -> dramatiq.Broker | None:
    """The Dramatiq broker for ``TASK_QUEUE_URL``.

    :param url: empty (in-process, returns ``None``) or ``redis://host:port/db``.
    :param namespace: key prefix in Redis (``TASK_QUEUE_NAMESPACE``).
    :raises ValueError: any other scheme. Nothing connects until a message is sent.
    """
    if not url:
        return None
    if url.startswith(("redis://", "rediss://", "unix://")):
        broker = RedisBroker(url=url, namespace=namespace)
        broker.add_middleware(TaskOutcomes())
        return broker
    raise ValueError("TASK_QUEUE_URL must be empty (in-process) or redis://host:port/db")


def init_app(app: Flask) -> None:
    """Attach the queue of ``TASK_QUEUE_URL`` to ``app`` (no connection is opened).

    :raises ValueError: ``TASK_QUEUE_URL`` has an unsupported scheme.
    """
    broker = build_broker(app.config.get("TASK_QUEUE_URL") or "",
                          app.config.get("TASK_QUEUE_NAMESPACE") or "zhongtai")
    app.extensions[_EXTENSION] = TaskQueue(broker)
    if not event.contains(Session, "after_commit", _send_pending):
        event.listen(Session, "after_commit", _send_pending)
        event.listen(Session, "after_rollback", _drop_pending)


def queue() -> TaskQueue:
    """The current app's :class:`TaskQueue`."""
    return current_app.extensions[_EXTENSION]


def enqueue(fn: Callable, *args, delay_seconds: int | None = None) -> str | None:
    """Run ``fn`` (declared with :func:`task`) in the background with ``args``.

    :param fn: the task function.
    :param args: JSON-serialisable positional arguments (ids, ISO dates, strings).
    :param delay_seconds: broker mode only: run no earlier than this many seconds from now.
    :returns: the Dramatiq message id (broker mode), or ``None`` when run in-process.
    :raises KeyError: ``fn`` was not declared with :func:`task`.
    :raises Exception: in-process mode, whatever the task raised.
    """
    name = getattr(fn, "task_name", None)
    if name not in REGISTRY:
        raise KeyError(f"{fn!r} is not a task: declare it with @task")
    current = queue()
    if current.broker is None:
        logger.info("task %s run in-process", name)
        try:
            fn(*args)
        except Exception:
            TASK_RUNS.labels(name, "failed").inc()
            raise
        TASK_RUNS.labels(name, "succeeded").inc()
        return None
    message = current.actor(name).message_with_options(args=args)
    delay_ms = delay_seconds * 1000 if delay_seconds else None
    session = db.session()
    if session.in_transaction():
        session.info.setdefault(_PENDING, []).append((current.broker, message, delay_ms))
    else:
        current.broker.enqueue(message, delay=delay_ms)
    logger.info("task %s queued message_id=%s", name, message.message_id)
    return message.message_id


def _send_pending(session: Session) -> None:
    for broker, message, delay_ms in session.info.pop(_PENDING, []):
        broker.enqueue(message, delay=delay_ms)


def _drop_pending(session: Session) -> None:
    dropped = session.info.pop(_PENDING, [])
    if dropped:
        logger.info("rolled back: %d queued task message(s) dropped", len(dropped))
