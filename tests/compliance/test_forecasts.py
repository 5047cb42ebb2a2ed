"""Price forecasts, buy-timing prompts and return-certainty wording (INV-04, INV-06, GLD-01, FX-01).

Found by a user trial: each line plus "市场有风险，投资须谨慎。" passed the gold check.
"""

import pytest

from app.compliance import blocking, check_text

RISK = "市场有风险，投资须谨慎。"
INVESTMENT = ["gold", "fund", "wealth", "fx", None]


def _hits(findings, text):
    return [(f.rule_id, f.severity.value, text[f.start:f.end]) for f in findings]


# (phrase, rule that must block, exact span, products where it must block)
MUST_BLOCK = [
    # the six lines from the trial
    ("金价有望继续走高", "INV-04", "金价有望继续走高", INVESTMENT),
    ("金价有望继续走高", "GLD-01", "金价有望继续走高", ["gold", None]),
    ("预计金价下周将突破3500美元", "INV-04", "预计金价下周将突破", INVESTMENT),
    ("预计金价下周将突破3500美元", "GLD-01", "预计金价下周将突破", ["gold", None]),
    ("建议逢低布局黄金", "INV-04", "逢低布局", INVESTMENT),
    ("后市看涨", "INV-04", "后市看涨", INVESTMENT),
    ("现在是买入黄金的好时机", "INV-04", "买入黄金的好时机", INVESTMENT),
    ("现在是买入黄金的好时机", "GLD-01", "买入黄金的好时机", ["gold", None]),
    ("收益稳定", "INV-06", "收益稳定", INVESTMENT),
    # 有望(继续)?(走高|上涨|走强|反弹|突破|创新高)
    ("黄金价格有望上涨", "INV-04", "黄金价格有望上涨", INVESTMENT),
    ("恒生指数有望反弹", "INV-04", "指数有望反弹", INVESTMENT),
    ("指数有望创新高", "INV-04", "指数有望创新高", INVESTMENT),
    ("基金净值有望稳步上涨", "INV-04", "基金净值有望稳步上涨", INVESTMENT),
    ("有望继续走高", "INV-04", "有望继续走高", INVESTMENT),
    ("金价或将迎来上涨", "GLD-01", "金价或将迎来上涨", ["gold", None]),
    ("黄金短期有望走强", "GLD-01", "黄金短期有望走强", ["gold", None]),
    # 预计/料将 … with a price subject or a target
    ("预计上证指数年底涨至4000点", "INV-04", "预计上证指数年底涨至", INVESTMENT),
    ("料将升至7.3", "INV-04", "料将升至7.3", INVESTMENT),
    ("预计下周黄金价格将上涨5%", "GLD-01", "预计下周黄金价格将上涨", ["gold", None]),
    # FX forecasts
    ("人民币有望升值", "FX-01", "人民币有望升值", ["fx", None]),
    ("美元将继续走弱", "FX-01", "美元将继续走弱", ["fx", None]),
    ("预计美元兑人民币将跌破7", "FX-01", "预计美元兑人民币将跌破", ["fx", None]),
    ("美元将继续走弱", "INV-04", "美元将继续走弱", INVESTMENT),
    ("现在是换汇好时机", "FX-01", "换汇好时机", ["fx", None]),
    # 看涨/看多/看空/看跌 as advice; 后市看好/向好/可期
    ("我们继续看多黄金", "INV-04", "我们继续看多", INVESTMENT),
    ("建议看空美元", "INV-04", "建议看空", INVESTMENT),
    ("黄金看涨", "INV-04", "黄金看涨", INVESTMENT),
    ("后市可期", "INV-04", "后市可期", INVESTMENT),
    ("后市向好", "INV-04", "后市向好", INVESTMENT),
    ("黄金后市看好", "GLD-01", "黄金后市看好", ["gold", None]),
    # buy / sell timing prompts
    ("逢低买入", "INV-04", "逢低买入", INVESTMENT),
    ("逢低加仓", "INV-04", "逢低加仓", INVESTMENT),
    ("逢低吸纳", "INV-04", "逢低吸纳", INVESTMENT),
    ("逢高减仓", "INV-04", "逢高减仓", INVESTMENT),
    ("建议买入", "INV-04", "建议买入", INVESTMENT),
    ("现在正是配置的良机", "INV-04", "配置的良机", INVESTMENT),
    ("当前是布局黄金的窗口期", "INV-04", "布局黄金的窗口期", INVESTMENT),
    ("现在入手正当时", "INV-04", "入手正当时", INVESTMENT),
    # certainty of returns
    ("稳定收益", "INV-06", "稳定收益", INVESTMENT),
    ("本产品收益稳定有保障", "INV-06", "收益稳定", INVESTMENT),
    ("每年都有稳定的回报", "INV-06", "稳定的回报", INVESTMENT),
    # evasion variants still hit through normalization
    ("金價有望繼續走高", "INV-04", "金價有望繼續走高", INVESTMENT),
    ("后 市 看 涨", "INV-04", "后 市 看 涨", INVESTMENT),
]


@pytest.mark.parametrize(
    ("phrase", "rule_id", "span", "product"),
    [(p, r, s, prod) for p, r, s, prods in MUST_BLOCK for prod in prods],
)
def test_forecasts_and_buy_prompts_block(phrase, rule_id, span, product):
    text = phrase + RISK
    assert (rule_id, "block", span) in _hits(blocking(check_text(text, product)), text)


@pytest.mark.parametrize("phrase", ["金价有望继续走高", "后市看涨", "收益稳定", "逢低布局"])
def test_rules_do_not_apply_to_non_investment_products(phrase):
    assert check_text(phrase, "loan", kinds={"forbid"}) == []


SHOULD_PASS = [
    "市场预计美联储将降息。",                       # macro expectation, not a product price
    "市场预计美联储将于12月降息25个基点。",
    "新品预计发布时间为下月。",
    "相关政策有望落地。",                            # policy
    "以上内容不构成任何上涨预测。",                  # NEG
    "本材料不构成对金价有望走高的判断。",            # NEG reaches the forecast
    "本基金不承诺收益稳定。",                        # NEG
    "收益不稳定，净值会随市场波动。",
    "谨防“稳涨”话术。",                              # EDU
    "警惕“金价有望翻倍”“逢低抄底”等违规话术，请勿轻信。",  # EDU
    "谨防“收益稳定、稳赚不赔”的宣传，这是诈骗常用话术。",  # EDU
    "美国非农数据低于预期，金价上涨1.2%。",          # reported fact, not a forecast
    "降息预期升温，金价上涨1.2%。",
    "上证指数今日创新高。",
    "黄金价格可能下跌，投资者可能损失本金。",        # risk statement
    "金价有涨有跌，也会下跌。",
    "看涨期权和看跌期权是两类不同的合约。",          # option names
    "市场看多情绪有所升温。",
    "不建议借钱买入黄金。",
    "短期价格可能出现较大波动。",
    "人民币汇率将在合理均衡水平上保持基本稳定。",
    "如需购买，请到网点柜台窗口办理。",
    "不要盲目追涨杀跌。",
    "预计本周五公布非农数据。",
]


@pytest.mark.parametrize("sentence", SHOULD_PASS)
@pytest.mark.parametrize("product", ["gold", "fund", "fx", "wealth", "general", None])
def test_neutral_commentary_has_no_forecast_findings(sentence, product):
    assert _hits(check_text(sentence, product, kinds={"forbid"}), sentence) == []


# Ambiguous wording: shown to the approver (warn), never blocking.
WARN_ONLY = [
    ("分析师普遍看涨。", "INV-04", "看涨"),                  # a reported view, not our advice
    ("国内经济有望回升。", "INV-04", "有望回升"),            # macro, no price subject
    ("预计CPI同比上涨0.5%。", "INV-04", "预计CPI同比上涨"),  # macro series
    ("预计全年居民消费价格上涨2%左右。", "INV-04", "预计全年居民消费价格上涨"),
    ("适合追求稳定收益的投资者。", "INV-06", "稳定收益"),    # investor's wish
    ("固定收益类资产可提供相对稳定的收益来源。", "INV-06", "稳定的收益"),
    ("本产品收益稳健。", "INV-06", "收益稳健"),
]


@pytest.mark.parametrize(("sentence", "rule_id", "span"), WARN_ONLY)
@pytest.mark.parametrize("product", ["gold", "fund", "fx", None])
def test_ambiguous_forecast_wording_warns(sentence, rule_id, span, product):
    findings = check_text(sentence, product, kinds={"forbid"})
    assert _hits(findings, sentence) == [(rule_id, "warn", span)]
