"""Pinyin, mixed-script and homophone variants of risk terms (RULES.md section 2, evasion layer).

Works on the compact text of :class:`app.compliance.normalize.Normalized`. Every CJK character is
read by its first toneless reading in pypinyin's dictionary, accent-folded (zh/z, ch/c, sh/s,
-ng/-n merged), so 保本, bao本, baoben and 宝本 all read ``bao ben``. Each term becomes one
regex, built once: per syllable a class of every CJK character with that folded reading, or the
Latin spellings of that syllable; a Latin part may not continue a longer Latin word. The regex
runs in C over the compact text. One combined regex of all terms runs first, so a text where no
term can match costs one scan, not one per term.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from app.compliance.normalize import Normalized

_TONE_MARKS = re.compile(r"[\u0300-\u036f]")


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


def _cased(spelling: str) -> str:
    return "".join(f"[{c}{c.upper()}]" for c in spelling)


@cache
def _term_parts(term: str) -> tuple[str, str]:
    """``(first class, rest)``: the source of :func:`_term_regex` in two parts."""
    readings, syllables = _pinyin_table()
    options = []
    for ch in term:
        folded = readings[ch]
        chars = "".join(sorted(c for c, r in readings.items()
                               if r == folded and "\u3400" <= c <= "\u9fff"))
        spellings = sorted({s for s in syllables if _fold(s) == folded}, key=len, reverse=True)
        options.append((chars, spellings))
    chars, spellings = options[0]
    firsts = sorted({c for s in spellings for c in (s[0], s[0].upper())})
    latin = "|".join(f"(?<=[{s[0]}{s[0].upper()}]){_cased(s[1:])}" for s in spellings)
    head = f"(?<![A-Za-z]{{2}})(?:(?<=[{chars}])|{latin})"
    rest = "".join(f"(?:[{c}]|{'|'.join(_cased(s) for s in sp)})" for c, sp in options[1:])
    return f"[{chars}{''.join(firsts)}]", rf"{head}{rest}(?:(?![A-Za-z])|(?<=[^A-Za-z]))"


@cache
def _term_regex(term: str) -> re.Pattern:
    """The regex of every spelling of ``term``: CJK homophones, pinyin, mixed script.

    It starts with one character class (the first syllable's characters and the first
    letters of its spellings), so ``re`` scans for it in C; lookbehinds then tell which
    alternative that first character began. A Latin part may not extend a longer Latin word.
    """
    return re.compile("".join(_term_parts(term)))


@cache
def _any_term_regex(terms: tuple[str, ...]) -> re.Pattern:
    """A regex that matches where (and only where) the regex of one of ``terms`` matches.

    One class of every term's first characters, scanned in C once, then each term's rest
    behind a lookbehind of its own first class: one pass instead of one per term.
    """
    parts = [_term_parts(term) for term in terms]
    firsts = sorted(set("".join(first[1:-1] for first, _ in parts)))
    rests = "|".join(f"(?<={first}){rest}" for first, rest in parts)
    return re.compile(f"[{''.join(firsts)}](?:{rests})")


def pinyin_hits(norm: Normalized, terms: tuple[str, ...]) -> list[tuple[int, int, str, bool]]:
    """Risk terms written in pinyin, mixed script or homophones, found in the compact text.

    A pure-CJK homophone counts only when it shares at least one character with the term at the
    same position; the literal term itself is left to the regular rules.

    :param norm: normalized text.
    :param terms: risk terms in simplified Chinese, e.g. ``("保本", "刚兑")``.
    :returns: ``(compact_start, compact_end, term, has_latin)`` tuples in text order.
    """
    hits: list[tuple[int, int, str, bool]] = []
    if not terms or _any_term_regex(terms).search(norm.compact) is None:
        return hits
    for term in terms:
        for m in _term_regex(term).finditer(norm.compact):
            found = m.group()
            has_latin = any(ch.isascii() for ch in found)
            if found == term or (not has_latin and not any(map(str.__eq__, found, term))):
                continue
            hits.append((m.start(), m.end(), term, has_latin))
    return sorted(hits)
