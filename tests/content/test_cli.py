from pathlib import Path

import pytest

from tests.content.conftest import DEMO_DATE
from tests.factories import BranchFactory, UserFactory

LIBRARY = Path(__file__).resolve().parents[2] / "content_templates"
SECRET = "MARKER-SECRET-cli-77"


def _write(tmp_path, body, name="t.j2"):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return str(path)


def test_render_library_template_as_the_scheduler_would(runner, db):
    from app.market.models import ChartImage
    from app.market.services import market_context

    result = runner.invoke(args=["content", "render", str(LIBRARY / "global_indices_morning.j2"),
                                 "--date", DEMO_DATE.isoformat()])
    assert result.exit_code == 0, result.output
    market = market_context(DEMO_DATE)
    for code in ("SSE", "HSI", "IXIC", "N225"):
        assert f"收报 {market[code]['close']:,.2f} 点" in result.stdout
    assert "示例支行 示例客户经理" in result.stdout
    charts = {c.spec_name for c in db.session.query(ChartImage).filter_by(run_date=DEMO_DATE)}
    assert {"global_indices", "gold", "cny_fx"} <= charts


def test_render_quotes_only_closes_published_before_the_morning_post(runner, db):
    from tests.market.helpers import csv_rows, published_days

    result = runner.invoke(args=["content", "render", str(LIBRARY / "global_indices_morning.j2"),
                                 "--date", DEMO_DATE.isoformat()])
    assert result.exit_code == 0, result.output
    for code in ("SSE", "HSI", "IXIC", "N225"):
        day = published_days(code, DEMO_DATE)[-1]  # 2025-04-24: 04-25 closes come later
        close = float(csv_rows(code)[day]["Close"])
        assert day < DEMO_DATE
        assert f"收报 {close:,.2f} 点" in result.stdout, code
        assert f"（{day.isoformat()} 收盘）" in result.stdout, code
    assert f"（{DEMO_DATE.isoformat()} 收盘）" not in result.stdout


def test_render_with_staff_signature(runner, db, stub_charts):
    UserFactory(username="rm777", display_name="赵敏", branch=BranchFactory(name="滨江支行"))
    db.session.commit()
    result = runner.invoke(args=["content", "render", str(LIBRARY / "holiday_labour_day.j2"),
                                 "--date", "2025-04-25", "--staff", "rm777"])
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("—— 滨江支行 赵敏")


@pytest.mark.parametrize("body", [
    "{{ ''.__class__.__mro__ }}",
    "{{ config }}",
    "{{ config.SECRET_KEY }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}",
])
def test_sandbox_violation_exits_2_without_leaking(runner, db, tmp_path, monkeypatch, stub_charts,
                                                   body):
    monkeypatch.setitem(runner.app.config, "SECRET_KEY", SECRET)
    path = _write(tmp_path, body)
    result = runner.invoke(args=["content", "render", path, "--date", "2025-04-25"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "模板渲染失败" in result.stderr
    assert SECRET not in result.output and "Traceback" not in result.output
    assert "__" not in result.stderr


def test_missing_figure_exits_2_and_names_it(runner, db, tmp_path, stub_charts):
    path = _write(tmp_path, "上证 {{ market.XXX.close }}")
    result = runner.invoke(args=["content", "render", path, "--date", "2025-04-25"])
    assert result.exit_code == 2
    assert "market.XXX" in result.stderr


def test_syntax_error_exits_2(runner, db, tmp_path, stub_charts):
    result = runner.invoke(args=["content", "render", _write(tmp_path, "{% if %}"),
                                 "--date", "2025-04-25"])
    assert result.exit_code == 2 and "语法错误" in result.stderr


def test_unknown_staff_and_bad_input_exit_2(runner, db, tmp_path):
    path = _write(tmp_path, "你好")
    result = runner.invoke(args=["content", "render", path, "--date", "2025-04-25",
                                 "--staff", "nobody"])
    assert result.exit_code == 2 and "nobody" in result.stderr
    assert runner.invoke(args=["content", "render", path, "--date", "25/04/2025"]).exit_code == 2
    missing = str(tmp_path / "missing.j2")
    assert runner.invoke(args=["content", "render", missing, "--date", "2025-04-25"]).exit_code == 2


def test_date_without_market_data_exits_1(runner, db, tmp_path):
    result = runner.invoke(args=["content", "render", _write(tmp_path, "{{ date }}"),
                                 "--date", "1999-01-04"])
    assert result.exit_code == 1
    assert "错误" in result.stderr
