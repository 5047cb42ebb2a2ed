import datetime as dt
import json

from sqlalchemy import func, select

from app.market.charts import render_charts
from app.market.models import ChartImage, PriceBar
from tests.market.helpers import published_days

D = dt.date
URL = "/charts/2025-04-25/gold.png"


def _render(db):
    """Charts of 2025-04-25 from the session's bars, committed as the CLI does."""
    results = {r.spec: r for r in render_charts(D(2025, 4, 25))}
    db.session.commit()  # as the CLI does; a 404 handler's rollback must not undo it
    return results


def test_anonymous_is_sent_to_login(client, db):
    _render(db)
    with client.get(URL) as response:
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_logged_in_user_gets_the_png(client, db, login_as):
    results = _render(db)
    login_as("frontline")
    db.session.commit()
    with client.get(URL) as response, open(results["gold"].path, "rb") as handle:
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        assert response.data == handle.read()


def test_unknown_date_spec_or_bad_path_is_404(client, db, login_as):
    _render(db)
    login_as("editor")
    db.session.commit()
    for url in ("/charts/2025-04-24/gold.png", "/charts/2025-04-25/nope.png",
                "/charts/not-a-date/gold.png", "/charts/2025-04-25/..%2F..%2Fetc.png"):
        with client.get(url) as response:
            assert response.status_code == 404, url
    db.session.add(ChartImage(run_date=D(2025, 4, 26), spec_name="gold",
                              path="../../../etc/passwd", as_of={}, sha256="0" * 64))
    db.session.commit()
    with client.get("/charts/2025-04-26/gold.png") as response:
        assert response.status_code == 404


def test_cli_refresh_prints_as_of_json(runner, db):
    result = runner.invoke(args=["market", "refresh", "--date", "2025-01-29"])
    assert result.exit_code == 0, result.output
    as_of = json.loads(result.output)
    assert as_of["SSE"] == "2025-01-27" and as_of["HSI"] == "2025-01-28"
    assert as_of["GSPC"] == "2025-01-29"
    count = db.session.scalar(select(func.count()).select_from(PriceBar))
    assert count > 0
    runner.invoke(args=["market", "refresh", "--date", "2025-01-29"])
    assert db.session.scalar(select(func.count()).select_from(PriceBar)) == count


def test_cli_charts_prints_json_list(runner, db):
    assert runner.invoke(args=["market", "refresh", "--date", "2025-04-25"]).exit_code == 0
    result = runner.invoke(args=["market", "charts", "--date", "2025-04-25"])
    assert result.exit_code == 0, result.output
    charts = json.loads(result.output)
    assert [c["spec"] for c in charts] == ["cny_fx", "global_indices", "gold"]
    gold_as_of = published_days("GOLD", D(2025, 4, 25))[-1].isoformat()  # 04-24: 04-25 not yet
    assert charts[2]["url"] == URL and charts[2]["as_of"] == {"GOLD": gold_as_of}
    assert db.session.get(ChartImage, charts[2]["chart_image_id"]).spec_name == "gold"


def test_cli_rejects_a_bad_date(runner):
    result = runner.invoke(args=["market", "refresh", "--date", "25-04-2025"])
    assert result.exit_code == 2


def test_cli_build_snapshot_writes_the_configured_dir(app, runner, tmp_path, monkeypatch):
    from app.market.instruments import SERIES
    from tests.market.test_snapshot import _write  # noqa: PLC0415

    source = tmp_path / "src"
    source.mkdir()
    for series in SERIES.values():
        if series.snapshot_file:
            _write(source / series.snapshot_file, [["2025-04-25", "1", "2", "0.5", "1.5", "9"]])
    monkeypatch.setitem(app.config, "MARKET_SNAPSHOT_DIR", str(tmp_path / "out"))
    result = runner.invoke(args=["market", "build-snapshot", str(source)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["hang_seng_HSI.csv"]["rows"] == 1
    assert (tmp_path / "out" / "hang_seng_HSI.csv").read_text().splitlines()[1] == \
        "2025-04-25,1,2,0.5,1.5,9"
