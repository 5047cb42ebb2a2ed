"""Approval rehearsal: render a version for its next run dates before it is approved.

A template can render well on the sample date and break on one other date
(``{% if date == "2025-05-07" %}`` around a heavy loop). Before approval the version is
therefore rendered, under the render budget, for each of the next
``APPROVAL_RENDER_DAYS`` dates on which an active SOP plan sends the template, or the
next weekdays when no plan sends it yet.

The plans live in ``app.broadcasts``, a layer above this one; that package registers
the function that lists their run dates with :func:`register_run_dates_provider`
(as it provides ``active_plan_count`` to the content pages).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from flask import Flask, current_app

from app.content.rendering import latest_market_dates, placeholder_chart_urls, sample_context
from app.core.clock import business_today
from app.core.errors import Conflict
from app.rendering.isolation import BatchRenderError, render_isolated_each
from app.rendering.sandbox import build_context

logger = logging.getLogger(__name__)

#: ``app.extensions`` key of the run-dates provider registered by ``app.broadcasts``.
RUN_DATES_EXTENSION = "zhongtai.plan_run_dates"
#: ``provider(template_id, start, count)`` → the next ``count`` run dates ≥ ``start``.
RunDatesProvider = Callable[[int, dt.date, int], list[dt.date]]


def register_run_dates_provider(app: Flask, provider: RunDatesProvider) -> None:
    """Let ``provider`` list the run dates of the active plans that send a template.

    :param provider: ``(template_id, start, count) -> [date, ...]``, ascending, each ≥
        ``start``, at most ``count``; ``[]`` when no active plan sends the template.
    """
    app.extensions[RUN_DATES_EXTENSION] = provider


def rehearsal_dates(template_id: int, count: int, start: dt.date | None = None) -> list[dt.date]:
    """The dates an approval renders: the plans' next run dates, else the next weekdays.

    :param template_id: the template to be approved.
    :param count: how many dates (``APPROVAL_RENDER_DAYS``).
    :param start: first date considered (default ``business_today()``, Asia/Shanghai).
    :returns: up to ``count`` ascending dates ≥ ``start``.
    """
    start = start or business_today()
    provider = current_app.extensions.get(RUN_DATES_EXTENSION)
    dates = provider(template_id, start, count) if provider is not None else []
    return dates or _weekdays(start, count)


def rehearse_approval(template_id: int, body: str) -> list[dt.date]:
    """Render ``body`` for each rehearsal date in a worker; raise on the first failure.

    Each date's context has ``date`` = that date, the sample staff, placeholder chart URLs
    and the stored market data as of that date, or the latest stored data for a future
    date. Without any stored market data only a budget breach fails (missing figures
    cannot be judged). Reads and renders only; writes nothing.

    :param template_id: the template (its plans choose the dates).
    :param body: the version's Jinja source.
    :returns: the dates rendered.
    :raises Conflict: Chinese reason naming the date, e.g. ``2025-05-07 的预演渲染失败：
        模板渲染超出限制：循环次数超过 10000 次``.
    """
    dates = rehearsal_dates(template_id, int(current_app.config["APPROVAL_RENDER_DAYS"]))
    contexts, has_market = _contexts(dates)
    try:
        render_isolated_each(body, contexts, budget_only=not has_market)
    except BatchRenderError as error:
        day = dates[error.index].isoformat()
        logger.info("approval rehearsal of template_id=%s failed on %s: %s",
                    template_id, day, error.message)
        raise Conflict(f"{day} 的预演渲染失败：{error.message}") from None
    return dates


def _contexts(dates: list[dt.date]) -> tuple[list[dict], bool]:
    """One context per date; the market data are looked up once per stored-data date."""
    samples: dict[dt.date | None, dict | None] = {}
    contexts = []
    data_days = latest_market_dates(dates)
    for day in dates:
        data_day = data_days[day]
        if data_day not in samples:
            samples[data_day] = sample_context(data_day) if data_day else None
        sample = samples[data_day]
        market = sample["market"] if sample is not None else {}
        contexts.append(build_context(day, market, None, placeholder_chart_urls(day)))
    return contexts, all(sample is not None for sample in samples.values())


def _weekdays(start: dt.date, count: int) -> list[dt.date]:
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days
