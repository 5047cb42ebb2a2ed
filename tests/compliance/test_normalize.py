import pytest

from app.compliance.normalize import normalize, to_simplified
from app.compliance.pinyin_layer import pinyin_hits


def _orig(norm, light_start, light_end):
    start, end = norm.original_span(light_start, light_end)
    return norm.original[start:end]


@pytest.mark.parametrize(
    ("raw", "light"),
    [
        ("１００％保本", "100%保本"),
        ("ＮＯ．１", "NO.1"),
        ("穩賺不賠", "稳赚不赔"),
        ("保夲", "保本"),
        ("第⼀", "第一"),
        ("NО.1", "NO.1"),  # Cyrillic O
        ("1OO%", "100%"),
        ("保💰本", "保本"),
        ("📈只涨不跌", "只涨不跌"),
        ("保\u200b本", "保本"),
        ("\ufeff无风险", "无风险"),
        ("〇风险", "零风险"),
        ("百分之百", "100%"),
        ("壹佰%", "100%"),
        ("第①", "第1"),
        ("第❶", "第1"),
        ("亻呆本", "保本"),
        ("&#20445;&amp;#26412;", "保本"),
    ],
)
def test_light_normalization(raw, light):
    assert normalize(raw).text == light


def test_offsets_follow_expansions_and_deletions():
    raw = "A&lt;百分百💰保\u200b本½X"
    norm = normalize(raw)
    assert norm.text == "A<100%保本1⁄2X"
    assert _orig(norm, 1, 2) == "&lt;"
    assert _orig(norm, 2, 6) == "百分百"
    assert _orig(norm, 6, 8) == "保\u200b本"
    assert _orig(norm, 8, 11) == "½"
    assert _orig(norm, 11, 12) == "X"
    assert len(norm.starts) == len(norm.ends) == len(norm.text)


def test_compact_strips_separators_inside_runs_only():
    norm = normalize("稳.赚 不/赔，收益1.45%。保\n本\n\n保 证")
    assert norm.compact == "稳赚不赔收益1.45%。保本\n\n保证"
    start, end = norm.light_span(norm.compact.index("保本"), norm.compact.index("保本") + 2)
    assert norm.original[slice(*norm.original_span(start, end))] == "保\n本"


def test_traditional_conversion_keeps_length():
    text = "乾隆年間頭髮著作，於是瞭解穩賺不賠"
    assert len(to_simplified(text)) == len(text)
    assert to_simplified("保證收益") == "保证收益"
    assert to_simplified("纯简体文本") == "纯简体文本"


@pytest.mark.parametrize(
    ("text", "term", "latin"),
    [("bao本", "保本", True), ("保ben", "保本", True), ("wen赚不赔", "稳赚不赔", True),
     ("baoben", "保本", True), ("BAO BEN", "保本", True), ("饱本", "保本", False),
     ("稳钻不赔", "稳赚不赔", False), ("刚对", "刚兑", False), ("wufengxian", "无风险", True)],
)
def test_pinyin_layer_finds_variants(text, term, latin):
    hits = pinyin_hits(normalize(text), ("保本", "稳赚不赔", "刚兑", "无风险"))
    assert [(h[2], h[3]) for h in hits] == [(term, latin)]


@pytest.mark.parametrize("text", ["保本", "干对了", "benefit保", "宝贝本来就好", "PR2风险"])
def test_pinyin_layer_ignores_literals_and_unrelated_text(text):
    assert pinyin_hits(normalize(text), ("保本", "稳赚不赔", "刚兑", "无风险")) == []
