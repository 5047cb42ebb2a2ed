"""The render budget (issue 6, point 1): every attack of the issue, reproduced.

Each attack test runs under a hard timeout (pytest-timeout): a hang fails the test
instead of hanging CI. After each attack a normal render still works ("a worker
survives"). No test sleeps: concurrency is synchronised with events.
"""

import datetime as dt
import resource
import sqlite3
import threading
import time

import pytest
from sqlalchemy import event

from app.auth.services import hash_password
from app.compliance import Severity
from app.content import checks, rehearsal, services
from app.content.checks import RENDER_RULE_ID
from app.content.models import TemplateStatus
from app.core.errors import Conflict
from app.core.extensions import db as _db
from app.factory import create_app
from app.org.models import Branch, BranchLevel, Role, User
from app.org.services import set_branch_path
from app.rendering import isolation
from app.rendering.budget import RenderBudget
from app.rendering.isolation import render_isolated, render_isolated_many, run_in_worker
from app.rendering.sandbox import (
    RenderBudgetExceeded,
    TemplateRenderError,
    build_context,
    render_body,
)
from config import TestConfig
from tests.factories import SopPlanFactory

#: A hang must fail the test, never CI: every test here has a hard timeout.
pytestmark = pytest.mark.timeout(30)

SAFE = "今日上证指数收报 {{ market.SSE.close|num }} 点。市场有风险，投资须谨慎。"
THREE_LOOPS = ('{% set s = "x" * 2000 %}{% for a in s %}{% for b in s %}{% for c in s %}'
               "{% endfor %}{% endfor %}{% endfor %}市场有风险，投资须谨慎。")
TOWER = "{{ (9**64**64**64**64) > 1 }}市场有风险，投资须谨慎。"
HUGE_OUTPUT = ('{% set s = "x" * 1000 %}{% for a in s %}{% for b in s %}{{ "y" * 1000 }}'
               "{% endfor %}{% endfor %}")
MACRO_BOMB = ("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
              "{{ f(40) }}")
BOMB_DATE = "2025-05-07"  # a Wednesday, within 30 weekdays of 2025-04-25
DATE_BOMB = ("今日上证指数收报 {{ market.SSE.close|num }} 点。市场有风险，投资须谨慎。"
             '{% if date == "' + BOMB_DATE + '" %}{% set s = "x" * 2000 %}'
             "{% for a in s %}{% for b in s %}{% for c in s %}{% endfor %}{% endfor %}{% endfor %}"
             "{% endif %}")

MARKET = {"SSE": {"name": "上证指数", "close": 3295.06, "change_pct": -0.07,
                  "as_of": "2025-04-24", "source": "Yahoo Finance 000001.SS"}}
CONTEXT = build_context(dt.date(2025, 4, 25), MARKET, None, {})
SAFE_TEXT = "今日上证指数收报 3,295.06 点。市场有风险，投资须谨慎。"


def assert_worker_survives():
    """A normal render in a render worker still works after an attack."""
    assert render_isolated(SAFE, CONTEXT) == SAFE_TEXT


@pytest.fixture(scope="module", autouse=True)
def warm_workers():
    """Start the render workers once (a cold forkserver start is not what a test times)."""
    assert_worker_survives()


@pytest.fixture
def budget_config(app, monkeypatch):
    """Set render-budget config keys for one test: ``budget_config(RENDER_CPU_SECONDS=0.5)``."""

    def _set(**values):
        for key, value in values.items():
            monkeypatch.setitem(app.config, key, value)

    return _set


def _render_finding(version):
    return next(f for f in version.findings if f.rule_id == RENDER_RULE_ID)


# --- the counting sandbox, in process ------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("body", "message"), [
    (THREE_LOOPS, "循环次数超过 10000 次"),
    (TOWER, "整数超过 1024 位"),
    (HUGE_OUTPUT, "输出超过 20000 字"),
    (MACRO_BOMB, "运行时间超过 1 秒"),
    ('{% set s = "ab" %}' + "{% set s = s ~ s %}" * 40 + "{{ s|length }}", "文字或列表长度"),
    ('{% set s = "ab" %}' + "{% set s = s + s %}" * 40 + "{{ s|length }}", "文字或列表长度"),
    ("{{ [[1] * 2000] * 2000 }}", "文字或列表长度"),
    ('{{ "x"|center(999999999) }}', "文字或列表长度"),
    ('{{ "{:>999999999}".format(1) }}', "文字或列表长度"),
    ('{{ "%0999999999d" % 1 }}', "文字或列表长度"),
    ('{% set s = "a" * 2000 %}{{ s|replace("a", s) }}', "文字或列表长度"),
    ('{{ (["x"] * 2000)|join("y" * 2000) }}', "文字或列表长度"),
    ('{{ "abc"|slice(999999999)|list }}', "文字或列表长度"),
    ("{{ 10**300 * 10**300 }}", "整数超过"),
    ("{% macro f(n, l) %}{% if n %}{{ f(n - 1, [l, l]) }}{% else %}{{ l == l|list }}"
     "{% endif %}{% endmacro %}{{ f(40, [1]) }}", "文字或列表长度"),
    ('{% set d = {"a": [1] * 2000} %}{{ ([d] * 2000)|string|length }}', "文字或列表长度"),
    ('{% set s = "x" * 2000 %}{% set t %}{% for a in s %}{% for b in s %}{{ s }}{% endfor %}'
     "{% endfor %}{% endset %}{{ t|length }}", "循环次数"),
])
def test_counting_sandbox_stops_each_attack_quickly_with_a_chinese_message(body, message):
    started = time.process_time()
    with pytest.raises(RenderBudgetExceeded) as caught:
        render_body(body, CONTEXT)
    assert caught.value.message.startswith("模板渲染超出限制：")
    assert message in caught.value.message
    assert time.process_time() - started < 3  # the CPU budget is 1 s


def test_huge_output_stops_at_the_cap_without_building_it():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pytest.raises(RenderBudgetExceeded, match="输出超过 20000 字"):
        render_body(HUGE_OUTPUT, CONTEXT)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024


def test_budget_is_configurable_and_ordinary_templates_render():
    small = RenderBudget(cpu_seconds=0.2, max_output_chars=30, max_loop_iterations=3,
                         max_int_bits=16, memory_mb=64)
    with pytest.raises(RenderBudgetExceeded, match="循环次数超过 3 次") as caught:
        render_body("{% for c in 'abcd' %}{{ c }}{% endfor %}", CONTEXT, small)
    assert caught.value.limit == "loop"
    with pytest.raises(RenderBudgetExceeded, match="运行时间超过 0.2 秒"):
        render_body(MACRO_BOMB, CONTEXT, small)
    with pytest.raises(RenderBudgetExceeded, match="整数超过 16 位"):
        render_body("{{ 2 ** 17 }}", CONTEXT, small)
    assert render_body("{{ 2 ** 15 }}", CONTEXT, small) == "32768"
    body = ("{% for code, s in market.items() %}{{ loop.index }}.{{ s.name }} {{ s.close|num }}"
            "{% if not loop.last %}；{% endif %}{% endfor %} {{ '%.4f'|format(1.0001 ** 365) }}"
            " {{ '{:,.1f}'.format(12345.67) }} {{ 'ab' * 3 }} {{ ([1, 2] + [3])|join('/') }}")
    assert render_body(body, CONTEXT) == "1.上证指数 3,295.06 1.0372 12,345.7 ababab 1/2/3"


# --- the worker process: the kernel stops what the sandbox cannot count --------------


@pytest.mark.timeout(30)
def test_kernel_cpu_limit_kills_a_render_stuck_in_c_and_a_new_worker_takes_over():
    budget = RenderBudget(cpu_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(RenderBudgetExceeded, match="运行时间超过 0.5 秒"):
        run_in_worker(pow, (3, 10**9), budget)  # minutes of C code, never back in Python
    assert time.monotonic() - started < 25
    assert_worker_survives()


@pytest.mark.timeout(30)
def test_kernel_memory_limit_fails_a_huge_allocation_and_the_worker_goes_on():
    with pytest.raises(RenderBudgetExceeded, match="内存占用超过 64 MB"):
        run_in_worker(bytearray, (2 * 1024**3,), RenderBudget(memory_mb=64))
    assert_worker_survives()


@pytest.mark.timeout(30)
def test_tower_with_the_integer_check_lifted_is_stopped_by_the_cpu_limit():
    budget = RenderBudget(cpu_seconds=0.5, max_int_bits=10**12)
    with pytest.raises(RenderBudgetExceeded, match="运行时间超过 0.5 秒"):
        render_isolated(TOWER, CONTEXT, budget)
    assert_worker_survives()


@pytest.mark.timeout(30)
def test_huge_output_in_a_worker_ends_at_the_output_cap_not_at_the_memory_limit():
    with pytest.raises(RenderBudgetExceeded, match="输出超过 20000 字"):
        render_isolated(HUGE_OUTPUT, CONTEXT, RenderBudget(memory_mb=64))
    assert_worker_survives()


@pytest.mark.timeout(30)
def test_a_memory_bomb_under_a_lifted_size_check_hits_the_memory_limit():
    budget = RenderBudget(max_output_chars=10**10, memory_mb=64)
    with pytest.raises(RenderBudgetExceeded, match="内存占用超过 64 MB"):
        render_isolated('{{ ("x" * 200000000)|length }}', CONTEXT, budget)
    assert_worker_survives()


def test_a_batch_stops_at_the_first_failure_and_names_its_index():
    contexts = [build_context(dt.date(2025, 4, day), MARKET, None, {}) for day in (24, 25, 28)]
    body = ('{{ date }}{% if date == "2025-04-25" %}{% for a in "x" * 200 %}{{ "y" * 200 }}'
            "{% endfor %}{% endif %}")
    with pytest.raises(TemplateRenderError) as caught:
        render_isolated_many(body, contexts)
    assert caught.value.index == 1 and "输出超过" in caught.value.message
    assert render_isolated_many("{{ date }}", contexts) == ["2025-04-24", "2025-04-25",
                                                            "2025-04-28"]


# --- save, preview and the CLI ------------------------------------------------------


@pytest.mark.timeout(30)
def test_three_nested_loops_on_save_are_a_blocking_finding_not_a_hung_request(editor, market):
    started = time.monotonic()
    template = services.create_template(editor.id, "loops", "循环", "general", "mass_message",
                                        None, SAFE)
    version = services.save_version(template.id, editor.id, THREE_LOOPS)
    assert time.monotonic() - started < 20
    finding = _render_finding(version)
    assert finding.severity is Severity.block
    assert "模板渲染超出限制：循环次数超过 10000 次" in finding.message
    assert not any(f.rule_id == RENDER_RULE_ID
                   for f in services.save_version(template.id, editor.id, SAFE).findings)


@pytest.mark.timeout(30)
def test_three_nested_loops_with_the_loop_limit_lifted_stop_at_one_second(editor, market,
                                                                          budget_config):
    budget_config(RENDER_MAX_LOOP_ITERATIONS=10**12)
    template = services.create_template(editor.id, "loops", "循环", "general", "mass_message",
                                        None, THREE_LOOPS)
    assert "运行时间超过 1 秒" in _render_finding(template.latest_version).message
    assert_worker_survives()


@pytest.mark.timeout(30)
def test_power_tower_on_save_is_refused_before_computing(editor, market):
    template = services.create_template(editor.id, "tower", "乘方", "general", "mass_message",
                                        None, TOWER)
    message = _render_finding(template.latest_version).message
    assert "整数超过 1024 位（乘方或乘法过大）" in message
    assert_worker_survives()


@pytest.mark.timeout(30)
def test_huge_output_in_preview_stops_at_the_cap(client, login_as, editor, market):
    template = services.create_template(editor.id, "output", "输出", "general", "mass_message",
                                        None, SAFE)
    login_as(editor)
    started = time.monotonic()
    response = client.post(f"/content/{template.id}/edit", data={"body": HUGE_OUTPUT})
    assert response.status_code in (200, 302)
    html = client.get(f"/content/{template.id}/preview?date=2025-04-25").get_data(as_text=True)
    assert time.monotonic() - started < 20
    assert "模板渲染超出限制：输出超过 20000 字" in html
    assert_worker_survives()


@pytest.mark.timeout(30)
def test_cli_render_over_budget_exits_2_with_the_reason(runner, db, tmp_path, stub_charts):
    path = tmp_path / "bomb.j2"
    path.write_text(MACRO_BOMB, encoding="utf-8")
    result = runner.invoke(args=["content", "render", str(path), "--date", "2025-04-25"])
    assert result.exit_code == 2
    assert "模板渲染超出限制：运行时间超过 1 秒" in result.stderr
    assert_worker_survives()


# --- approval renders the next run dates ---------------------------------------------


def _approved_then_edited(editor, reviewer, body, slug="watch"):
    template = services.create_template(editor.id, slug, "盯盘", "general", "mass_message",
                                        None, SAFE)
    services.submit_for_review(template.id, editor.id)
    services.approve(template.id, reviewer.id)
    version = services.save_version(template.id, editor.id, body)
    services.submit_for_review(template.id, editor.id)
    return template, version


@pytest.mark.timeout(30)
def test_date_dependent_bomb_passes_save_but_is_caught_at_approval(editor, reviewer, market,
                                                                  budget_config):
    budget_config(BUSINESS_DATE="2025-04-25")
    template, version = _approved_then_edited(editor, reviewer, DATE_BOMB)
    SopPlanFactory(template=template, calendar="weekdays")
    assert not any(f.is_blocking for f in version.findings)  # the sample date is harmless
    with pytest.raises(Conflict) as caught:
        services.approve(template.id, reviewer.id)
    assert caught.value.message == (f"{BOMB_DATE} 的预演渲染失败："
                                    "模板渲染超出限制：循环次数超过 10000 次")
    assert template.status is TemplateStatus.in_review
    assert template.approved_version_id != version.id
    assert_worker_survives()


@pytest.mark.timeout(30)
def test_a_date_bomb_the_kernel_must_stop_is_still_attributed_to_its_date(
        editor, reviewer, market, budget_config):
    budget_config(BUSINESS_DATE="2025-04-25", RENDER_CPU_SECONDS=0.5,
                  RENDER_MAX_INT_BITS=10**12)  # the tower then runs in C, out of the sandbox
    bomb = SAFE + '{% if date == "' + BOMB_DATE + '" %}' + TOWER + "{% endif %}"
    template, _ = _approved_then_edited(editor, reviewer, bomb)
    with pytest.raises(Conflict) as caught:
        services.approve(template.id, reviewer.id)
    assert caught.value.message == (f"{BOMB_DATE} 的预演渲染失败："
                                    "模板渲染超出限制：运行时间超过 0.5 秒")
    assert_worker_survives()


@pytest.mark.timeout(30)
def test_an_approval_renders_its_dates_in_one_worker_call_unless_one_was_killed(
        editor, reviewer, market, budget_config, monkeypatch):
    budget_config(BUSINESS_DATE="2025-04-25", APPROVAL_RENDER_DAYS=30)
    calls = []
    real_submit = isolation._submit
    monkeypatch.setattr(isolation, "_submit", lambda function, args, *rest, **kw: (
        calls.append(len(args[1])), real_submit(function, args, *rest, **kw))[1])
    template, _ = _approved_then_edited(editor, reviewer, SAFE + "{{ date }}")
    calls.clear()
    services.approve(template.id, reviewer.id)
    assert calls == [30]  # one call of 30 contexts, not 30 tasks
    budget_config(RENDER_CPU_SECONDS=0.5, RENDER_MAX_INT_BITS=10**12)
    bomb = SAFE + '{% if date == "' + BOMB_DATE + '" %}' + TOWER + "{% endif %}"
    template, _ = _approved_then_edited(editor, reviewer, bomb, slug="killed")
    calls.clear()
    with pytest.raises(Conflict):
        services.approve(template.id, reviewer.id)
    assert calls == [30] + [1] * 30  # killed: again one task per date, to name the date


@pytest.mark.timeout(30)
def test_approval_uses_the_plans_run_dates_or_the_next_weekdays(editor, reviewer, market,
                                                               budget_config):
    budget_config(BUSINESS_DATE="2025-04-25", APPROVAL_RENDER_DAYS=4)
    template, _ = _approved_then_edited(editor, reviewer, SAFE + "{{ date }}")
    assert rehearsal.rehearsal_dates(template.id, 4) == [
        dt.date(2025, 4, 25), dt.date(2025, 4, 28), dt.date(2025, 4, 29), dt.date(2025, 4, 30)]
    SopPlanFactory(template=template, calendar="daily")
    assert rehearsal.rehearsal_dates(template.id, 4) == [
        dt.date(2025, 4, 25), dt.date(2025, 4, 26), dt.date(2025, 4, 27), dt.date(2025, 4, 28)]
    SopPlanFactory(template=template, calendar="weekdays", is_active=False)
    services.approve(template.id, reviewer.id)
    assert template.status is TemplateStatus.approved


@pytest.mark.timeout(30)
def test_a_bomb_beyond_the_rehearsal_window_is_not_rendered(editor, reviewer, market,
                                                           budget_config):
    budget_config(BUSINESS_DATE="2025-04-25", APPROVAL_RENDER_DAYS=5)
    template, _ = _approved_then_edited(editor, reviewer, DATE_BOMB)
    services.approve(template.id, reviewer.id)  # 2025-05-07 is the 9th weekday
    assert template.status is TemplateStatus.approved


@pytest.mark.timeout(30)
def test_without_market_data_only_a_budget_breach_blocks_approval(editor, reviewer,
                                                                 budget_config):
    budget_config(BUSINESS_DATE="2025-04-25")
    bomb = "{{ date }}" + DATE_BOMB[DATE_BOMB.index("{% if"):]  # no market figure before it
    template, _ = _approved_then_edited(editor, reviewer, bomb, slug="bomb")
    with pytest.raises(Conflict, match=BOMB_DATE):
        services.approve(template.id, reviewer.id)
    plain, _ = _approved_then_edited(editor, reviewer, SAFE + "{{ date }}", slug="plain")
    services.approve(plain.id, reviewer.id)  # market.SSE is missing on every date: not judged
    assert plain.status is TemplateStatus.approved


# --- nothing holds a database write lock while rendering -----------------------------


def _record_statements(monkeypatch, module, name):
    """Log each SQL statement's verb, and ``RENDER`` when ``module.name`` renders."""
    log = []
    real = getattr(module, name)

    def recorded(*args, **kwargs):
        log.append("RENDER")
        return real(*args, **kwargs)

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        log.append(statement.lstrip().split(None, 1)[0].upper())

    monkeypatch.setattr(module, name, recorded)
    event.listen(_db.engine, "before_cursor_execute", on_execute)
    return log, lambda: event.remove(_db.engine, "before_cursor_execute", on_execute)


def _writes_after_last_render(log):
    last_render = max(i for i, verb in enumerate(log) if verb == "RENDER")
    return all(verb not in ("INSERT", "UPDATE", "DELETE") for verb in log[:last_render])


@pytest.mark.timeout(30)
def test_save_and_approve_render_before_their_first_write(editor, reviewer, market,
                                                         monkeypatch):
    log, stop = _record_statements(monkeypatch, checks, "render_isolated")
    try:
        template = services.create_template(editor.id, "order", "顺序", "general",
                                            "mass_message", None, SAFE)
        assert "INSERT" in log and _writes_after_last_render(log)
        services.submit_for_review(template.id, editor.id)
        _db.session.flush()
        log.clear()
        services.save_version(template.id, editor.id, SAFE + "。")
        _db.session.flush()
        assert "INSERT" in log and _writes_after_last_render(log)
    finally:
        stop()
    services.submit_for_review(template.id, editor.id)
    _db.session.flush()
    log, stop = _record_statements(monkeypatch, rehearsal, "render_isolated_each")
    try:
        services.approve(template.id, reviewer.id)
        _db.session.flush()
        assert "INSERT" in log and _writes_after_last_render(log)
    finally:
        stop()


def _lock_test_app(tmp_path):
    """An app on its own SQLite file with real commits: an editor, a reviewer, a template."""
    other = create_app(TestConfig(), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'l.db'}",
                       CHART_OUTPUT_DIR=str(tmp_path / "charts"))
    with other.app_context():
        _db.create_all()
        hq = Branch(code="HQ", name="总行", level=BranchLevel.hq)
        _db.session.add(hq)
        set_branch_path(hq)
        password = hash_password("lock-test")
        people = {role: User(username=role.value, display_name=role.value, role=role, branch=hq,
                             password_hash=password)
                  for role in (Role.editor, Role.reviewer, Role.frontline)}
        _db.session.add_all(people.values())
        _db.session.commit()
        template = services.create_template(people[Role.editor].id, "lock", "锁", "general",
                                            "mass_message", None, "你好 {{ date }}")
        services.submit_for_review(template.id, people[Role.editor].id)
        _db.session.commit()
        ids = {role: user.id for role, user in people.items()} | {"template": template.id}
        _db.session.remove()
    return other, ids


@pytest.mark.timeout(60)
@pytest.mark.parametrize("step", ["save", "approve"])
def test_a_render_in_progress_does_not_block_another_connections_write(tmp_path, monkeypatch,
                                                                      step):
    other, ids = _lock_test_app(tmp_path)
    rendering, release, errors = threading.Event(), threading.Event(), []
    module, name = ((checks, "render_isolated") if step == "save"
                    else (rehearsal, "render_isolated_each"))
    real = getattr(module, name)

    def slow_render(*args, **kwargs):  # holds the request inside its render until released
        rendering.set()
        assert release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, slow_render)
    monkeypatch.setattr(services, "sample_context", lambda: CONTEXT)

    def request():
        with other.app_context():
            try:
                if step == "save":
                    services.save_version(ids["template"], ids[Role.editor], "你好，{{ date }}")
                else:
                    services.approve(ids["template"], ids[Role.reviewer])
                _db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                _db.session.remove()

    worker = threading.Thread(target=request)
    worker.start()
    try:
        assert rendering.wait(30)
        rm = sqlite3.connect(tmp_path / "l.db", timeout=0)  # no busy wait: a held lock fails
        try:  # the relationship manager marks something done meanwhile
            rm.execute("UPDATE users SET display_name = '已完成' WHERE id = ?",
                       (ids[Role.frontline],))
            rm.commit()
        finally:
            rm.close()
    finally:
        release.set()
        worker.join(30)
    assert not worker.is_alive() and errors == []
    with other.app_context():
        template = services.get_template(ids["template"])
        expected = TemplateStatus.draft if step == "save" else TemplateStatus.approved
        assert template.status is expected
        assert _db.session.get(User, ids[Role.frontline]).display_name == "已完成"
        _db.session.remove()
