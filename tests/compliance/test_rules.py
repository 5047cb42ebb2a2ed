import re

import pytest

from app.compliance import (
    PRODUCTS,
    Finding,
    Severity,
    blocking,
    check_text,
    load_rules,
)
from app.compliance.normalize import normalize
from app.content.models import ProductCategory

SHOULD_PASS = [
    ("本产品不保本，可能发生本金损失，请谨慎投资。", "wealth"),
    ("理财非存款、产品有风险、投资须谨慎。", "wealth"),
    ("基金的过往业绩并不预示其未来表现，基金管理人管理的其他基金的业绩并不构成基金业绩表现的保证。",
     "fund"),
    ("中国证监会的注册并不代表中国证监会对该基金的风险和收益作出实质性判断、推荐或者保证。",
     "fund"),
    ("本基金为混合型基金，其预期风险与预期收益高于债券型基金与货币市场基金，低于股票型基金。",
     "fund"),
    ("最近一周市场波动加大，请关注持仓风险。", "fund"),
    ("本产品最低起购金额为1元，最短持有期30天。", "wealth"),
    ("本产品风险等级为PR1（低风险），适合谨慎型及以上投资者。", "wealth"),
    ("大额存单属于存款，受《存款保险条例》保护，最高偿付限额为人民币50万元。", "deposit"),
    ("本行第一季度客户沙龙将于3月举行。", "general"),
    ("请通过本行官方渠道办理业务，注意账户资金安全。", "fund"),
    ("本基金可投资于国债、同业存单等固定收益类资产。", "fund"),
    ("定期存款到期后按约定利率还本付息。", "deposit"),
    ("年金保险的保证利益以合同约定为准，红利分配是不确定的。", "insurance"),
    ("本产品业绩比较基准为中债新综合财富（1年以下）指数收益率×80%＋一年期定期存款利率×20%，"
     "选取依据为产品投资策略，不代表未来表现，不构成收益承诺。", "wealth"),
    ("黄金价格波动较大，过往走势不代表未来表现，请理性配置。", "gold"),
    ("贷款年化利率（单利）3.6%–18%，具体以审批结果为准。", "loan"),
    ("谨防诈骗：凡宣称“保本高收益”“稳赚不赔”的都是违规话术，请勿轻信。", "wealth"),
    ("货币基金七日年化收益率1.45%（数据来源：基金公告，截至2026年11月28日），过往业绩不代表未来表现。",
     "fund"),
    ("本基金最大回撤为-3.2%（统计区间2023年1月1日至2025年12月31日，数据来源：基金定期报告）。",
     "fund"),
    ("首次购买前请先完成风险承受能力评估。", "fund"),
    ("外汇市场存在汇率波动风险，结售汇以实时牌价为准。", "fx"),
    ("本基金管理人与股东之间实行业务隔离制度。", "fund"),
    # not in RULES.md section 3, but standard wording (FD-09) that a naive matcher would flag
    ("基金管理人不保证基金一定盈利，也不保证最低收益。", "fund"),
    ("业绩比较基准不是预期收益率，不代表产品的未来表现和实际收益。", "wealth"),
]


def _hits(findings, text):
    return [(f.rule_id, f.severity.value, text[f.start:f.end]) for f in findings]


@pytest.mark.parametrize(("sentence", "product"), SHOULD_PASS,
                         ids=[f"pass{i}" for i in range(1, len(SHOULD_PASS) + 1)])
@pytest.mark.parametrize("mode", ["unknown", "own"])
def test_should_pass_sentences_have_no_forbid_findings(sentence, product, mode):
    findings = check_text(sentence, None if mode == "unknown" else product, kinds={"forbid"})
    assert _hits(findings, sentence) == []


EVASIONS = [
    # (text, rule_id, severity, exact original span expected to be reported)
    ("１００％保本", "AD-03", "block", "１００％保本"),
    ("１００％保本", "INV-01", "block", "保本"),
    ("ＮＯ．１", "AD-02", "warn", "ＮＯ．１"),
    ("保 本", "INV-01", "block", "保 本"),
    ("稳.赚.不.赔", "INV-01", "block", "稳.赚.不.赔"),
    ("保/本/保/息", "INV-01", "block", "保/本"),
    ("保/本/保/息", "INV-01", "block", "保/息"),
    ("保\n本", "INV-01", "block", "保\n本"),
    ("穩賺不賠", "INV-01", "block", "穩賺不賠"),
    ("無風險", "INV-02", "block", "無風險"),
    ("保證收益", "INV-01", "block", "保證收益"),
    ("保夲", "INV-01", "block", "保夲"),
    ("第⼀", "AD-02", "warn", "第⼀"),
    ("NО.1", "AD-02", "warn", "NО.1"),
    ("1OO%保本", "AD-03", "block", "1OO%保本"),
    ("保💰本", "INV-01", "block", "保💰本"),
    ("稳🚀赚", "INV-01", "block", "稳🚀赚"),
    ("📈只涨不跌", "INV-04", "block", "只涨不跌"),
    ("保\u200b本", "INV-01", "block", "保\u200b本"),
    ("刚\u200d兑", "INV-01", "block", "刚\u200d兑"),
    ("\ufeff无风险", "INV-02", "block", "无风险"),
    ("bao本", "INV-01", "block", "bao本"),
    ("保ben", "INV-01", "block", "保ben"),
    ("wen赚不赔", "INV-01", "block", "wen赚不赔"),
    ("baoben", "INV-01", "block", "baoben"),
    ("认准BB产品", "INV-01", "warn", "BB"),
    ("bbbx", "INV-01", "warn", "bbbx"),
    ("0fx", "INV-02", "warn", "0fx"),
    ("wfx理财", "INV-02", "warn", "wfx"),
    ("gd", "INV-01", "warn", "gd"),
    ("饱本", "INV-01", "warn", "饱本"),
    ("宝本保息", "INV-01", "warn", "宝本"),
    ("稳钻不赔", "INV-01", "warn", "稳钻不赔"),
    ("刚对", "INV-01", "warn", "刚对"),
    ("0风险", "INV-02", "block", "0风险"),
    ("〇风险", "INV-02", "block", "〇风险"),
    ("百分百保本", "AD-03", "block", "百分百保本"),
    ("百分之百赚钱", "AD-03", "block", "百分之百赚"),
    ("壹佰%安全", "AD-03", "block", "壹佰%安全"),
    ("Top1", "AD-02", "warn", "Top1"),
    ("第①", "AD-02", "warn", "第①"),
    ("亻呆本", "INV-01", "block", "亻呆本"),
    ("&#20445;&#26412;", "INV-01", "block", "&#20445;&#26412;"),
]


@pytest.mark.parametrize(("text", "rule_id", "severity", "span"), EVASIONS)
def test_evasion_variants_still_hit(text, rule_id, severity, span):
    assert (rule_id, severity, span) in _hits(check_text(text), text)


@pytest.mark.parametrize(
    ("text", "product", "rule_id"),
    [
        ("全市最佳理财", None, "AD-01"),
        ("收益最高的产品", None, "AD-03"),
        ("年化收益率最高", None, "AD-03"),
        ("本行担保，放心买", "wealth", "INV-01"),
        ("低风险高收益", "fund", "INV-02"),
        ("预期年化收益率4.5%", "wealth", "INV-03"),
        ("指数有望突破3500点，赶紧上车", "fund", "INV-04"),
        ("零门槛，秒到账", None, "INV-08"),
        ("黄金一定会涨", "gold", "GLD-01"),
        ("金价必涨", "gold", "GLD-01"),
        ("人民币必贬，换汇稳赚", "fx", "FX-01"),
        ("有问题加我私人微信", None, "CH-02"),
        ("扫个人收款码付款", "general", "CH-02"),
        ("结构性存款保本保收益", "deposit", "INV-01"),
    ],
)
def test_forbidden_wording_blocks(text, product, rule_id):
    assert rule_id in {f.rule_id for f in blocking(check_text(text, product))}


def test_neg_guard_and_promise_shaped_negations():
    assert check_text("本产品不保本，不保证收益。", "wealth", kinds={"forbid"}) == []
    text = "本产品不保本，但保证不亏！"
    assert _hits(check_text(text, "wealth", kinds={"forbid"}), text) == [
        ("INV-01", "block", "保证不亏")]
    # NEG context does not reach across a sentence end
    text = "严禁误导。保本保息"
    assert ("INV-01", "block", "保本") in _hits(check_text(text), text)


def test_edu_guard_needs_quotes_and_warning_words():
    assert check_text("警惕“稳赚不赔”的宣传。", kinds={"forbid"}) == []
    assert {f.rule_id for f in check_text("警惕！稳赚不赔的产品来了。")} >= {"INV-01"}
    assert {f.rule_id for f in check_text("客户都说“稳赚不赔”。")} >= {"INV-01"}


def test_skips_and_whitelist():
    assert check_text("风险等级：R1低风险产品", kinds={"forbid"}) == []
    assert [f.rule_id for f in check_text("这是一款低风险产品", kinds={"forbid"})] == ["INV-08"]
    assert [f.rule_id for f in check_text("预期收益率5%", "fund", kinds={"forbid"})] == ["INV-03"]
    text = "最低申购金额1元，最受欢迎"
    assert _hits(check_text(text, kinds={"forbid"}), text) == [("AD-01", "warn", "最受")]
    assert _hits(check_text("最佳选择", kinds={"forbid"}), "最佳选择") == [
        ("AD-01", "block", "最佳")]


def test_ad02_rank_claim_passes_with_source_and_date():
    assert [f.rule_id for f in check_text("同类排名第一")] == ["AD-02"]
    scoped = "2024年度同类排名第一（数据来源：银河证券，截至2024-12-31）"
    assert check_text(scoped, kinds={"forbid"}) == []


def test_required_statements_for_wealth():
    text = "稳健理财，风险等级PR2。"
    findings = check_text(text, "wealth")
    assert {f.rule_id for f in blocking(findings)} == {"INV-09", "WM-01"}
    assert all(f.start == f.end == len(text) for f in findings)
    ok = "稳健理财，风险等级PR2。理财非存款，产品有风险，投资须谨慎。"
    assert check_text(ok, "wealth") == []
    spaced = "稳健理财，风险等级PR2。理财 非存款 产品有风险 投资须谨慎"
    assert check_text(spaced, "wealth") == []


def test_fund_performance_requires_statement_source_and_date():
    text = "本基金近一年收益率12.5%，业绩比较基准收益率8.1%。投资有风险。"
    findings = check_text(text, "fund")
    assert {f.rule_id for f in findings} == {"FD-01", "DATA-01", "FD-09"}
    fd01 = next(f for f in findings if f.rule_id == "FD-01")
    assert text[fd01.start:fd01.end] == "收益率12.5%"
    full = (text + "数据来源：基金定期报告，截至2025-03-31。基金的过往业绩并不预示其未来表现，"
            "基金管理人管理的其他基金的业绩并不构成基金业绩表现的保证。"
            "基金管理人不保证基金一定盈利，也不保证最低收益。")
    assert check_text(full, "fund") == []


def test_market_figures_warn_without_source():
    text = "今日金价上涨1.2%。"
    assert [(f.rule_id, f.severity) for f in check_text(text)] == [("DATA-01", Severity.warn)]
    assert check_text(text + "数据来源：上海黄金交易所，截至2025-04-25。") == []


def test_product_scoping():
    # unknown product: every forbidding rule, no product-specific disclaimers
    assert [f.rule_id for f in check_text("黄金必涨")] == ["GLD-01", "INV-04"]
    assert check_text("稳健理财", None) == []
    # loan template: gold rule does not apply
    assert check_text("黄金必涨", "loan") == []
    # general commentary skips rules marked in_general = false
    assert check_text("近一周上涨3%，数据来源：Wind，截至2025-04-25", "general") == []
    assert [f.rule_id for f in check_text("近一周上涨3%，数据来源：Wind，截至2025-04-25")] == [
        "DATA-03"]
    # severity_by_product: pressure selling blocks only for funds
    assert [f.severity for f in check_text("额度告急，欲购从速", "fund", kinds={"forbid"})] == [
        Severity.block, Severity.block]
    assert [f.severity for f in check_text("额度告急，欲购从速", "wealth", kinds={"forbid"})] == [
        Severity.warn, Severity.warn]
    assert check_text("保本", ProductCategory.fund)[0].rule_id == "INV-01"


def test_bad_arguments():
    with pytest.raises(ValueError, match="product"):
        check_text("x", "stocks")
    with pytest.raises(ValueError, match="kinds"):
        check_text("x", kinds={"ban"})


def test_findings_are_sorted_unique_and_deterministic():
    text = "保本保本！稳赚不赔、穩賺不賠，bao本，最佳、最佳。" * 3
    first = check_text(text, "wealth")
    assert first == check_text(text, "wealth")
    assert len(first) == len(set(first))
    assert [f.start for f in first] == sorted(f.start for f in first)
    keys = [(f.rule_id, f.start, f.end) for f in first]
    assert len(keys) == len(set(keys))
    assert all(isinstance(f, Finding) and f.message and f.citation for f in first)


def test_blocking_filters_block_severity():
    findings = check_text("最受欢迎的保本理财")
    assert {f.severity for f in findings} == {Severity.block, Severity.warn}
    assert blocking(findings) == [f for f in findings if f.severity is Severity.block]
    assert all(f.is_blocking for f in blocking(findings))


def test_rules_file_is_complete():
    rules = load_rules().rules
    ids = {r.id for r in rules}
    assert {"AD-01", "AD-03", "INV-01", "INV-02", "INV-03", "INV-04", "INV-08", "INV-09",
            "WM-01", "FD-01", "DATA-01", "GLD-01", "FX-01", "CH-02"} <= ids
    assert PRODUCTS == {p.value for p in ProductCategory}
    for rule in rules:
        assert rule.products <= PRODUCTS | {"all"}, rule.id
        assert rule.citation and len(rule.citation) <= 255, rule.id
        assert rule.message and len(rule.message) <= 255, rule.id
        assert (rule.pattern is not None) == (rule.kind == "forbid"), rule.id
        assert (rule.when is not None) == (rule.kind == "require_when"), rule.id


@pytest.mark.parametrize("bad", [
    "severity='block'\nproducts=['stocks']",
    "severity='info'\nproducts=['fund']",
    "severity='warn'\nproducts=['fund']\nseverity_by_product={fund='fatal'}",
], ids=["product", "severity", "severity_by_product"])
def test_invalid_rules_file_is_rejected(tmp_path, bad):
    path = tmp_path / "rules.toml"
    path.write_text(
        "[guards]\nneg='不'\nneg_window=12\npromise='x'\nedu='谨防'\nquotes='“[^”]*”'\n"
        f"[[rules]]\nid='X-1'\nkind='forbid'\n{bad}\n"
        "message='m'\ncitation='c'\npattern='x'\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="X-1"):
        load_rules(path)


def test_first_char_prefilter_does_not_change_matches():
    corpus = [s for s, _ in SHOULD_PASS] + [t for t, *_ in EVASIONS] + [
        "本产品保本保息，稳赚不赔！年化收益最高可达6%，欲购从速。黄金必涨，现在上车。",
        "零风险高收益，加我私人微信。100%兑付，从未亏损。国家担保，专家推荐，远超同行。",
        "结构性存款保本；存款保险全额保障；免息秒批不看征信；外汇保证金；同类排名第一。",
    ]
    gated = 0
    for rule in load_rules().rules:
        for compiled in filter(None, [rule.pattern, rule.when, rule.skip, rule.allow]):
            source = compiled.pattern
            if not source.startswith("(?=["):
                continue
            gated += 1
            plain = re.compile(source[source.index("])(?:") + 5:-1], compiled.flags)
            for text in corpus:
                norm = normalize(text)
                for view in (norm.text, norm.compact):
                    assert ([m.span() for m in compiled.finditer(view)]
                            == [m.span() for m in plain.finditer(view)]), (rule.id, view)
    assert gated > 30


def test_long_text_findings_scale_with_repetitions():
    unit = "今日指数涨幅0.74%。最佳选择，保本保息！\n"
    one = check_text(unit, "fund", kinds={"forbid"})
    many = check_text(unit * 200, "fund", kinds={"forbid"})
    assert len(one) == 3 and len(many) == 600
    assert [(f.rule_id, f.start % len(unit), f.end % len(unit)) for f in many[:3]] == [
        (f.rule_id, f.start, f.end) for f in one]


def test_gate_finder_gives_the_patterns_own_matches():
    from app.compliance import regex_gate

    corpus = [s for s, _ in SHOULD_PASS] + [t for t, *_ in EVASIONS] + [
        "本产品最低起购金额1元，最佳选择；追求稳定收益，相对稳定。最高偿付限额50万元，最",
        "“保本高收益”是违规话术，谨防诈骗。\n数据来源：Wind，截至2025年4月25日。",
    ]
    finders = 0
    for rule in load_rules().rules:
        for compiled in filter(None, [rule.pattern, rule.when, rule.skip, rule.allow,
                                      rule.skip_before]):
            finders += regex_gate._finder(compiled) is not None
            for text in corpus:
                view = normalize(text).compact
                for lo, hi in ((0, len(view)), (3, len(view) - 2), (5, 9)):
                    assert ([m.span() for m in regex_gate.finditer(compiled, view, lo, hi)]
                            == [m.span() for m in compiled.finditer(view, lo, hi)]), rule.id
                    got, want = (regex_gate.search(compiled, view, lo, hi),
                                 compiled.search(view, lo, hi))
                    assert (got and got.span()) == (want and want.span()), rule.id
    assert finders > 30
    assert regex_gate._finder(re.compile("(?=[a])(?:a*)")) is None  # not gated(): may be empty
