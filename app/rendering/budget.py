"""The render budget: limits on one sandboxed render of an editor's template.

A render may use at most ``cpu_seconds`` of CPU, produce at most ``max_output_chars``
characters, run at most ``max_loop_iterations`` loop iterations, build integers of at
most ``max_int_bits`` bits and strings or lists of at most ``max_output_chars`` items, and
allocate at most ``memory_mb`` MB on top of what its worker process already uses.

Two layers enforce it. The counting sandbox (``app.rendering.sandbox``) checks sizes
*before* computing and counts loop iterations, calls and output while rendering, via the
:class:`RenderMeter` of the render. Every render of the application runs in a worker
process (``app.rendering.isolation``) where the kernel enforces CPU time and address space
(``RLIMIT_CPU``, ``RLIMIT_AS``), so even work the sandbox cannot count (a slow C routine)
ends with the worker killed and replaced, never a hung web or scheduler thread.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2.sandbox import SecurityError

#: How often (in counted steps) a render reads its CPU clock.
_CLOCK_EVERY_STEPS = 16


@dataclass(frozen=True)
class RenderBudget:
    """Limits of one render; defaults match ``config.Config``.

    :ivar cpu_seconds: CPU time of one render (process CPU seconds, not wall time).
    :ivar max_output_chars: characters of output, and items of any one string or list
        the template builds (repetition, concatenation, formatting, filters).
    :ivar max_loop_iterations: ``{% for %}`` iterations in one render, nested loops counted
        per inner iteration.
    :ivar max_int_bits: bits of an integer produced by ``**``, ``*`` or ``+``.
    :ivar memory_mb: address space a render may add in its worker process, in MB.
    """

    cpu_seconds: float = 1.0
    max_output_chars: int = 20_000
    max_loop_iterations: int = 10_000
    max_int_bits: int = 1024
    memory_mb: int = 256

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RenderBudget:
        """The budget configured in ``config`` (``RENDER_*`` keys).

        Keys: ``RENDER_CPU_SECONDS``, ``RENDER_MAX_OUTPUT_CHARS``,
        ``RENDER_MAX_LOOP_ITERATIONS``, ``RENDER_MAX_INT_BITS`` and ``RENDER_MEMORY_MB``.

        :param config: a Flask config (or any mapping); a missing key keeps the default.
        :returns: the budget.
        """
        default = cls()
        return cls(
            cpu_seconds=float(config.get("RENDER_CPU_SECONDS", default.cpu_seconds)),
            max_output_chars=int(config.get("RENDER_MAX_OUTPUT_CHARS",
                                            default.max_output_chars)),
            max_loop_iterations=int(config.get("RENDER_MAX_LOOP_ITERATIONS",
                                               default.max_loop_iterations)),
            max_int_bits=int(config.get("RENDER_MAX_INT_BITS", default.max_int_bits)),
            memory_mb=int(config.get("RENDER_MEMORY_MB", default.memory_mb)),
        )

    def message(self, limit: str) -> str:
        """The Chinese message shown to editors for a breach of ``limit``.

        :param limit: ``cpu``, ``output``, ``loop``, ``int_bits``, ``size`` or ``memory``.
        :returns: e.g. ``模板渲染超出限制：运行时间超过 1 秒``.
        """
        detail = {
            "cpu": f"运行时间超过 {self.cpu_seconds:g} 秒",
            "output": f"输出超过 {self.max_output_chars} 字",
            "loop": f"循环次数超过 {self.max_loop_iterations} 次",
            "int_bits": f"整数超过 {self.max_int_bits} 位（乘方或乘法过大）",
            "size": f"文字或列表长度超过 {self.max_output_chars}（重复、拼接或格式宽度过大）",
            "memory": f"内存占用超过 {self.memory_mb} MB",
        }[limit]
        return f"模板渲染超出限制：{detail}"


class BudgetExceeded(SecurityError):
    """Internal: a render broke its budget; ``limit`` names which one (see ``message``)."""

    def __init__(self, limit: str) -> None:
        super().__init__(limit)
        self.limit = limit


class RenderMeter:
    """Counters of one render, checked as it runs (one meter per render, one thread).

    :param budget: the limits.
    :param clock: CPU clock in seconds (default ``time.process_time``).
    """

    def __init__(self, budget: RenderBudget, clock=time.process_time) -> None:
        self.budget = budget
        self.loop_iterations = 0
        self.output_chars = 0
        self._steps = 0
        self._clock = clock
        self._deadline = clock() + budget.cpu_seconds

    def step(self) -> None:
        """Count one unit of work (a call, a loop iteration, an output chunk).

        :raises BudgetExceeded: ``cpu`` once the render's CPU time passes the budget.
        """
        self._steps += 1
        if self._steps % _CLOCK_EVERY_STEPS == 0 and self._clock() > self._deadline:
            raise BudgetExceeded("cpu")

    def loop_iteration(self) -> None:
        """Count one loop iteration. :raises BudgetExceeded: ``loop`` or ``cpu``."""
        self.loop_iterations += 1
        if self.loop_iterations > self.budget.max_loop_iterations:
            raise BudgetExceeded("loop")
        self.step()

    def output(self, chunk: str) -> None:
        """Count ``chunk`` of output. :raises BudgetExceeded: ``output`` or ``cpu``."""
        self.output_chars += len(chunk)
        if self.output_chars > self.budget.max_output_chars:
            raise BudgetExceeded("output")
        self.step()

    def check_cpu(self) -> None:
        """Read the clock now. :raises BudgetExceeded: ``cpu`` past the budget."""
        if self._clock() > self._deadline:
            raise BudgetExceeded("cpu")

    def check_int(self, value: int) -> None:
        """:raises BudgetExceeded: ``int_bits`` when ``value`` is wider than the budget."""
        if value.bit_length() > self.budget.max_int_bits:
            raise BudgetExceeded("int_bits")

    def check_size(self, value: Any) -> None:
        """Check a value the template built: int width, string or list length.

        :raises BudgetExceeded: ``int_bits`` or ``size``.
        """
        if isinstance(value, str):
            if len(value) > self.budget.max_output_chars:
                raise BudgetExceeded("size")
        elif isinstance(value, int):
            self.check_int(value)
        elif isinstance(value, list | tuple | dict) and (
            logical_size(value, self.budget.max_output_chars) > self.budget.max_output_chars
        ):
            raise BudgetExceeded("size")


def logical_size(value: Any, cap: int) -> int:
    """Items of ``value`` as if printed: characters of a string, leaves of nested lists.

    A list counts each element at least 1 and a string element its length.

    A list holding the same sublist 2,000 times counts the sublist 2,000 times (its
    ``repr`` would), but each distinct list is walked once, so the cost is bounded by
    the objects that exist. Counting stops early once it passes ``cap``.

    :param value: a str, list, tuple or dict (keys and values); anything else counts 1.
    :param cap: stop counting above this.
    :returns: the size, or a number above ``cap``.
    """
    return _size(value, cap, {})


def _size(value: Any, cap: int, seen: dict[int, int]) -> int:
    if isinstance(value, str):
        return len(value)
    if not isinstance(value, list | tuple | dict):
        return 1
    known = seen.get(id(value))
    if known is not None:
        return known
    seen[id(value)] = cap + 1  # a list that contains itself is too large
    total = 0
    items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
    for item in items:
        if total > cap:
            break
        total += max(1, _size(item, cap, seen))
    seen[id(value)] = total
    return total
