from types import SimpleNamespace as F

import pytest

from app.compliance import Severity
from app.content import services
from app.content.presenters import Segment, finding_counts, highlight
from app.core.errors import ValidationFailed


def test_highlight_merges_overlaps_block_wins():
    text = "本产品保本保息，稳赚不赔。"
    findings = [F(start=3, end=5, severity=Severity.warn, rule_id="A"),
                F(start=4, end=7, severity=Severity.block, rule_id="B"),
                F(start=8, end=12, severity=Severity.warn, rule_id="C"),
                F(start=13, end=13, severity=Severity.block, rule_id="REQ"),
                F(start=None, end=None, severity=Severity.block, rule_id="R")]
    assert highlight(text, findings) == [
        Segment("本产品"), Segment("保本保息", "finding-block", "A B"), Segment("，"),
        Segment("稳赚不赔", "finding-warn", "C"), Segment("。"),
    ]
    assert "".join(s.text for s in highlight(text, findings)) == text
    assert finding_counts(findings) == {"block": 3, "warn": 2}


def test_preview_of_a_raw_body(db, market, stub_charts):
    body = "金价 {{ market.GOLD.close|num }}，{{ market.GOLD.change_pct|pct }}"
    result = services.preview(body=body, product="gold")
    assert result.outcome.run_date.isoformat() == "2025-04-25"  # latest stored date
    assert f"{market['GOLD']['close']:,.2f}" in result.outcome.text
    assert "INV-09" in {f.rule_id for f in result.findings}  # no risk warning
    assert result.is_blocked and result.chart_url is None
    with pytest.raises(ValidationFailed):
        services.preview(body="")
