"""Scorecard 考核看板 pages: HTML tables, the daily chart (PNG) and the CSV export."""

from __future__ import annotations

import logging

from flask import Response, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.auth.decorators import permission_required
from app.auth.permissions import Action
from app.core.clock import business_today
from app.core.errors import ValidationFailed
from app.core.spreadsheet import attachment_disposition
from app.metrics import bp
from app.metrics import services as metrics
from app.metrics.charts import daily_rates_png
from app.metrics.export import scorecard_csv
from app.metrics.forms import ScorecardFilterForm
from app.metrics.periods import Period, period_range
from app.metrics.tables import TABLES, display, parse_sort, sort_rows

logger = logging.getLogger(__name__)

FILTER_ARGS = ("branch_id", "period", "end", "start")


def _filter_form() -> ScorecardFilterForm:
    form = ScorecardFilterForm(formdata=request.args, end=business_today())
    choices = [SelectChoice("", "全行")] if metrics.sees_whole_bank(current_user) else []
    branches = metrics.branch_choices(current_user)
    top = min((b.path.count("/") for b in branches), default=0)
    choices += [SelectChoice(str(b.id), "— " * (b.path.count("/") - top) + b.name)
                for b in branches]
    form.branch_id.choices = choices
    return form


def _filters(form: ScorecardFilterForm):
    """Validate the form; return ``(branch_id, start, end)`` or raise ``ValidationFailed``."""
    if not form.validate():
        raise ValidationFailed("筛选条件有误", form.errors)
    start, end = period_range(Period(form.period.data), form.end.data, form.start.data)
    return form.branch_id.data, start, end


def _filter_args() -> dict[str, str]:
    return {k: request.args[k] for k in FILTER_ARGS if request.args.get(k)}


def _sorted_tables(card) -> dict:
    """Each table's rows sorted by its ``sort_<key>`` query arg, with its sort state."""
    sources = {"branch": card.front_by_branch, "staff": card.front_by_staff,
               "template": card.middle_by_template, "sop": card.middle_by_sop}
    result = {}
    for key, table in TABLES.items():
        attr, descending = parse_sort(table, request.args.get(f"sort_{key}"))
        result[key] = {"table": table, "rows": sort_rows(sources[key], attr, descending),
                       "attr": attr, "descending": descending}
    return result


def _sort_url(key: str, attr: str, current: dict) -> str:
    """URL that sorts table ``key`` by ``attr`` (toggles direction if already sorted by it)."""
    descending = not current["descending"] if current["attr"] == attr else attr != "label"
    args = request.args.to_dict()
    args[f"sort_{key}"] = f"-{attr}" if descending else attr
    return url_for("metrics.scorecard", **args) + f"#table-{key}"


@bp.route("/scorecard")
@permission_required(Action.read_scorecard)
def scorecard():
    """Both sides of the scorecard for the chosen branch subtree and period."""
    form = _filter_form()
    try:
        branch_id, start, end = _filters(form)
    except ValidationFailed as error:
        return render_template("metrics/scorecard.html", form=form, card=None,
                               errors=error.errors or {}, message=error.message), 422
    card = metrics.scorecard(current_user, branch_id, start, end)
    customer_card = metrics.customer_card(current_user, branch_id, start, end)
    behavior = metrics.behavior_card(current_user, branch_id, start, end)
    args = _filter_args()
    return render_template(
        "metrics/scorecard.html", form=form, card=card, errors={}, tables=_sorted_tables(card),
        customer_card=customer_card, behavior=behavior,
        display=display, sort_url=_sort_url,
        chart_url=url_for("metrics.scorecard_chart", **args),
        csv_url=url_for("metrics.scorecard_csv", **args),
    )


@bp.route("/scorecard/chart.png")
@permission_required(Action.read_scorecard)
def scorecard_chart():
    """Daily execution rate and engagement rate as a PNG (same filters as the page)."""
    branch_id, start, end = _filters(_filter_form())
    card = metrics.daily_only(current_user, branch_id, start, end)
    response = Response(daily_rates_png(card), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@bp.route("/scorecard.csv", endpoint="scorecard_csv")
@permission_required(Action.read_scorecard)
def scorecard_csv_export():
    """Both tables as CSV (UTF-8 with BOM for Excel), same filters as the page.

    Named 考核看板_<branch>_<start>_<end>.csv (RFC 6266 ``filename*``), with the ASCII
    fallback ``scorecard_<branch id or all>_<start>_<end>.csv``.
    """
    branch_id, start, end = _filters(_filter_form())
    card = metrics.scorecard(current_user, branch_id, start, end)
    logger.info("scorecard export user_id=%s branch_id=%s %s..%s",
                current_user.id, branch_id, start, end)
    dates = f"{start:%Y%m%d}_{end:%Y%m%d}"
    disposition = attachment_disposition(
        f"考核看板_{card.branch_name}_{dates}.csv",
        ascii_fallback=f"scorecard_{card.branch_id or 'all'}_{dates}.csv",
    )
    return Response(
        scorecard_csv(card), mimetype="text/csv",
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )

