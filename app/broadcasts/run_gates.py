"""Reasons a plan publishes nothing on a date although it runs: validity and freshness.

- **Validity window**: a template with ``valid_from_date`` / ``valid_until_date`` (a holiday
  greeting) is published only on run dates inside it (``outside_validity``).
- **Freshness** 时效 of market commentary: a post quoting a close more than one trading
  session older than the run date is not published (``stale_market_data``); sessions are
  each series' exchange sessions (``app.market.sessions``), so a market closed for a
  holiday is not stale.

Both raise :class:`app.broadcasts.plan_texts.PlanSkipped`, whose code and Chinese reason
日跟踪 shows on the plan run.
"""

from __future__ import annotations

import datetime as dt

from app.broadcasts.plan_texts import PlanSkipped
from app.compliance import stale_series
from app.content.references import quoted_series
from app.market.chart_specs import load_spec
from app.market.instruments import get_series
from app.market.sessions import is_session


def refuse_outside_validity(template, run_date: dt.date) -> None:
    """Skip a template outside its validity window on ``run_date``.

    :param template: a ``ContentTemplate``.
    :raises PlanSkipped: code ``outside_validity``, e.g. 「模板「五一问候」不在有效期内
        （2025-04-28 至 2025-05-05）」.
    """
    if template.is_valid_on(run_date):
        return
    start, end = template.valid_from_date, template.valid_until_date
    window = f"{start.isoformat() if start else '…'} 至 {end.isoformat() if end else '…'}"
    raise PlanSkipped(f"模板「{template.title}」不在有效期内（{window}）",
                      code="outside_validity")


def refuse_stale(bodies: list[str], chart_spec: str | None, market: dict,
                 run_date: dt.date) -> None:
    """Skip a market commentary whose quoted series are older than the freshness limit.

    The series are those the wordings quote (``app.content.references``; every series of
    the day when a wording reads series it does not name) and those of the chart.

    :param market: series code → template figures with ``as_of`` (ISO date).
    :raises PlanSkipped: code ``stale_market_data``, the reason naming each stale series,
        its as-of date and how many sessions it lags.
    """
    codes: set[str] = set(load_spec(chart_spec).series) if chart_spec else set()
    for body in bodies:
        quoted = quoted_series(body)
        codes |= set(market) if quoted is None else quoted
    as_of = {code: dt.date.fromisoformat(str(market[code]["as_of"]))
             for code in sorted(codes) if code in market}
    stale = stale_series(as_of, run_date, is_session=is_session)
    if stale:
        reasons = [reason.replace(code, get_series(code).name, 1)
                   for code, reason in stale.items()]
        raise PlanSkipped(f"行情数据不够新：{'；'.join(reasons)}", code="stale_market_data")
