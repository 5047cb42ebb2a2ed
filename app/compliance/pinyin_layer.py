"""Pinyin, mixed-script and homophone variants of risk terms (RULES.md section 2, evasion layer).

Works on the compact text of :class:`app.compliance.normalize.Normalized`. Every CJK character is
read by its first toneless reading in pypinyin's dictionary, and Latin letter runs are split into
pinyin syllables; both are accent-folded (zh/z, ch/c, sh/s, -ng/-n merged), so 保本, bao本,
baoben and 宝本 all read ``bao ben``. Only runs that can hold a wanted syllable are tokenized:
a cached ``str.translate`` table marks candidate characters first.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from app.compliance.normalize import TRANSLATE_TABLE_LIMIT, Normalized

_TOKEN = re.compile(r"[A-Za-z]+|[\u3400-\u4dbf\u4e00-\u9fff]")
_TONE_MARKS = re.compile(r"[\u0300-\u036f]")
_RUN = re.compile(r"[A-Za-z\x01]{2,}")
_MAX_SYLLABLE_LETTERS = 6


def _fold(syllable: str) -> str:
    """Accent-fold a toneless syllable: zh/ch/sh → z/c/s, final -ng → -n."""
    if syllable[:2] in ("zh", "ch", "sh"):
        syllable = syllable[0] + syllable[2:]
    return syllable[:-1] if syllable.endswith("ng") else syllable


@cache
def _pinyin_table() -> tuple[dict[str, str], frozenset[str]]:
    """Folded first reading of every CJK character in pypinyin, and every toneless syllable."""
    from pypinyin.pinyin_dict import pinyin_dict  # lazy: importing pypinyin costs ~0.4 s

    readings, syllables = {}, set()
    for code, value in pinyin_dict.items():
        plain = [_TONE_MARKS.sub("", unicodedata.normalize("NFD", r)).replace("ü", "v")
                 for r in value.split(",")]
        readings[chr(code)] = _fold(plain[0])
        syllables.update(p for p in plain if p.isascii() and p.isalpha())
    return readings, frozenset(syllables)


class _Marks(dict):
    """Translate table marking (U+0001) CJK characters read as a wanted syllable.

    Unmarked characters are cached as themselves on first sight, so ``str.translate`` never
    pays for a failed lookup twice.
    """

    def __missing__(self, code: int) -> str:
        if len(self) < TRANSLATE_TABLE_LIMIT:
            self[code] = chr(code)
        return chr(code)


@cache
def _candidate_table(wanted: frozenset[str]) -> _Marks:
    marks = _Marks()
    marks.update((ord(ch), "\x01") for ch, syl in _pinyin_table()[0].items() if syl in wanted)
    return marks


def _segment(run: str) -> list[tuple[int, int]] | None:
    """Split a Latin letter run into pinyin syllables (longest first), or ``None``."""
    syllables, run = _pinyin_table()[1], run.lower()
    best: list[list[tuple[int, int]] | None] = [None] * (len(run) + 1)
    best[len(run)] = []
    for i in range(len(run) - 1, -1, -1):
        for j in range(min(len(run), i + _MAX_SYLLABLE_LETTERS), i, -1):
            if run[i:j] in syllables and best[j] is not None:
                best[i] = [(i, j), *best[j]]
                break
    return best[0]


def _tokens(run: str, offset: int, wanted: frozenset[str]):
    """Folded syllables of a candidate run (``#`` for anything else) and their compact spans."""
    readings, tokens, spans = _pinyin_table()[0], [], []
    for m in _TOKEN.finditer(run):
        word = m.group()
        parts = _segment(word) if word.isascii() else [(0, 1)]
        if parts is None:
            tokens.append("#")
            spans.append((offset + m.start(), offset + m.end()))
            continue
        for a, b in parts:
            syl = _fold(word[a:b].lower()) if word.isascii() else readings.get(word, "#")
            tokens.append(syl if syl in wanted else "#")
            spans.append((offset + m.start() + a, offset + m.start() + b))
    return tokens, spans


def _term_hits(compact: str, tokens: list[str], spans: list[tuple[int, int]], term: str,
               syls: list[str]) -> list[tuple[int, int, str, bool]]:
    """Variant spellings of ``term`` (syllables ``syls``) among a run's tokens."""
    hits, n = [], len(syls)
    for i in range(len(tokens) - n + 1):
        if tokens[i:i + n] != syls:
            continue
        a, b = spans[i][0], spans[i + n - 1][1]
        found = compact[a:b]
        has_latin = any(ch.isascii() for ch in found)
        if found == term or (not has_latin and not any(map(str.__eq__, found, term))):
            continue
        hits.append((a, b, term, has_latin))
    return hits


def pinyin_hits(norm: Normalized, terms: tuple[str, ...]) -> list[tuple[int, int, str, bool]]:
    """Risk terms written in pinyin, mixed script or homophones, found in the compact text.

    Syllables are toneless first readings from pypinyin's dictionary, accent-folded. A pure-CJK
    homophone counts only when it shares at least one character with the term at the same
    position; the literal term itself is left to the regular rules.

    :param norm: normalized text.
    :param terms: risk terms in simplified Chinese, e.g. ``("保本", "刚兑")``.
    :returns: ``(compact_start, compact_end, term, has_latin)`` tuples in text order.
    """
    readings = _pinyin_table()[0]
    keys = {term: [readings[ch] for ch in term] for term in terms}
    wanted = frozenset(s for syls in keys.values() for s in syls)
    hits = []
    marked = norm.compact.translate(_candidate_table(wanted))
    for run in _RUN.finditer(marked):
        tokens, spans = _tokens(norm.compact[run.start():run.end()], run.start(), wanted)
        for term, syls in keys.items():
            hits.extend(_term_hits(norm.compact, tokens, spans, term, syls))
    return sorted(hits)
