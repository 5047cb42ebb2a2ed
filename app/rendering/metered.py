"""The counting sandbox: an immutable Jinja sandbox that meters its own work.

Every hook charges the :class:`~app.rendering.budget.RenderMeter` of the render in
progress (set by :func:`metering`) and raises
:class:`~app.rendering.budget.BudgetExceeded` before a limit is passed:

- ``**``, ``*``, ``+`` and ``%``: integer width and string/list length are estimated
  *before* computing (``9**64**64**64`` never starts), and checked after;
- ``{% for %}``: every iteration is counted (the compiled loop iterates through
  :meth:`MeteredSandbox.metered_iter`);
- list, tuple and dict literals: measured as they are built, counting shared parts as
  often as they would print (``[l, l]`` nested 40 deep is refused);
- ``~``, calls (macros, methods) and filters: counted, their size-like arguments
  (``center(10**9)``, ``'{:>99999999}'``) refused, their results measured;
- the CPU clock is read every few counted steps.

Output is counted by the caller while streaming (``app.rendering.sandbox.render_body``).
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from app.rendering.budget import BudgetExceeded, RenderMeter, logical_size

_METER: ContextVar[RenderMeter | None] = ContextVar("render_meter", default=None)

#: printf conversions: width and precision digits (or ``*``, taken from the arguments).
_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
#: ``str.format`` replacement fields with a format spec after ``:``.
_FORMAT_SPEC = re.compile(r"\{[^{}:]*:([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")
_DIGITS = re.compile(r"\d+")
#: Filters and ``str`` methods whose integer arguments are output sizes.
_SIZE_ARGUMENTS = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice",
                             "ljust", "rjust", "zfill", "expandtabs"})
_OPERATORS = {"*": operator.mul, "**": operator.pow, "+": operator.add, "%": operator.mod}


@contextmanager
def metering(meter: RenderMeter) -> Iterator[RenderMeter]:
    """Make ``meter`` the meter of the templates rendered in this block (this thread)."""
    token = _METER.set(meter)
    try:
        yield meter
    finally:
        _METER.reset(token)


def current_meter() -> RenderMeter:
    """The meter of the render in progress.

    :raises SecurityError: outside :func:`metering` (templates render only through it).
    """
    meter = _METER.get()
    if meter is None:
        raise SecurityError("sandboxed render without a meter")
    return meter


def _is_metered(node: nodes.Expr) -> bool:
    return (isinstance(node, nodes.Call) and isinstance(node.node, nodes.EnvironmentAttribute)
            and node.node.name == "metered_iter")


class _MeteredCodeGenerator(CodeGenerator):
    """Compiles loops and ``~`` through the environment's metering methods.

    A loop ``{% for x in seq %}`` compiles as ``for x in environment.metered_iter(seq)``
    (a call node: Jinja forbids new node types), ``a ~ b`` as
    ``environment.metered_concat(a ~ b)``, and list, tuple and dict literals through
    ``environment.sized``.
    """

    def visit_For(self, node: nodes.For, frame) -> None:  # noqa: D102 - Jinja visitor
        if not _is_metered(node.iter):
            node.iter = nodes.Call(nodes.EnvironmentAttribute("metered_iter"), [node.iter],
                                   [], None, None, lineno=node.iter.lineno)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame) -> None:  # noqa: D102
        self.write("environment.metered_concat(")
        super().visit_Concat(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame) -> None:  # noqa: D102
        self.write("environment.sized(")
        super().visit_List(node, frame)
        self.write(")")

    def visit_Dict(self, node: nodes.Dict, frame) -> None:  # noqa: D102
        self.write("environment.sized(")
        super().visit_Dict(node, frame)
        self.write(")")

    def visit_Tuple(self, node: nodes.Tuple, frame) -> None:  # noqa: D102
        if node.ctx != "load":  # an assignment target (``{% for a, b in … %}``)
            super().visit_Tuple(node, frame)
            return
        self.write("environment.sized(")
        super().visit_Tuple(node, frame)
        self.write(")")


class MeteredSandbox(ImmutableSandboxedEnvironment):
    """``ImmutableSandboxedEnvironment`` whose operators, loops, calls and filters are metered."""

    code_generator_class = _MeteredCodeGenerator
    intercepted_binops = frozenset(_OPERATORS)

    def call_binop(self, context, operator_name: str, left: Any, right: Any) -> Any:
        """Apply ``*``, ``**``, ``+`` or ``%`` after estimating the size of the result.

        :raises BudgetExceeded: ``int_bits`` or ``size`` (before computing when possible).
        """
        meter = current_meter()
        _precheck_binop(operator_name, left, right, meter)
        result = _OPERATORS[operator_name](left, right)
        meter.check_size(result)
        return result

    def call(self, context, obj, /, *args: Any, **kwargs: Any) -> Any:
        """Count a call (macro, method, ``loop(...)``), refuse size-like arguments, measure."""
        meter = current_meter()
        meter.step()
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, str):
            _precheck_text_call(getattr(obj, "__name__", ""), owner, args, meter)
        result = super().call(context, obj, *args, **kwargs)
        meter.check_size(result)
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """The sandbox's ``str.format``/``format_map``, refusing widths above the output limit."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            values = [*args, *kwargs.values()]
            if args and isinstance(args[0], Mapping):  # format_map
                values.extend(args[0].values())
            _precheck_format(fmt, values, current_meter())
            return wrapped(*args, **kwargs)

        return checked

    def metered_iter(self, iterable: Iterable) -> Iterator:
        """The loop's iterable, charging one loop iteration per item."""
        return _counted(iterable, current_meter())

    def metered_concat(self, value: str) -> str:
        """The result of ``~``, measured. :raises BudgetExceeded: ``size``."""
        current_meter().check_size(value)
        return value

    def sized(self, value: Any) -> Any:
        """A list, tuple or dict literal, measured as it is built.

        ``[l, l]`` nested 40 deep is 2**40 items when printed or compared.
        :raises BudgetExceeded: ``size``.
        """
        current_meter().check_size(value)
        return value


def metered_filters(filters: dict[str, Callable]) -> dict[str, Callable]:
    """Wrap each filter so that it is counted, its size-like arguments refused, its result measured.

    :param filters: name → filter function (Jinja's ``pass_context`` etc. are preserved).
    :returns: a new dict with the wrapped filters.
    """
    return {name: _metered_filter(name, func) for name, func in filters.items()}


def _metered_filter(name: str, func: Callable) -> Callable:
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(func)
    def metered(*args: Any, **kwargs: Any) -> Any:
        meter = current_meter()
        meter.step()
        value, rest = (args[skip], args[skip + 1:]) if len(args) > skip else (None, ())
        if name in _SIZE_ARGUMENTS:
            _refuse_large_ints((*rest, *kwargs.values()), meter)
        elif name == "replace" and isinstance(value, str):
            _precheck_replace(value, rest, kwargs, meter)
        elif name == "format" and isinstance(value, str):
            _precheck_printf(value, rest or tuple(kwargs.values()), meter)
        elif name == "join" and isinstance(value, list | tuple):
            separator = rest[0] if rest else kwargs.get("d", "")
            if isinstance(separator, str):
                _precheck_text_call("join", separator, (value,), meter)
        result = func(*args, **kwargs)
        meter.check_size(result)
        return result

    return metered


def _counted(iterable: Iterable, meter: RenderMeter) -> Iterator:
    for item in iterable:
        meter.loop_iteration()
        yield item


def _precheck_binop(operator_name: str, left: Any, right: Any, meter: RenderMeter) -> None:
    budget = meter.budget
    if operator_name == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            # |left| ** right has about right * log2|left| bits (at least ``right``)
            if right > budget.max_int_bits or right * math.log2(abs(left)) > budget.max_int_bits:
                raise BudgetExceeded("int_bits")
    elif operator_name == "*":
        if isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > budget.max_int_bits + 1:
                raise BudgetExceeded("int_bits")
            return
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int) and count > 0:
                if count * logical_size(seq, budget.max_output_chars) > budget.max_output_chars:
                    raise BudgetExceeded("size")
    elif operator_name == "+":
        if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
            cap = budget.max_output_chars
            if logical_size(left, cap) + logical_size(right, cap) > cap:
                raise BudgetExceeded("size")
    elif operator_name == "%" and isinstance(left, str):
        _precheck_printf(left, right if isinstance(right, tuple) else (right,), meter)


def _precheck_text_call(name: str, text: str, args: tuple, meter: RenderMeter) -> None:
    if name in _SIZE_ARGUMENTS:
        _refuse_large_ints(args, meter)
    elif name == "replace":
        _precheck_replace(text, args, {}, meter)
    elif name == "join" and args and isinstance(args[0], list | tuple):
        if len(text) * len(args[0]) > meter.budget.max_output_chars:
            raise BudgetExceeded("size")


def _precheck_replace(text: str, args: tuple, kwargs: dict, meter: RenderMeter) -> None:
    old = args[0] if args else kwargs.get("old")
    new = args[1] if len(args) > 1 else kwargs.get("new")
    if not isinstance(old, str) or not isinstance(new, str):
        return
    hits = text.count(old) if old else len(text) + 1
    if len(text) + hits * max(0, len(new) - len(old)) > meter.budget.max_output_chars:
        raise BudgetExceeded("size")


def _precheck_printf(fmt: str, args: Iterable, meter: RenderMeter) -> None:
    cap = meter.budget.max_output_chars
    for width, precision in _PRINTF_SPEC.findall(fmt):
        for digits in (width, precision):
            if digits == "*":
                _refuse_large_ints(args, meter)
            elif digits and int(digits) > cap:
                raise BudgetExceeded("size")


def _precheck_format(fmt: str, values: list, meter: RenderMeter) -> None:
    for spec in _FORMAT_SPEC.findall(fmt):
        if "{" in spec:
            _refuse_large_ints(values, meter)
        if any(int(digits) > meter.budget.max_output_chars for digits in _DIGITS.findall(spec)):
            raise BudgetExceeded("size")


def _refuse_large_ints(values: Iterable, meter: RenderMeter) -> None:
    cap = meter.budget.max_output_chars
    if any(isinstance(v, int) and abs(v) > cap for v in values):
        raise BudgetExceeded("size")
