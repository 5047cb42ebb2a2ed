"""The daily content run: market data → charts → render → compliance → posts and tasks.

``run_day`` is what the scheduler does for each SOP plan on its run days and
what ``flask ops run-day`` does by hand; both call it with plain values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from app.broadcasts.audience import audience_of, audience_staff
from app.broadcasts.calendars import CALENDAR_LABELS
from app.broadcasts.models import Post, PostText, SopPlan, Task
from app.broadcasts.plan_texts import (
    PlanSkipped,
    PlanTexts,
    RuleTarget,
    StaffRow,
    ValueChecker,
    base_context,
)
from app.broadcasts.run_gates import refuse_outside_validity, refuse_stale
from app.broadcasts.schedules import (
    occurrences,
    occurrences_on,
    parse_schedule,
    schedule_for,
)
from app.broadcasts.variants import render_variants
from app.broadcasts.welcome import is_welcome, staff_to_welcome
from app.content.checks import chart_facts
from app.content.models import ContentKind, TemplateStatus
from app.content.presenters import chart_titles
from app.core.clock import utcnow
from app.core.extensions import db
from app.core.upserts import insert_many_skipping_conflicts, upsert_returning_ids
from app.market.charts import chart_url, render_charts
from app.market.models import ChartImage
from app.market.services import available_market_context, refresh_market_data

logger = logging.getLogger(__name__)


@dataclass
class SkippedPost:
    """A plan that produced no post for the date, and why (Chinese reason, rule ids)."""

    sop: str
    reason: str
    sop_plan_id: int
    rule_ids: list[str] = field(default_factory=list)
    code: str = "compliance"


@dataclass
class RunDayResult:
    """Outcome of one run; ``as_dict()`` is the JSON printed by ``flask ops run-day``.

    ``market_unavailable`` maps series codes without fresh data to the reason.
    """

    date: dt.date
    market_as_of: dict[str, str]
    charts: list[dict]
    posts_created: int = 0
    tasks_created: int = 0
    posts_skipped: list[SkippedPost] = field(default_factory=list)
    market_unavailable: dict[str, str] = field(default_factory=dict)
    #: SOP plan id → id of its post for the date (new or existing); not part of the JSON.
    post_ids: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Plain-JSON shape: dates as ISO strings, skipped posts as ``{sop, reason, ...}``."""
        return {
            "date": self.date.isoformat(),
            "market_as_of": self.market_as_of,
            "charts": self.charts,
            "posts_created": self.posts_created,
            "tasks_created": self.tasks_created,
            "posts_skipped": [asdict(s) for s in self.posts_skipped],
            "market_unavailable": self.market_unavailable,
        }


@dataclass
class RenderedPlans:
    """Output of :func:`render_plans`: ``plans`` as (plan, [(user, text)]), and ``skipped``."""

    plans: list = field(default_factory=list)
    skipped: list[SkippedPost] = field(default_factory=list)


@dataclass(frozen=True)
class MarketDay:
    """What the market step stored for a date, as plain values (valid after its commit).

    ``market``: series code → template figures (``available_market_context``);
    ``missing``: series code → reason; ``charts``: one dict per rendered chart with
    ``spec``, ``path``, ``url``, ``as_of`` and ``chart_image_id``.
    """

    date: dt.date
    market: dict
    missing: dict
    charts: list[dict]

    @property
    def chart_ids(self) -> dict[str, int]:
        """Chart spec → ``chart_images.id``."""
        return {c["spec"]: c["chart_image_id"] for c in self.charts}

    @property
    def chart_urls(self) -> dict[str, str]:
        """Chart spec → image URL."""
        return {c["spec"]: c["url"] for c in self.charts}


def market_step(run_date: dt.date, refresh_market: bool = True) -> MarketDay:
    """Load the date's bars and draw its charts: the writes of the market, once per date.

    Runs in its own unit of work in the scheduler and in ``flask ops run-day``, so that the
    renders that follow hold no write transaction (on SQLite, no database write lock).
    Flushes; the caller commits.

    :param run_date: the business date (Asia/Shanghai calendar date).
    :param refresh_market: load bars from the provider (``MARKET_DATA_PROVIDER``) first.
    :returns: the figures and charts of ``run_date`` as plain values; series without fresh
        data are listed in ``missing`` and left out of ``market``.
    """
    if refresh_market:
        refresh_market_data(run_date)
    market, missing = available_market_context(run_date)
    charts = render_charts(run_date, skip_unavailable=True)
    return MarketDay(run_date, market, missing, [
        {"spec": c.spec, "path": str(c.path), "url": c.url, "as_of": c.as_of,
         "chart_image_id": c.chart_image_id} for c in charts])


def stored_market_day(run_date: dt.date) -> MarketDay | None:
    """The market step's result for ``run_date`` read back from the database, or ``None``.

    ``None`` until a market step stored that date's charts; reads only. The scheduler uses
    it to run the market step once per date, however many ticks have runs on that date.
    """
    charts = db.session.execute(select(ChartImage).where(ChartImage.run_date == run_date)
                                .order_by(ChartImage.spec_name)).scalars().all()
    if not charts:
        return None
    market, missing = available_market_context(run_date)
    return MarketDay(run_date, market, missing, [
        {"spec": c.spec_name, "path": str(Path(current_app.config["CHART_OUTPUT_DIR"]) / c.path),
         "url": chart_url(run_date, c.spec_name), "as_of": c.as_of, "chart_image_id": c.id}
        for c in charts])


def run_day(run_date: dt.date, sop_plan_ids: list[int] | None = None,
            refresh_market: bool = True, market_day: MarketDay | None = None) -> RunDayResult:
    """Produce posts and tasks for ``run_date`` for every active plan (or the given ones).

    Runs the market step (:func:`market_step`: loads bars, renders the chart specs)
    unless ``market_day`` is given, then :func:`render_plans` and :func:`publish_plans`.
    Figures and charts use only closes published by the market cutoff
    (``app.market.services.market_cutoff``: ``run_date`` at ``MARKET_CUTOFF_TIME``,
    Asia/Shanghai), never a close that happens after the morning send. Re-running the
    same date inserts nothing new (unique keys with ON CONFLICT DO NOTHING). Flushes; the
    caller commits. The scheduler and ``flask ops run-day`` call the three steps in their
    own units of work instead (``app.broadcasts.jobs.run_day_in_steps``).

    :param run_date: the business date (Asia/Shanghai calendar date).
    :param sop_plan_ids: restrict to these plans.
    :param refresh_market: load bars from the provider first; the demo seed loads
        once for its last date and passes ``False`` for the earlier dates.
    :param market_day: the result of an earlier :func:`market_step` for ``run_date``.
    :returns: counts, per-series as-of dates, charts and skipped plans with reasons.
    A series without fresh data is left out of the context (listed in
    ``market_unavailable``), so only the SOPs whose template or chart needs it are skipped.
    """
    day = market_day or market_step(run_date, refresh_market)
    rendered = render_plans(day, sop_plan_ids)
    return publish_plans(day, rendered)


def render_plans(day: MarketDay, sop_plan_ids: list[int] | None = None) -> RenderedPlans:
    """Render and check every active plan (or the given ones) for ``day``; reads, never writes.

    Each plan's renders go to a render worker in one call, under the render budget
    (``app.rendering.isolation``): a template over budget skips only its plan, with the
    Chinese reason (e.g. ``渲染失败：模板渲染超出限制：运行时间超过 1 秒``), and the other
    plans go on. Each wording of the template is rendered once and checked once, for the
    staff who receive it (``app.broadcasts.variants``). A plan is skipped, with a reason
    code for 日跟踪, when its template is outside its validity window, when a market
    commentary quotes data older than the freshness limit, or when any wording fails
    compliance (content kind, chart, substituted names) or the channel's length limit.

    :returns: the rendered plans and the skipped ones, for :func:`publish_plans`.
    """
    rendered = RenderedPlans()
    context = base_context(day.date, day.market, day.chart_urls)  # built once for all plans
    staff_of: dict[tuple[str, ...], list[StaffRow]] = {}
    checker = ValueChecker()
    for plan in _plans(sop_plan_ids):
        try:
            rendered.plans.append((plan, _render_plan(plan, day, context, staff_of, checker)))
        except PlanSkipped as skipped:
            logger.info("run_day %s plan_id=%s skipped: %s", day.date, plan.id, skipped.reason)
            rendered.skipped.append(
                SkippedPost(plan.name, skipped.reason, plan.id, skipped.rule_ids, skipped.code)
            )
    return rendered


def publish_plans(day: MarketDay, rendered: RenderedPlans) -> RunDayResult:
    """Insert the post and tasks of each rendered plan (existing rows are kept). Flushes.

    :returns: the run's counts, market as-of dates, charts and skipped plans.
    """
    result = RunDayResult(
        date=day.date,
        market_as_of={code: series["as_of"] for code, series in day.market.items()},
        charts=[{k: c[k] for k in ("spec", "path", "url", "as_of")} for c in day.charts],
        market_unavailable=day.missing,
        posts_skipped=list(rendered.skipped),
    )
    for plan, texts in rendered.plans:
        post_id, created_post, created_tasks = _insert_plan(plan, day, texts)
        result.post_ids[plan.id] = post_id
        result.posts_created += created_post
        result.tasks_created += created_tasks
    logger.info("run_day %s: posts_created=%s tasks_created=%s skipped=%s", day.date,
                result.posts_created, result.tasks_created, len(result.posts_skipped))
    return result


def _plans(sop_plan_ids: list[int] | None) -> list[SopPlan]:
    query = select(SopPlan).where(SopPlan.is_active.is_(True)).order_by(SopPlan.id)
    if sop_plan_ids is not None:
        query = query.where(SopPlan.id.in_(sop_plan_ids))
    return list(db.session.scalars(query))


def plan_run_dates(template_id: int, start: dt.date, count: int) -> list[dt.date]:
    """The next ``count`` dates ≥ ``start`` on which an active plan sends ``template_id``.

    Registered with ``app.content.rehearsal`` so that approval renders a version for these
    dates. Looks at most ``3 × count + 30`` calendar days ahead; a date is the occurrence's
    calendar date in its plan's time zone.

    :returns: ascending dates, ``[]`` without an active plan.
    """
    plans = db.session.execute(select(SopPlan.schedule, SopPlan.timezone).where(
        SopPlan.template_id == template_id, SopPlan.is_active.is_(True))).all()
    begin = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC) - dt.timedelta(days=1)
    end = begin + dt.timedelta(days=3 * count + 32)
    dates = set()
    for expression, timezone in plans:
        dates.update(o.date() for o in occurrences(parse_schedule(expression), timezone,
                                                   begin, end) if o.date() >= start)
    return sorted(dates)[:count]


def _render_plan(plan, day: MarketDay, context, staff_of,
                 checker) -> list[PlanTexts | None]:
    """Check that ``plan`` runs today and render its texts; reads and renders, never writes.

    :returns: one :class:`PlanTexts` per wording that has staff, index = variant number
        (``None`` for a wording nobody receives today).
    :raises PlanSkipped: not a run day, no approved template, outside the validity window,
        no staff, no chart, stale market data, a render failure (budget breaches included),
        a blocking compliance finding or a text over the channel's limit.
    """
    welcome = is_welcome(plan.schedule)
    if not welcome and not occurrences_on(plan.schedule, plan.timezone, day.date):
        label = CALENDAR_LABELS.get(plan.calendar) if plan.schedule == schedule_for(
            plan.calendar, plan.send_time) else plan.schedule
        raise PlanSkipped(f"非运行日（{label}）", code="not_run_day")
    template = plan.template
    version = template.approved_version
    if template.status is TemplateStatus.retired:
        raise PlanSkipped(f"模板「{template.title}」已停用", code="template_retired")
    if version is None:  # a newer draft or review keeps the last approved version running
        raise PlanSkipped(f"模板「{template.title}」未批准", code="not_approved")
    refuse_outside_validity(template, day.date)
    paths = tuple(sorted(audience_of(plan).branch_paths))
    if paths not in staff_of:
        staff_of[paths] = audience_staff(list(paths))
    staff = staff_of[paths]
    if not staff:
        raise PlanSkipped("计划范围内没有在岗的客户经理", code="no_staff")
    if welcome:
        staff = staff_to_welcome(plan.schedule, plan.timezone, day.date, staff)
        if not staff:
            raise PlanSkipped("计划范围内没有人在对应日期添加客户，无需发送欢迎语",
                              code="no_new_contacts")
    if template.chart_spec and template.chart_spec not in day.chart_ids:
        title = chart_titles().get(template.chart_spec, template.chart_spec)
        raise PlanSkipped(f"配图「{title}」未生成（行情数据缺失）", code="chart_missing")
    if template.content_kind is ContentKind.market_commentary:
        refuse_stale(version.bodies, template.chart_spec, day.market, day.date)
    target = RuleTarget(template.product.value, template.content_kind.value,
                        plan.channel.value, chart_facts(template.chart_spec, context))
    return render_variants(version.bodies, target, context, staff, checker, day.date)


def _insert_plan(plan, day: MarketDay, variants: list[PlanTexts | None]) -> tuple[int, int, int]:
    """Insert the post of ``plan``, its texts and one task per staff member (rows kept).

    One post text per wording; each task points at the text of its wording and stores its
    own body only where its text differs (per-staff renders, or a post text stored by an
    earlier run with other segments). One ``executemany`` INSERT … ON CONFLICT DO NOTHING
    for all tasks, no ORM objects per row.

    :returns: (post id, posts created: 0 or 1, tasks created).
    """
    template = plan.template
    scheduled_at = _scheduled_at(plan, day.date)
    post_id, post_created = _upsert_post(plan, day.date, template.approved_version.id,
                                         day.chart_ids.get(template.chart_spec), day.market,
                                         scheduled_at)
    due_at = scheduled_at + dt.timedelta(minutes=current_app.config["TASK_DUE_MINUTES"])
    now = utcnow()
    rows = []
    for variant, texts in enumerate(variants):
        if texts is None:
            continue
        post_text_id, stored = _post_text(post_id, variant, texts.segments)
        shared = texts.segments is not None and stored == texts.segments
        for index, row in enumerate(texts.staff):
            body = None if shared else texts.text_of(index)
            rows.append({"post_id": post_id, "staff_id": row.id, "post_text_id": post_text_id,
                         "body": body, "body_sha256": body and _sha256(body),
                         "due_at": due_at, "status": "assigned", "created_at": now})
    before = 0 if post_created else _task_count(post_id)
    insert_many_skipping_conflicts(Task.__table__, rows, ["post_id", "staff_id"])
    created = len(rows) if post_created else _task_count(post_id) - before
    return post_id, int(post_created), created


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _task_count(post_id: int) -> int:
    return db.session.scalar(select(func.count(Task.id)).where(Task.post_id == post_id))


def _post_text(post_id: int, variant: int, segments: list[str] | None) -> tuple[int, list | None]:
    """Id and stored segments of the post's text ``variant``, inserted if new."""
    row = {"post_id": post_id, "variant": variant, "segments": segments, "created_at": utcnow()}
    inserted = upsert_returning_ids(PostText, [row], ["post_id", "variant"])
    if inserted:
        return inserted[0], segments
    existing = db.session.execute(select(PostText.id, PostText.segments).where(
        PostText.post_id == post_id, PostText.variant == variant)).one()
    return existing.id, existing.segments


def _scheduled_at(plan: SopPlan, run_date: dt.date) -> dt.datetime:
    """The plan's first occurrence on ``run_date`` (aware UTC); its send time if none."""
    found = occurrences_on(plan.schedule, plan.timezone, run_date)
    local = found[0] if found else dt.datetime.combine(run_date, plan.send_time,
                                                       tzinfo=ZoneInfo(plan.timezone))
    return local.astimezone(dt.UTC)


def _upsert_post(plan, run_date, version_id, chart_image_id, market, scheduled_at):
    row = {"sop_plan_id": plan.id, "run_date": run_date, "template_version_id": version_id,
           "chart_image_id": chart_image_id,
           "market_as_of": {code: s["as_of"] for code, s in market.items()},
           "scheduled_at": scheduled_at, "status": "published", "revision": plan.revision}
    inserted = upsert_returning_ids(Post, [row], ["sop_plan_id", "run_date"])
    if inserted:
        return inserted[0], True
    existing = db.session.scalar(
        select(Post.id).where(Post.sop_plan_id == plan.id, Post.run_date == run_date)
    )
    return existing, False
