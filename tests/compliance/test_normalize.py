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


COMPACT_CORPUS = [
    "稳.赚 不/赔，收益1.45%。保\n本\n\n保 证", "保 \n 本", "保\n \n本", "a , b", "1. 5", "1.5",
    "收益 5 % 起", "保（本）", "本息\t\n\t保障", "‰ 保", "——稳赚——", "保\u3000本", "保。 本",
    "A股 , H股", "\n保本\n", "本 金𠀀安 全", " 保本 ", "1 .2", "x.\n.y",
]


@pytest.mark.parametrize("text", COMPACT_CORPUS)
def test_fast_compaction_removes_the_same_runs_as_the_general_pattern(text):
    from app.compliance import normalize as module

    light = normalize(text).text
    general = module._REMOVABLE.split(light)
    assert module._split_pattern(light).split(light) == general
    if not module._has_astral(light):
        assert module._removable_bmp().split(light) == general
    kept = general[::2]
    norm = normalize(text)
    assert norm.compact == "".join(kept)
    for j in range(len(norm.compact)):  # every compact character maps to the same light one
        assert norm.text[norm.light_index(j)] == norm.compact[j]


@pytest.mark.parametrize("text", COMPACT_CORPUS)
def test_in_bare_answers_like_the_bare_text(text):
    norm = normalize(text)
    for phrase in ("保本", "稳赚不赔", "收益1.45%", "保证", "本金安全", "5%", "A股H股", "",
                   "保 本"):
        assert norm.in_bare(phrase) == (phrase in norm.bare), phrase


def test_sentence_bounds_stop_at_the_nearest_terminators():
    from app.compliance.guards import sentence_bounds

    text = "甲乙。丙丁！戊\n己;庚"
    stops = [i for i, ch in enumerate(text) if ch in "。!?;\n"]
    for a in range(len(text) + 1):
        for b in range(a, len(text) + 1):
            start = max([s + 1 for s in stops if s < a], default=0)
            end = min([s for s in stops if s >= b], default=len(text))
            assert sentence_bounds(text, a, b) == (start, end)
