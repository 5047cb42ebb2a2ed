"""Render in worker processes under kernel limits: the hard wall of the render budget.

Python cannot stop a thread, and a single C routine (a huge ``pow``, a long string
operation) never returns to the counting sandbox. So every render of the application
runs here, in a pool of worker processes (``pebble.ProcessPool``, started through a
``forkserver`` that has imported the libraries once, so a new worker costs a fork and the
import of the few modules of ``app.rendering``, about 20 ms, not the application):

- before each render the worker arms ``RLIMIT_CPU`` at its CPU time so far plus the
  render's budget plus ``CPU_GRACE_SECONDS`` (``app.rendering.worker``): a render the
  sandbox could not stop is killed by the kernel (``SIGXCPU``), wherever it is;
- ``RLIMIT_AS`` caps the worker's address space at its size when the task starts plus
  ``memory_mb``: a huge allocation fails with ``MemoryError`` instead of growing;
- the parent waits with a wall-clock timeout and has the pool kill a worker that hangs.

A killed worker is replaced; the caller gets a :class:`RenderBudgetExceeded`. Renders
of one template for many contexts (the staff of a plan) go to one worker in one call,
which renders until the first failure; the dates of an approval go in one call too, and
only when the kernel had to stop that call are they rendered again one task each, so that a
failure is always attributed to its date.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from flask import current_app, has_app_context
from pebble import ProcessExpired, ProcessPool

from app.rendering.budget import RenderBudget
from app.rendering.sandbox import RenderBudgetExceeded, TemplateRenderError
from app.rendering.worker import (
    CPU_GRACE_SECONDS,
    armed_call,
    init_worker,
    render_batch,
)

logger = logging.getLogger(__name__)

#: Wall-clock seconds added to the timeout of a call, for starting a worker on a busy machine.
WALL_GRACE_SECONDS = 20.0
#: The installed libraries that a worker's import of ``app.rendering.worker`` loads (Jinja2,
#: and Flask's extensions through ``app.core``), imported once by the fork server: a new
#: worker then imports only this package's own modules.
PRELOADED_LIBRARIES = (
    "jinja2", "jinja2.sandbox", "flask", "sqlalchemy", "sqlalchemy.orm", "flask_sqlalchemy",
    "flask_migrate", "flask_login", "flask_wtf", "flask_limiter", "flask_httpauth", "pebble",
)

_pool: ProcessPool | None = None
_pool_pid: int | None = None
_pool_lock = threading.Lock()


class BatchRenderError(TemplateRenderError):
    """Rendering context ``index`` of a batch failed (``None``: not known which).

    ``cause`` is that render's error; ``message`` is its message.
    """

    def __init__(self, index: int | None, cause: TemplateRenderError) -> None:
        super().__init__(cause.message, cause.lineno)
        self.index = index
        self.cause = cause


def render_isolated(body: str, context: Mapping[str, Any],
                    budget: RenderBudget | None = None) -> str:
    """Render ``body`` for one context in a worker process under the render budget.

    :param body: template source.
    :param context: a ``build_context`` dict.
    :param budget: limits (default: from the app config, ``RenderBudget.from_config``).
    :returns: the rendered text.
    :raises RenderBudgetExceeded: over budget (also when the kernel or the timeout
        stopped the worker). :raises TemplateRenderError: any other render failure.
    """
    try:
        return render_isolated_many(body, [context], budget)[0]
    except BatchRenderError as error:
        raise error.cause from None


def render_isolated_many(body: str, contexts: Sequence[Mapping[str, Any]],
                         budget: RenderBudget | None = None, budget_only: bool = False,
                         ) -> list[str]:
    """Render ``body`` for each context, in order, in one worker call; stop at the first failure.

    Each render has the whole budget (CPU time, output, loops, memory). Contexts may
    share their ``market`` and ``charts`` dicts: they are sent once.

    :param contexts: ``build_context`` dicts (e.g. one per staff member).
    :param budget: limits (default: from the app config).
    :param budget_only: fail only on a budget breach; any other render error gives ``""``
        for that context and the batch goes on (for contexts without market data).
    :returns: one text per context.
    :raises BatchRenderError: with the failing context's ``index`` (``None`` when the kernel
        or the timeout stopped the whole call) and its error as ``cause`` (a
        :class:`RenderBudgetExceeded` when over budget, with a Chinese message).
    """
    if not contexts:
        return []
    budget = budget or _configured_budget()
    task = _submit(render_batch, (body, list(contexts), budget, budget_only), budget,
                   renders=len(contexts))
    try:
        texts, failure = _outcome(task, budget)
    except TemplateRenderError as error:
        raise BatchRenderError(None, error) from None
    if failure is not None:
        raise BatchRenderError(failure.index, failure.error())
    return texts


def render_isolated_each(body: str, contexts: Sequence[Mapping[str, Any]],
                         budget: RenderBudget | None = None, budget_only: bool = False,
                         ) -> list[str]:
    """Like :func:`render_isolated_many`, but a failure always names its context.

    The contexts go to one worker call first (one round trip for all of them). Only when
    the kernel or the timeout stopped that whole call, which no longer tells which context
    was rendering, are they rendered again one worker task each (in parallel), so that even
    a render the kernel had to kill is attributed to its context (for approval, which names
    the failing date).

    :returns: one text per context.
    :raises BatchRenderError: for the first failing context in order, with its ``index``.
    """
    budget = budget or _configured_budget()
    try:
        return render_isolated_many(body, contexts, budget, budget_only)
    except BatchRenderError as error:
        if error.index is not None:
            raise
    tasks = [_submit(render_batch, (body, [context], budget, budget_only), budget)
             for context in contexts]
    texts = []
    for index, task in enumerate(tasks):
        try:
            batch, failure = _outcome(task, budget)
        except TemplateRenderError as error:
            raise BatchRenderError(index, error) from None
        if failure is not None:
            raise BatchRenderError(index, failure.error())
        texts.extend(batch)
    return texts


def run_in_worker(function: Callable, args: tuple, budget: RenderBudget, renders: int = 1):
    """Run ``function(*args)`` in a render worker under the budget's kernel limits.

    The worker arms ``RLIMIT_AS`` and ``RLIMIT_CPU`` for ``budget`` (:func:`arm_limits`)
    before calling ``function`` (which may re-arm the CPU limit per render) and lifts
    them afterwards; the parent adds a wall-clock timeout.

    :param function: a module-level function (picklable by reference).
    :param renders: how many renders the call makes (scales the wall-clock timeout).
    :returns: what ``function`` returned.
    :raises RenderBudgetExceeded: ``cpu`` when the kernel or the timeout stopped the worker,
        ``memory`` when an allocation failed or the worker was killed for memory.
    :raises TemplateRenderError: the worker died otherwise or the pool is unavailable.
    """
    return _outcome(_submit(function, args, budget, renders), budget)


def _submit(function: Callable, args: tuple, budget: RenderBudget, renders: int = 1):
    """Schedule ``function(*args)`` between armed limits; returns (future, timeout in s)."""
    timeout = renders * (budget.cpu_seconds + CPU_GRACE_SECONDS) + WALL_GRACE_SECONDS
    return _schedule(armed_call, (function, args, budget), timeout), timeout


def _outcome(task, budget: RenderBudget):
    """The result of a scheduled task, a stopped worker turned into a render error."""
    future, timeout = task
    try:
        return future.result()
    except MemoryError:
        raise RenderBudgetExceeded(budget.message("memory"), "memory") from None
    except BrokenProcessPool:  # e.g. the fork server died; the next call builds a new pool
        logger.exception("render pool broken")
        raise TemplateRenderError("模板渲染服务暂不可用，请稍后重试") from None
    except concurrent.futures.TimeoutError:
        logger.warning("render worker timed out after %.1f s and was replaced", timeout)
        raise RenderBudgetExceeded(budget.message("cpu"), "cpu") from None
    except ProcessExpired as expired:
        logger.warning("render worker pid=%s ended with %s and was replaced",
                       expired.pid, expired.exitcode)
        if expired.exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
            limit = "cpu" if expired.exitcode == -signal.SIGXCPU else "memory"
            raise RenderBudgetExceeded(budget.message(limit), limit) from None
        raise TemplateRenderError("模板渲染失败：渲染进程异常退出，请简化模板") from None


def _configured_budget() -> RenderBudget:
    return RenderBudget.from_config(current_app.config) if has_app_context() else RenderBudget()


def _worker_count() -> int:
    default = 2
    return int(current_app.config.get("RENDER_WORKER_PROCESSES", default)) if has_app_context() \
        else default


def _schedule(function: Callable, args: tuple, timeout: float):
    """Schedule on the pool; a pool that broke (all workers lost) is rebuilt once."""
    for attempt in (1, 2):
        pool = _get_pool(rebuild=attempt == 2)
        try:
            return pool.schedule(function, args=args, timeout=timeout)
        except RuntimeError:  # "The Pool is not active"
            logger.warning("render pool not active; rebuilding it")
    raise TemplateRenderError("模板渲染服务暂不可用，请稍后重试")


def _get_pool(rebuild: bool = False) -> ProcessPool:
    """The process's render pool, created on first use (and again after a fork)."""
    global _pool, _pool_pid
    with _pool_lock:
        stale = _pool is None or _pool_pid != os.getpid() or not _pool.active
        if rebuild or stale:
            if _pool is not None and _pool_pid == os.getpid():
                _pool.stop()
            context = _mp_context()
            _pool = ProcessPool(max_workers=_worker_count(), initializer=init_worker,
                                context=context)
            _pool_pid = os.getpid()
        return _pool


def _mp_context():
    """``forkserver`` with the libraries preloaded (a worker is a fork of it); else ``spawn``.

    The application's own modules are not preloaded: Python 3.11's fork server starts with
    the interpreter's default ``sys.path``, which may find another checkout's ``app``; each
    worker imports ``app.rendering.worker`` after taking the parent's ``sys.path``.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")  # pragma: no cover - not on Linux
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOADED_LIBRARIES))
    return context
