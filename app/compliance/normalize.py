"""Text normalization for the compliance checker, with an offset map back to the original.

Pipeline (RULES.md section 2), each step keeping, for every output character, the span of
original characters it came from:

1. HTML-entity decode (``&#20445;`` → 保), twice to undo double encoding.
2. NFKC per character (full width → ASCII, Kangxi radicals → CJK, ① → 1), then drop Unicode
   ``Cf`` characters (zero-width, BOM, bidi controls), emoji (Extended_Pictographic ranges),
   variation selectors and the keycap mark; dingbat circled digits ❶ become digits; homoglyphs
   夲→本, 〇→零, Cyrillic/Greek look-alikes → Latin (one cached table, applied before t2s, which
   is equivalent: none of these characters is touched by t2s).
3. Traditional → simplified with OpenCC ``t2s`` (phrase-aware; its dictionaries are length
   preserving, a length change falls back to character-by-character conversion).
4. Letter O inside digit runs → 0 (1OO% → 100%).
5. Number words and split characters: 百分百/百分之百 → 100%, 壹佰%/一百% → 100%, 亻呆 → 保 ….

The result is the *light* text (separators kept; used for NEG/EDU context, sentences, quotes,
required statements and performance triggers). The *compact* text then removes separator runs
(spaces, punctuation, symbols, single line breaks) between word characters, except runs that
hold a sentence terminator (``。!?;``), a blank line, or a decimal point between digits.

The pinyin / homophone layer that runs on the compact text is :mod:`app.compliance.pinyin_layer`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import opencc as opencc_pkg
from opencc import OpenCC

#: Cap on cached characters per ``str.translate`` table (memory bound).
TRANSLATE_TABLE_LIMIT = 60_000
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?")
_EMOJI_RANGES = (
    (0x1F000, 0x1FAFF), (0x2600, 0x2775), (0x2794, 0x27BF), (0x2300, 0x23FF),
    (0x2B00, 0x2BFF), (0xFE00, 0xFE0F), (0xE0100, 0xE01EF),
)
_EMOJI_SINGLES = frozenset("\u20e3\u3030\u303d\u3297\u3299\u00a9\u00ae\u203c\u2049")
_DINGBAT_DIGITS = {
    **{0x2776 + i: str(i + 1) for i in range(10)},
    **{0x2780 + i: str(i + 1) for i in range(10)},
    **{0x278A + i: str(i + 1) for i in range(10)},
}
_HOMOGLYPHS = str.maketrans({
    "夲": "本", "〇": "零",
    # Cyrillic look-alikes
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M",
    "О": "O", "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y", "а": "a", "с": "c", "е": "e",
    "і": "i", "ј": "j", "о": "o", "р": "p", "ѕ": "s", "у": "y", "х": "x", "ԁ": "d", "ԛ": "q",
    "ԝ": "w",
    # Greek look-alikes
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o",
})
_DIGIT_RUN_WITH_O = re.compile(r"(?<![A-Za-z0-9])(?=[0-9Oo]*[Oo])(?=[0-9Oo]*[0-9])[0-9Oo]+"
                               r"(?![A-Za-z0-9])")
_WORD_SUBS = {"百分之百": "100%", "百分百": "100%", "壹佰%": "100%", "一百%": "100%",
              "亻呆": "保", "禾急": "稳", "贝兼": "赚", "贝咅": "赔", "冈刂": "刚"}
_WORD_SUB_RE = re.compile("|".join(sorted(map(re.escape, _WORD_SUBS), key=len, reverse=True)))


def _word_sub(m: re.Match) -> str:
    return _WORD_SUBS[m.group()]


_SEP_RUN = re.compile(r"(?:[^\w%‰]|_)+")
_SEP = r"(?:[^\w%‰。!?;\n]|_)"
# A separator run between word characters with no sentence terminator, at most one line break,
# and not a lone decimal point between digits.
_REMOVABLE = re.compile(rf"(?<=[^\W_]|[%‰])(?!(?<=\d)\.\d)(?:{_SEP}+(?:\n{_SEP}*)?|\n{_SEP}*)"
                        r"(?=[^\W_]|[%‰])")
TERMINATORS = re.compile(r"[。!?;\n]")


@dataclass(slots=True)
class Normalized:
    """Light and compact normalized text with maps back to the original.

    ``starts[i]``/``ends[i]``: original span of light character ``i``;
    ``compact_index[j]``: light index of compact character ``j``.
    """

    original: str
    text: str
    starts: list[int]
    ends: list[int]
    compact: str
    _index: list[int] | None = field(default=None, repr=False)
    _bare: str | None = field(default=None, repr=False)

    @property
    def compact_index(self) -> list[int]:
        """Light index of every compact character (computed on first use)."""
        if self._index is None:
            index, pos = [], 0
            for m in _REMOVABLE.finditer(self.text):
                index.extend(range(pos, m.start()))
                pos = m.end()
            index.extend(range(pos, len(self.text)))
            self._index = index
        return self._index

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``(start, end)`` of the light span ``[start, end)`` (end exclusive)."""
        if end <= start:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return pos, pos
        return self.starts[start], self.ends[end - 1]

    def light_span(self, start: int, end: int) -> tuple[int, int]:
        """Light ``(start, end)`` of the compact span ``[start, end)``."""
        return self.compact_index[start], self.compact_index[end - 1] + 1

    @property
    def bare(self) -> str:
        """Light text without any separator (for punctuation-insensitive statements)."""
        if self._bare is None:
            self._bare = _SEP_RUN.sub("", self.text)
        return self._bare


def _is_dropped(ch: str) -> bool:
    cp = ord(ch)
    if ch in _EMOJI_SINGLES or unicodedata.category(ch) == "Cf":
        return True
    return any(lo <= cp <= hi for lo, hi in _EMOJI_RANGES)


def _char_map(ch: str) -> str:
    """NFKC + homoglyph map of one character ('' when dropped: Cf, emoji, selectors)."""
    if ord(ch) in _DINGBAT_DIGITS:
        return _DINGBAT_DIGITS[ord(ch)]
    kept = "".join(c for c in unicodedata.normalize("NFKC", ch) if not _is_dropped(c))
    return kept.translate(_HOMOGLYPHS)


class _CharTable(dict):
    """``str.translate`` table filled on demand; remembers characters whose map is not 1:1."""

    def __init__(self) -> None:
        super().__init__()
        self.irregular: set[str] = set()

    def __missing__(self, code: int) -> str:
        out = _char_map(chr(code))
        if len(out) != 1:
            self.irregular.add(chr(code))
        if len(self) < TRANSLATE_TABLE_LIMIT or len(out) != 1:
            self[code] = out
        return out


_CHAR_TABLE = _CharTable()


def _substitute(text, starts, ends, pattern, repl):
    """Replace every ``pattern`` match by ``repl(match)``, mapping new chars to the match span."""
    out, out_s, out_e, pos = [], [], [], 0
    for m in pattern.finditer(text):
        a, b = m.span()
        new = repl(m)
        if new == m.group():
            continue
        out.append(text[pos:a])
        out_s.extend(starts[pos:a])
        out_e.extend(ends[pos:a])
        out.append(new)
        out_s.extend([starts[a]] * len(new))
        out_e.extend([ends[b - 1]] * len(new))
        pos = b
    if pos == 0:
        return text, starts, ends
    out.append(text[pos:])
    out_s.extend(starts[pos:])
    out_e.extend(ends[pos:])
    return "".join(out), out_s, out_e


def _map_chars(text, starts, ends):
    """Apply :func:`_char_map` to every character (NFKC, drops, dingbat digits)."""
    mapped = text.translate(_CHAR_TABLE)
    if _CHAR_TABLE.irregular.isdisjoint(text):
        return mapped, starts, ends
    out_s, out_e = [], []
    for i, ch in enumerate(text):
        n = len(_CHAR_TABLE[ord(ch)])
        out_s.extend([starts[i]] * n)
        out_e.extend([ends[i]] * n)
    return mapped, out_s, out_e


@cache
def _opencc():
    converter = OpenCC("t2s")
    table = Path(opencc_pkg.__file__).with_name("dictionary") / "TSCharacters.txt"
    traditional = set()
    for line in table.read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        if values.split(" ")[0] != key:
            traditional.add(key)
    return converter, frozenset(traditional)


@cache
def _t2s_char(ch: str) -> str:
    out = _opencc()[0].convert(ch)
    return out if len(out) == 1 else ch


def to_simplified(text: str) -> str:
    """Traditional → simplified, same length as ``text`` (OpenCC ``t2s``).

    :param text: any text.
    :returns: converted text; one output character per input character.
    """
    converter, traditional = _opencc()
    if traditional.isdisjoint(text):
        return text
    out = converter.convert(text)
    if len(out) != len(text):
        out = "".join(_t2s_char(ch) for ch in text)
    return out


def normalize(text: str) -> Normalized:
    """Normalize ``text`` for rule matching (see module docstring for the steps).

    :param text: original text (a template body or a rendered post).
    :returns: :class:`Normalized` with light and compact text and offset maps into ``text``.
    """
    starts, ends = list(range(len(text))), list(range(1, len(text) + 1))
    s = text
    for _ in range(2):
        if "&" not in s:
            break
        s, starts, ends = _substitute(s, starts, ends, _ENTITY, lambda m: html.unescape(m.group()))
    if not s.isascii():
        s, starts, ends = _map_chars(s, starts, ends)
        s = to_simplified(s)
        s, starts, ends = _substitute(s, starts, ends, _WORD_SUB_RE, _word_sub)
    if "O" in s or "o" in s:
        s, starts, ends = _substitute(
            s, starts, ends, _DIGIT_RUN_WITH_O,
            lambda m: m.group().replace("O", "0").replace("o", "0"),
        )
    return Normalized(text, s, starts, ends, _REMOVABLE.sub("", s))
