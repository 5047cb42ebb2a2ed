import datetime as dt

import pytest

from app.rendering.sandbox import (
    SAMPLE_STAFF,
    TemplateRenderError,
    build_context,
    render_body,
)
from tests.factories import BranchFactory, UserFactory

SECRET = "MARKER-SECRET-3f9c1d"

MARKET = {
    "SSE": {"name": "上证指数", "close": 3295.06, "prev_close": 3297.29, "change": -0.000676,
            "change_pct": -0.0676, "as_of": "2025-04-25", "source": "Yahoo Finance 000001.SS"},
    "GOLD": {"name": "COMEX黄金", "close": 3299.1, "change_pct": 1.5, "as_of": "2025-04-25",
             "source": "Yahoo Finance GC=F", "period_start": dt.date(2025, 1, 2)},
}


@pytest.fixture
def context():
    urls = {"gold": "/charts/2025-04-25/gold.png"}
    return build_context(dt.date(2025, 4, 25), MARKET, None, urls)


@pytest.fixture
def secret_app(app, monkeypatch):
    monkeypatch.setitem(app.config, "SECRET_KEY", SECRET)
    with app.app_context(), app.test_request_context("/"):
        yield app


ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ config }}",
    "{{ config.SECRET_KEY }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ lipsum.__globals__ }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
    "{{ request.environ }}",
    "{{ joiner }}{{ namespace() }}{{ range(10) }}",
    "{{ self }}",
    "{{ market.SSE.items() }}",
    "{{ market.SSE.clear() }}",
    "{{ '{0.__class__}'.format(market) }}",
    "{{ staff.name.__class__.__base__.__subclasses__() }}",
    "{{ market|attr('__class__') }}",
    "{{ 'x' * 10000000 }}",
    "{{ 9 ** 999999 }}",
    "{{ get_flashed_messages() }}{{ url_for('auth.login') }}",
]


@pytest.mark.parametrize("body", ESCAPES)
def test_escapes_fail_without_leaking(secret_app, context, body):
    with pytest.raises(TemplateRenderError) as caught:
        render_body(body, context)
    message = caught.value.message
    assert SECRET not in message and SECRET not in str(caught.value)
    for internal in ("<", "object at", "Traceback", "__", "jinja2", "SECRET_KEY"):
        assert internal not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_undefined_name_is_named(context):
    with pytest.raises(TemplateRenderError, match="未定义的变量 config"):
        render_body("{{ config }}", context)


def test_missing_market_figure_raises_and_names_it(context):
    with pytest.raises(TemplateRenderError, match=r"market\.XXX"):
        render_body("收盘 {{ market.XXX.close }} 点", context)
    with pytest.raises(TemplateRenderError, match=r"market\.SSE\.volume"):
        render_body("{{ market['SSE']['volume'] }}", context)


def test_missing_figure_in_condition_or_loop_raises(context):
    with pytest.raises(TemplateRenderError):
        render_body("{% if market.N225.close > 1 %}x{% endif %}", context)
    with pytest.raises(TemplateRenderError):
        render_body("{% for s in market.values() %}{{ s.prev_close }}{% endfor %}", context)


def test_none_value_is_never_a_blank(context):
    ctx = build_context(dt.date(2025, 4, 25), {"SSE": {"close": None}}, None, {})
    with pytest.raises(TemplateRenderError, match="空值"):
        render_body("{{ market.SSE.close }}", ctx)


def test_syntax_error_gives_line(context):
    with pytest.raises(TemplateRenderError, match="第 2 行") as caught:
        render_body("第一行\n{% if %}", context)
    assert caught.value.lineno == 2


def test_runtime_error_is_generic(context):
    with pytest.raises(TemplateRenderError, match="表达式无法计算"):
        render_body("{{ 1 / 0 }}", context)


def test_filters(context):
    body = ("{{ market.SSE.close|num }}|{{ market.SSE.change_pct|pct }}|"
            "{{ market.SSE.change_pct|updown }}|{{ market.GOLD.change_pct|pct(1) }}|"
            "{{ market.GOLD.change_pct|updown }}|{{ 0.001|updown }}|{{ 0.001|pct }}|"
            "{{ 1234567|num(0) }}|{{ date|cn_date }}{{ date|weekday_cn }}")
    assert render_body(body, context) == (
        "3,295.06|-0.07%|下跌|+1.5%|上涨|持平|+0.00%|1,234,567|2025年4月25日星期五"
    )


def test_filter_on_text_is_an_error(context):
    with pytest.raises(TemplateRenderError, match="num 只能用于数字"):
        render_body("{{ staff.name|num }}", context)


def test_defaults_and_trailing_newline(context):
    assert render_body("{{ market.SSE.open|default('—') }}\n", context) == "—\n"
    assert render_body("<b>{{ staff.name }}</b>", context) == "<b>示例客户经理</b>"


def test_build_context_exact_keys(db):
    branch = BranchFactory(name="城东支行")
    user = UserFactory(display_name="王芳", branch=branch)
    ctx = build_context(dt.date(2025, 4, 25), MARKET, user, {"gold": "/charts/x.png"})
    assert set(ctx) == {"date", "market", "staff", "charts"}
    assert ctx["date"] == "2025-04-25"
    assert ctx["staff"] == {"name": "王芳", "branch": "城东支行"}
    assert ctx["charts"] == {"gold": "/charts/x.png"}
    assert ctx["market"]["GOLD"]["period_start"] == "2025-01-02"
    assert ctx["market"]["SSE"]["close"] == 3295.06
    assert ctx["market"] is not MARKET and ctx["market"]["SSE"] is not MARKET["SSE"]


def test_build_context_sample_staff_and_mapping():
    assert build_context(dt.date(2025, 4, 25), {}, None, {})["staff"] == SAMPLE_STAFF
    staff = {"name": "李雷", "branch": "城西支行", "password": "x"}
    assert build_context(dt.date(2025, 4, 25), {}, staff, {})["staff"] == {
        "name": "李雷", "branch": "城西支行"}


def test_context_cannot_be_mutated(context):
    with pytest.raises(TemplateRenderError):
        render_body("{{ market.SSE.update({'close': 1}) }}", context)
    with pytest.raises(TemplateRenderError):
        render_body("{% set _ = staff.__setitem__('name', 'x') %}", context)
    assert context["staff"]["name"] == "示例客户经理"
