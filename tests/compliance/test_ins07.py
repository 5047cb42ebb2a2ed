"""INS-07's insurer and product patterns: the fast forms find exactly what the slow ones did.

``rules.toml`` writes "two or more CJK characters, then …保险" as exactly two CJK characters:
for a presence check the two are the same, and the short form does not try every prefix
length at every position. Hypothesis compares them on texts built from the characters the
patterns care about.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from app.compliance import load_rules

#: The patterns as written before, with unbounded-looking prefixes ({2,20} and {2,30}).
SLOW = (
    re.compile("由.{2,20}(保险|人寿|财险).{0,10}承保|[\u4e00-\u9fff]{2,20}(人寿|财产|健康|养老)?"
               "保险(股份)?有限(责任)?公司"),
    re.compile("[\u4e00-\u9fff]{2,30}(两全|终身|定期|年金|医疗|重大疾病|疾病|意外伤害|护理|寿)保险"),
)
PIECES = ["保险", "人寿", "财产", "健康", "养老", "股份", "有限", "责任", "公司", "两全", "终身",
          "年金", "重大疾病", "意外伤害", "护理", "寿", "由", "承保", "平安", "中国", "某", "甲",
          "，", "。", " ", "A", "1", "（"]


def _fast():
    (rule,) = [r for r in load_rules().rules if r.id == "INS-07"]
    return rule.require


@settings(max_examples=1000, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_fast_patterns_find_what_the_slow_ones_found(text):
    for slow, fast in zip(SLOW, _fast(), strict=True):
        assert bool(fast.search(text)) == bool(slow.search(text)), text


def test_both_find_a_real_disclosure_and_miss_a_bare_mention():
    text = "本产品由中国平安人寿保险股份有限公司承保，产品全称为平安安心终身寿保险。"
    assert all(p.search(text) for p in _fast()) and all(p.search(text) for p in SLOW)
    bare = "本保险产品保障全面。"
    assert not any(p.search(bare) for p in _fast())
