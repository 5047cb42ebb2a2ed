"""Which market series a body quotes (the daily run's freshness check reads them)."""

import pytest

from app.content.references import quoted_series


@pytest.mark.parametrize("body, expected", [
    ("{{ market.SSE.close }} {{ market['HSI'].as_of }}", {"SSE", "HSI"}),
    ("{{ date }} 节日快乐", set()),
    ('{% for c in ["SSE", "N225"] %}{{ market[c].close }}{% endfor %}', {"SSE", "N225"}),
    ("{% for c, s in market.items() %}{{ s.close }}{% endfor %}", None),
    ("{% set m = market %}{{ m.GOLD.close }}", None),
    ("{{ market.SSE.close", None),  # does not parse: every series counts
])
def test_quoted_series(body, expected):
    got = quoted_series(body)
    assert (got if got is None else set(got)) == expected

