"""Sandboxed rendering of editor-written templates 内容模板.

Editor templates render only here: one module-level
``ImmutableSandboxedEnvironment`` with ``StrictUndefined``, no globals, and an
explicit context built by :func:`build_context` (``date``, ``market``, ``staff``,
``charts``). Every failure (syntax, missing figure, sandbox violation, bad value)
becomes a :class:`TemplateRenderError` whose message is safe to show to editors:
Chinese, naming the template's own variable, never a Python repr or config value.

The environment is the counting sandbox of ``app.rendering.metered``: a render runs under
a :class:`~app.rendering.budget.RenderBudget` and a breach is a
:class:`RenderBudgetExceeded`. :func:`render_body` renders in the calling process; the
application renders through ``app.rendering.isolation``, which runs it in a worker process
under kernel limits as well.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, UndefinedError
from jinja2.sandbox import SecurityError
from jinja2.utils import missing

from app.core.errors import ValidationFailed
from app.rendering.budget import BudgetExceeded, RenderBudget, RenderMeter
from app.rendering.metered import MeteredSandbox, current_meter, metered_filters, metering

logger = logging.getLogger(__name__)

#: Preview signature used when no real front-line user receives the text.
SAMPLE_STAFF = {"name": "示例客户经理", "branch": "示例支行"}
#: The only names a template may use.
CONTEXT_KEYS = ("date", "market", "staff", "charts")
#: Default output limit (``RENDER_MAX_OUTPUT_CHARS``).
MAX_OUTPUT_CHARS = RenderBudget().max_output_chars
_WEEKDAYS = "一二三四五六日"


class TemplateRenderError(ValidationFailed):
    """A template could not be rendered; ``message`` is safe to show (Chinese, no internals)."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        super().__init__(message)
        self.lineno = lineno


class RenderBudgetExceeded(TemplateRenderError):
    """A render broke its budget (``limit``: cpu, output, loop, int_bits, size or memory).

    The message names the limit, e.g. ``模板渲染超出限制：运行时间超过 1 秒``.
    """

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


class _MissingValue(UndefinedError):
    """An undefined name or field, remembering where it was looked up (never shown)."""

    def __init__(self, message: str, undefined_obj: Any = None, undefined_name: Any = None):
        super().__init__(message)
        self.undefined_obj = undefined_obj
        self.undefined_name = undefined_name


class _TrackingUndefined(StrictUndefined):
    """``StrictUndefined`` whose error carries the container and name that were missing."""

    def __init__(self, hint=None, obj=missing, name=None,
                 exc=UndefinedError):
        super().__init__(hint, obj, name, exc)
        if exc is UndefinedError:
            self._undefined_exception = partial(
                _MissingValue, undefined_obj=obj, undefined_name=name
            )


def _finalize(value: Any) -> Any:
    """Allow only text and numbers in the output (no dict, function or ``None`` blanks)."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()  # raises with the missing name
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        current_meter().check_size(value)
        return value
    if value is None:
        raise TemplateRenderError("模板输出了空值（数据缺失），请检查所引用的行情字段")
    raise TemplateRenderError("模板只能输出文字或数字，请输出具体字段（例如 market.SSE.close）")


def _require_number(value: Any, filter_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TemplateRenderError(f"过滤器 {filter_name} 只能用于数字")
    return value


def num(value: Any, digits: int = 2) -> str:
    """Format a number with thousands separators: ``3295.06 | num`` → ``3,295.06``."""
    return f"{_require_number(value, 'num'):,.{int(digits)}f}"


def pct(value: Any, digits: int = 2) -> str:
    """Format a value given in percent with its sign: ``0.39 | pct`` → ``+0.39%``.

    Takes percent points (``change_pct``), not a fraction (``change``).
    """
    number = round(_require_number(value, "pct"), int(digits))
    if number == 0:
        number = 0.0
    return f"{number:+.{int(digits)}f}%"


def updown(value: Any, digits: int = 2) -> str:
    """Chinese direction word: 上涨 / 下跌, or 持平 when it rounds to zero at ``digits``."""
    number = round(_require_number(value, "updown"), int(digits))
    if number > 0:
        return "上涨"
    if number < 0:
        return "下跌"
    return "持平"


def cn_date(value: Any) -> str:
    """Format an ISO date string as ``2025年4月25日``."""
    day = _parse_date(value, "cn_date")
    return f"{day.year}年{day.month}月{day.day}日"


def weekday_cn(value: Any) -> str:
    """Chinese weekday of an ISO date string: ``2025-04-25`` → ``星期五``."""
    return "星期" + _WEEKDAYS[_parse_date(value, "weekday_cn").weekday()]


def _parse_date(value: Any, filter_name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise TemplateRenderError(f"过滤器 {filter_name} 需要 YYYY-MM-DD 格式的日期") from None


_ENV = MeteredSandbox(
    undefined=_TrackingUndefined, autoescape=False, keep_trailing_newline=True,
    finalize=_finalize,
)
_ENV.globals.clear()  # no range, dict, lipsum, cycler, joiner, namespace
_ENV.filters.update(num=num, pct=pct, updown=updown, cn_date=cn_date, weekday_cn=weekday_cn)
_ENV.filters = metered_filters(_ENV.filters)


@functools.lru_cache(maxsize=512)
def _compiled(body: str):
    """Compile a body once: a daily run renders the same body for every staff member."""
    return _ENV.from_string(body)


def parse_body(body: str):
    """Parse a body with the sandbox's environment (for analysis; nothing is rendered).

    :returns: the ``jinja2.nodes.Template`` tree.
    :raises jinja2.TemplateSyntaxError: on a syntax error.
    """
    return _ENV.parse(body)


def render_body(body: str, context: Mapping[str, Any], budget: RenderBudget | None = None) -> str:
    """Render a template body in the counting sandbox, in this process.

    Output is streamed and counted, so the render stops at the output limit instead of
    building the whole text first. The application calls this only inside a render
    worker (``app.rendering.isolation``), where the kernel bounds CPU and memory too.

    :param body: Jinja source written by an editor (plain text, not HTML).
    :param context: the dict from :func:`build_context`; nothing else is visible.
    :param budget: limits of this render (default: ``RenderBudget()``, the config defaults).
    :returns: the rendered text (at most ``budget.max_output_chars`` characters).
    :raises RenderBudgetExceeded: over budget (CPU time, output, loop iterations, integer
        width, string/list length, memory); the message names the limit.
    :raises TemplateRenderError: on a syntax error, an undefined variable or missing
        market figure (the message names it, e.g. ``market.XXX``), a sandbox violation,
        or any other failure; the message is Chinese and free of internals.
    """
    budget = budget or RenderBudget()
    try:
        with metering(RenderMeter(budget)) as meter:
            chunks = []
            for chunk in _compiled(body).generate(dict(context)):
                meter.output(chunk)
                chunks.append(chunk)
            meter.check_cpu()
    except BudgetExceeded as exc:
        raise RenderBudgetExceeded(budget.message(exc.limit), exc.limit) from None
    except MemoryError:
        raise RenderBudgetExceeded(budget.message("memory"), "memory") from None
    except TemplateRenderError as exc:  # from a filter or the output check
        raise TemplateRenderError(exc.message, exc.lineno) from None
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(
            f"模板语法错误（第 {exc.lineno} 行），请检查 {{{{ }}}} 与 {{% %}} 是否成对", exc.lineno
        ) from None
    except _MissingValue as exc:
        raise TemplateRenderError(_missing_message(exc, context)) from None
    except (SecurityError, UndefinedError):
        logger.warning("template blocked by the sandbox")
        raise TemplateRenderError(
            "模板试图访问不允许的内部属性或操作，已被安全沙箱拦截；"
            "模板只能使用 date、market、staff、charts"
        ) from None
    except Exception as exc:  # noqa: BLE001 - anything else must not leak details
        logger.warning("template render failed: %s", type(exc).__name__)
        raise TemplateRenderError(
            "模板渲染失败：表达式无法计算，请检查数值与过滤器的用法"
        ) from None
    return "".join(chunks)


def _missing_message(exc: _MissingValue, context: Mapping[str, Any]) -> str:
    name = exc.undefined_name
    if exc.undefined_obj is missing:  # top-level name
        return f"模板使用了未定义的变量 {name}（只能使用 date、market、staff、charts）"
    parent = _path_of(exc.undefined_obj, context)
    if parent is None:
        return f"缺少数据字段 {name}"
    path = f"{parent}[{name}]" if isinstance(name, int) else f"{parent}.{name}"
    return f"缺少数据 {path}（该日期没有这项数据或名称拼写有误）"


def _path_of(target: Any, context: Mapping[str, Any], prefix: str = "") -> str | None:
    """Dotted path of ``target`` inside the context, found by identity (dicts only)."""
    for key, value in context.items():
        path = f"{prefix}{key}"
        if value is target:
            return path
        if isinstance(value, Mapping):
            found = _path_of(target, value, path + ".")
            if found is not None:
                return found
    return None


def build_context(
    run_date: dt.date,
    market: Mapping[str, Mapping[str, Any]],
    staff: Any,
    charts: Mapping[str, str],
) -> dict[str, Any]:
    """Build the only context a template sees.

    :param run_date: the business date of the run (Asia/Shanghai calendar date).
    :param market: ``market_context(run_date)``: series code → dict with name, close,
        prev_close, change (fraction), change_pct (percent), as_of (ISO date), source, ….
    :param staff: the receiving front-line ``User`` (its ``display_name`` and branch
        name), a mapping with ``name``/``branch``, or ``None`` for :data:`SAMPLE_STAFF`.
    :param charts: chart spec name → image URL (e.g. ``/charts/2025-04-25/gold.png``).
    :returns: ``{"date": ISO str, "market": {code: {field: str|int|float|None}},
        "staff": {"name", "branch"}, "charts": {spec: url}}``; copies of plain values only.
    """
    return {
        "date": run_date.isoformat(),
        "market": {
            str(code): {str(k): _plain(v) for k, v in series.items()}
            for code, series in market.items()
        },
        "staff": staff_fields(staff),
        "charts": {str(name): str(url) for name, url in charts.items()},
    }


def _plain(value: Any) -> str | int | float | None:
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def staff_fields(staff: Any) -> dict[str, str]:
    """The ``staff`` entry of a context: ``{"name", "branch"}`` of a user, a mapping or the sample.

    :param staff: a ``User`` (``display_name``, ``branch.name``), a mapping with ``name`` and
        ``branch``, or ``None`` for :data:`SAMPLE_STAFF`.
    :returns: a new dict of two strings.
    """
    if staff is None:
        return dict(SAMPLE_STAFF)
    if isinstance(staff, Mapping):
        return {"name": str(staff["name"]), "branch": str(staff["branch"])}
    branch = getattr(staff, "branch", None)
    return {"name": str(staff.display_name), "branch": str(branch.name) if branch else ""}
