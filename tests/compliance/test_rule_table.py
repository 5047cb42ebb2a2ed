"""The rule table of RULES.md, rule by rule: a positive case, its evasion variants, and traps.

Every rule id in section 1 of RULES.md (vendored as ``app/compliance/RULES.md``) must have a
positive case here and be implemented in ``rules.toml`` or listed there as a process rule with
where it is enforced. Each forbidding positive case is rewritten with the evasions of section 2
(zero-width and spaces between characters, a line break, emoji, full width, traditional
characters) and must still hit the same rule; each should-pass sentence of section 3 must not
trigger the rule it names, with its product and with the product unknown.
"""

import datetime as dt
import re
from pathlib import Path

import pytest
from opencc import OpenCC

from app.compliance import (
    CHANNELS,
    ChartFacts,
    check_sent,
    check_text,
    load_rules,
    stale_series,
)
from tests.compliance.test_rules import SHOULD_PASS

RULES_MD = Path(__file__).resolve().parents[2] / "app" / "compliance" / "RULES.md"
SHARED_MD = Path(__file__).resolve().parents[3] / "shared" / "compliance" / "RULES.md"
TEXT = RULES_MD.read_text(encoding="utf-8")


def _table_ids() -> list[str]:
    section = TEXT.split("## 1. Rule table")[1].split("## 2.")[0]
    return re.findall(r"^\| ([A-Z]+-\d+) \|", section, flags=re.MULTILINE)


def _traps() -> list[tuple[str, list[str]]]:
    section = TEXT.split("## 3.")[1].split("## 4.")[0]
    out = []
    for line in section.splitlines():
        m = re.match(r"^\d+\. (.+?)\[(.+)\]$", line.strip())
        if m:
            out.append((m.group(1).strip(), re.findall(r"[A-Z]+-\d+", m.group(2))))
    return out


# (rule id, product, text, trigger): a forbidding rule must hit exactly the trigger; for a
# required statement the trigger is None (the rule must be reported).
POSITIVE = [
    ("AD-01", None, "这是全市最佳的选择。", "最佳"),
    ("AD-02", None, "本产品同类排名第一。", "第一"),
    ("AD-03", None, "本行收益最高的产品。", "收益最高"),
    ("AD-04", None, "国家担保，放心购买。", "国家担保"),
    ("AD-05", "fund", "专家推荐这只基金。", "专家推荐"),
    ("AD-06", None, "本行服务远超同行。", "远超同行"),
    ("INV-01", "wealth", "本产品保本。", "保本"),
    ("INV-02", "fund", "本基金零风险。", "零风险"),
    ("INV-03", "wealth", "预期年化收益率4.5%。", "预期年化收益率"),
    ("INV-04", "fund", "这只基金稳涨。", "稳涨"),
    ("INV-05", "wealth", "本系列从未亏损。", "从未亏损"),
    ("INV-06", "wealth", "坐享财富增长。", "坐享财富增长"),
    ("INV-07", "fund", "额度有限，欲购从速。", "欲购从速"),
    ("INV-08", "wealth", "零门槛参与。", "零门槛"),
    ("INV-09", "fund", "本基金投资于债券。", None),
    ("INV-10", "fund", "人人皆宜的基金。", "人人皆宜"),
    ("INV-11", "wealth", "购买即可参加抽奖。", "抽奖"),
    ("WM-01", "wealth", "本理财产品风险等级PR2。投资有风险。", None),
    ("WM-02", "wealth", "本产品成立以来年化收益率3.2%。", None),
    ("WM-03", "wealth", "本产品近一年收益率3.2%。", None),
    ("WM-04", "wealth", "业绩比较基准为3.5%。", None),
    ("WM-04", "wealth", "年化3.0%-4.5%（业绩比较基准）。", "年化3.0%-4.5%（业绩比较基准"),
    ("WM-05", "wealth", "理财非存款、产品有风险、投资须谨慎。", None),
    ("WM-06", "wealth", "这款理财就像存一笔钱。", "存一笔"),
    ("FD-01", "fund", "本基金近一年收益率12.5%。", None),
    ("FD-02", "fund", "本基金近3个月收益率达5%。", "近3个月收益率达5%"),
    ("FD-03", "fund", "本基金近一年收益率12.5%。", None),
    ("FD-04", "fund", "基金经理张三的代表作。", "基金经理张三的代表作"),
    ("FD-05", "fund", "本基金荣获五星评级。", "五星"),
    ("FD-06", "fund", "本基金已获中国证监会注册。", None),
    ("FD-07", "fund", "本公司为银行旗下基金公司。", None),
    ("FD-08", "fund", "回测显示坚持定投五年收益可观。", "回测"),
    ("FD-09", "fund", "本基金投资于债券。", None),
    ("FD-10", "fund", "本基金正收益概率超过90%。", "正收益概率"),
    ("INS-01", "insurance", "这款年金保险就像存款一样。", "存款"),
    ("INS-02", "insurance", "收益高于存款。", "高于存款"),
    ("INS-03", "insurance", "本产品保证分红。", "保证分红"),
    ("INS-04", "insurance", "本产品每年分红。", None),
    ("INS-05", "insurance", "出险秒赔。", "秒赔"),
    ("INS-06", "insurance", "产品即将停售。", "停售"),
    ("INS-07", "insurance", "本保险产品保障全面。", None),
    ("DEP-01", "deposit", "本行推出高息存款。", "高息存款"),
    ("DEP-02", "deposit", "存款保险全额保障。", "存款保险全额"),
    ("DEP-03", "deposit", "结构性存款新品发售。", None),
    ("LN-01", "loan", "日息万分之二。", None),
    ("LN-02", "loan", "免息分期。", "免息"),
    ("LN-03", "loan", "不看征信，快速放款。", "不看征信"),
    ("GLD-01", "gold", "金价必涨。", "金价必涨"),
    ("GLD-02", "gold", "黄金寄存享固定收益。", "寄存享固定收益"),
    ("GLD-03", "gold", "支持锁价交易。", "锁价"),
    ("FX-01", "fx", "人民币必贬。", "人民币必贬"),
    ("FX-02", "fx", "外汇保证金交易。", "外汇保证金"),
    ("REG-01", None, "本产品证监会认证。", "证监会认证"),
    ("DATA-01", None, "本产品收益率5%。", None),
    ("DATA-03", "fund", "日涨幅冠军。", "日涨幅"),
    ("DATA-04", "gold", "配图为金价近期走势。", None),
    ("CH-02", None, "请加我私人微信。", "加我私人微信"),
]
# Rules that are not text patterns: enforced elsewhere (tests below).
PROCESS = {"CH-01", "CH-03", "DATA-02", "FD-11"}


def _rule_hits(text, product, rule_id, **kwargs):
    return [text[f.start:f.end] for f in check_text(text, product, **kwargs)
            if f.rule_id == rule_id]


def test_vendored_rules_md_is_the_shared_one():
    if not SHARED_MD.exists():
        pytest.skip("shared/ is not beside the repository")
    assert SHARED_MD.read_text(encoding="utf-8") == TEXT


def test_every_rule_of_the_table_is_implemented_and_has_a_positive_case():
    ids = _table_ids()
    assert len(ids) == len(set(ids)) > 50
    rules = load_rules()
    implemented = {r.id for r in rules.rules}
    assert set(ids) - implemented == PROCESS == set(rules.process)
    assert set(ids) - {rule_id for rule_id, *_ in POSITIVE} == PROCESS


@pytest.mark.parametrize(("rule_id", "product", "text", "trigger"), POSITIVE,
                         ids=[f"{p[0]}-{i}" for i, p in enumerate(POSITIVE)])
def test_positive_case(rule_id, product, text, trigger):
    hits = _rule_hits(text, product, rule_id)
    if trigger is None:
        assert hits, f"{rule_id} not reported"
    else:
        assert trigger in hits


_T2S_BACK = OpenCC("t2s")
_S2T = OpenCC("s2t")


def _spread(trigger: str, sep: str) -> str:
    """``sep`` between neighbouring Chinese characters (figures such as 3.0% stay whole)."""
    out = trigger[:1]
    for before, ch in zip(trigger, trigger[1:], strict=False):
        out += (sep if not before.isascii() and not ch.isascii() else "") + ch
    return out


EVASIONS = {
    "zero-width": lambda t: _spread(t, "\u200b"),
    "spaces": lambda t: _spread(t, " "),
    "line break": lambda t: _spread(t, "\n").replace("\n", "\0", 1).replace("\n", "").replace(
        "\0", "\n"),
    "emoji": lambda t: _spread(t, "🔥"),
    "full width": lambda t: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in t),
    "traditional": lambda t: _S2T.convert(t),
}
FORBID_CASES = [(r, p, text, trig) for r, p, text, trig in POSITIVE if trig is not None]


@pytest.mark.parametrize("evasion", sorted(EVASIONS))
@pytest.mark.parametrize(("rule_id", "product", "text", "trigger"), FORBID_CASES,
                         ids=[f"{p[0]}-{i}" for i, p in enumerate(FORBID_CASES)])
def test_evasion_variants_still_hit(rule_id, product, text, trigger, evasion):
    variant = EVASIONS[evasion](trigger)
    if variant == trigger:
        pytest.skip("the variant does not change this trigger")
    evaded = text.replace(trigger, variant, 1)
    assert variant in _rule_hits(evaded, product, rule_id), evaded


TRAPS = [(sentence, rule_id) for sentence, ids in _traps() for rule_id in ids]
OWN_PRODUCT = dict(SHOULD_PASS)  # the product each sentence is written for


def test_traps_are_parsed():
    assert len(_traps()) == 23


@pytest.mark.parametrize(("sentence", "rule_id"), TRAPS,
                         ids=[f"trap{i}-{r}" for i, (_, r) in enumerate(TRAPS)])
def test_trap_does_not_trigger_its_rule(sentence, rule_id):
    for product in (None, OWN_PRODUCT[sentence]):
        assert _rule_hits(sentence, product, rule_id, kinds={"forbid"}) == [], product


# ---------------------------------------------------------------- process rules
def test_ch01_sent_text_must_be_the_approved_text_and_additions_are_checked():
    approved = "今日金价上涨1.2%（数据来源：上海黄金交易所，截至2025-04-25）。"
    assert check_sent(approved, approved) == []
    cut = check_sent(approved, approved[:-3])
    assert [(f.rule_id, f.severity.value, f.start) for f in cut] == [("CH-01", "block", None)]
    note = "王经理：这款产品保本，欢迎咨询。"
    sent = approved + "\n" + note
    found = check_sent(approved, sent, "gold")
    assert ("INV-01", "保本") in {(f.rule_id, sent[f.start:f.end]) for f in found}
    assert check_sent(approved, approved + "\n祝您周末愉快！", "gold") == []


def test_ch03_is_documented_for_the_customer_records():
    assert "documented" in load_rules().process["CH-03"]


def test_fd11_video_live_and_audio_channels_do_not_exist():
    assert CHANNELS == {"mass_message", "moments_post", "customer_group"}
    assert "unsupported" in load_rules().process["FD-11"]
    with pytest.raises(ValueError, match="channel"):
        check_text("直播：基金讲解", "fund", channel="live")


def test_data02_chart_source_date_window_and_labels():
    good = ChartFacts("gold", "COMEX黄金价格与均线", "Yahoo Finance GC=F",
                      ("截至 2025-04-24",), 120)
    text = "金价走势见配图。过往走势不代表未来表现。市场有风险，投资须谨慎。"
    assert check_text(text, "gold", charts=[good]) == []
    bad = ChartFacts("gold", "黄金最佳区间", "", ("",), 10)
    found = check_text(text, "gold", charts=[bad])
    messages = [f.message for f in found if f.rule_id == "DATA-02"]
    assert len(messages) == 4 and all(f.start is None for f in found)
    assert any("数据来源" in m for m in messages) and any("截至日期" in m for m in messages)
    assert any("10 个交易日" in m for m in messages) and any("最佳区间" in m for m in messages)


def test_data04_a_chart_triggers_the_past_performance_caveat():
    chart = ChartFacts("gold", "COMEX黄金", "Yahoo", ("截至 2025-04-24",), 120)
    text = "黄金行情。市场有风险，投资须谨慎。"
    assert [f.rule_id for f in check_text(text, "gold", charts=[chart])] == ["DATA-04"]
    assert check_text(text, "gold") == []


# ---------------------------------------------------------------- channel limit, HTML, freshness
def test_mass_message_limit_is_4000_bytes_per_channel():
    text = "市" * 1334  # 4,002 bytes of UTF-8, 1,334 characters
    over = check_text(text, "general", channel="mass_message")
    assert [(f.rule_id, f.severity.value) for f in over] == [("CH-LEN", "block")]
    assert "4,002 字节" in over[0].message
    assert check_text(text[:-1], "general", channel="mass_message") == []
    assert check_text(text, "general", channel="moments_post") == []  # 2,000 characters
    assert [f.rule_id for f in check_text("市" * 2001, "general", channel="moments_post")] == [
        "CH-LEN"]


@pytest.mark.parametrize("body", ["<b>今日金价</b>", "今日<br>金价", "今日&nbsp;金价",
                                  '<a href="x">点此</a>', "<!-- 注释 -->"])
def test_html_in_a_body_is_refused(body):
    found = [(f.rule_id, f.severity.value) for f in check_text(body)]
    assert ("FMT-01", "block") in found


@pytest.mark.parametrize("body", ["涨幅<2%", "a < b", "{{ market.SSE.close }}", "{% if x %}"])
def test_text_that_is_not_html_passes(body):
    assert "FMT-01" not in {f.rule_id for f in check_text(body)}


def test_freshness_limit_of_market_commentary():
    run = dt.date(2025, 4, 25)  # a Friday
    assert stale_series({"SSE": dt.date(2025, 4, 24), "IXIC": dt.date(2025, 4, 23)}, run) == {}
    stale = stale_series({"HSI": dt.date(2025, 4, 21)}, run)
    assert list(stale) == ["HSI"] and "落后 3 个交易日" in stale["HSI"]
    monday = dt.date(2025, 4, 28)
    assert stale_series({"SSE": dt.date(2025, 4, 25)}, monday) == {}  # the weekend is no session
    holiday = {dt.date(2025, 5, 1), dt.date(2025, 5, 2)}
    assert stale_series({"SSE": dt.date(2025, 4, 30)}, dt.date(2025, 5, 6),
                        is_session=lambda code, day: day.weekday() < 5 and day not in holiday
                        ) == {}
