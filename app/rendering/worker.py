"""Inside a render worker process: kernel limits around each render, and the batch render.

Runs in the worker processes of ``app.rendering.isolation`` (never in a web or scheduler
process): before each render it arms ``RLIMIT_CPU`` (CPU time so far + the budget +
:data:`CPU_GRACE_SECONDS`, so the kernel sends ``SIGXCPU`` to a render the sandbox could
not stop) and, per task, ``RLIMIT_AS`` (the current address space + ``memory_mb``, so a
huge allocation fails with ``MemoryError``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.rendering.budget import RenderBudget
from app.rendering.sandbox import RenderBudgetExceeded, TemplateRenderError, render_body

try:  # POSIX only; without it the counting sandbox and the wall-clock timeout remain
    import resource
except ImportError:  # pragma: no cover - not on Linux
    resource = None

#: CPU seconds a render may run past its budget before the kernel kills its worker
#: (the sandbox normally stops it at the budget; the kernel counts whole seconds).
CPU_GRACE_SECONDS = 1.0
_MB = 1024 * 1024


@dataclass(frozen=True)
class BatchFailure:
    """The first failing render of a batch: its index, the safe message, the line, the limit."""

    index: int
    message: str
    lineno: int | None = None
    limit: str | None = None

    def error(self) -> TemplateRenderError:
        """The exception to raise in the caller (a :class:`RenderBudgetExceeded` if over budget)."""
        if self.limit is not None:
            return RenderBudgetExceeded(self.message, self.limit)
        return TemplateRenderError(self.message, self.lineno)


def init_worker() -> None:
    """Worker start: no core files when the kernel stops a render."""
    if resource is not None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))


def arm_limits(budget: RenderBudget, memory: bool = True) -> None:
    """In a worker: let the kernel stop this process past the budget of the next render.

    ``RLIMIT_CPU`` (soft) = CPU seconds used so far + ``cpu_seconds`` +
    :data:`CPU_GRACE_SECONDS`, rounded up; with ``memory``, ``RLIMIT_AS`` (soft) = the
    current address space + ``memory_mb``. Hard limits are left alone so that the next
    render can be armed again.
    """
    if resource is None:  # pragma: no cover
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(used + budget.cpu_seconds + CPU_GRACE_SECONDS)
    resource.setrlimit(resource.RLIMIT_CPU, (_within(soft, hard), hard))
    if memory:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = _address_space_bytes() + budget.memory_mb * _MB
        resource.setrlimit(resource.RLIMIT_AS, (_within(soft, hard), hard))


def disarm_limits() -> None:
    """In a worker: lift the soft CPU and address-space limits between tasks."""
    if resource is None:  # pragma: no cover
        return
    for limit in (resource.RLIMIT_CPU, resource.RLIMIT_AS):
        resource.setrlimit(limit, (resource.getrlimit(limit)[1],) * 2)


def _within(soft: int, hard: int) -> int:
    return soft if hard == resource.RLIM_INFINITY else min(soft, hard)


def _address_space_bytes() -> int:
    """Current virtual size of this process (``/proc/self/statm``, Linux)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def armed_call(function: Callable, args: tuple, budget: RenderBudget) -> Any:
    """In a worker: ``function(*args)`` between :func:`arm_limits` and :func:`disarm_limits`."""
    arm_limits(budget)
    try:
        return function(*args)
    finally:
        disarm_limits()


def render_batch(body: str, contexts: list[Mapping[str, Any]], budget: RenderBudget,
                 budget_only: bool = False) -> tuple[list[str], BatchFailure | None]:
    """In a worker: render each context, the CPU limit re-armed per render; stop at a failure.

    :returns: (texts so far, ``None``) or (texts so far, the first :class:`BatchFailure`);
        with ``budget_only`` a failure that is not a budget breach gives ``""`` and goes on.
    """
    texts: list[str] = []
    for index, context in enumerate(contexts):
        arm_limits(budget, memory=False)
        try:
            texts.append(render_body(body, context, budget))
        except RenderBudgetExceeded as error:
            return texts, BatchFailure(index, error.message, limit=error.limit)
        except TemplateRenderError as error:
            if not budget_only:
                return texts, BatchFailure(index, error.message, error.lineno)
            texts.append("")
    return texts, None
