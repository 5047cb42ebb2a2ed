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
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate
from pathlib import Path

import opencc as opencc_pkg
from opencc import OpenCC

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
# Cheap test (a run needs a digit next to an O); it starts with a class, which re scans in C.
_DIGIT_NEXT_TO_O = re.compile(r"[Oo](?:(?<=[0-9][Oo])|(?=[0-9]))")
_DIGIT_RUN_WITH_O = re.compile(r"(?<![A-Za-z0-9])(?=[0-9Oo]*[Oo])(?=[0-9Oo]*[0-9])[0-9Oo]+"
                               r"(?![A-Za-z0-9])")
_WORD_SUBS = {"百分之百": "100%", "百分百": "100%", "壹佰%": "100%", "一百%": "100%",
              "亻呆": "保", "禾急": "稳", "贝兼": "赚", "贝咅": "赔", "冈刂": "刚"}
_WORD_SUB_RE = re.compile("|".join(sorted(map(re.escape, _WORD_SUBS), key=len, reverse=True)))


def _word_sub(m: re.Match) -> str:
    return _WORD_SUBS[m.group()]


# Separator runs (anything but word characters, % and ‰; "_" too), written to start with a
# plain class so that re scans for it in C.
_SEP_RUN = re.compile(r"[\W_](?<![%‰])(?:[\W_](?<![%‰]))*")
_SEP = r"(?:[^\w%‰。!?;\n]|_)"
# A separator run between word characters with no sentence terminator, at most one line break,
# and not a lone decimal point between digits; one group, so that ``split`` keeps the runs.
_REMOVABLE = re.compile(rf"(?<=[^\W_]|[%‰])(?!(?<=\d)\.\d)((?:{_SEP}+(?:\n{_SEP}*)?|\n{_SEP}*))"
                        r"(?=[^\W_]|[%‰])")
# The same runs, found faster: the match starts with one separator character (a class, which
# ``re`` scans for in C) and lookbehinds check what the run follows. Runs that start with "_"
# are left to _REMOVABLE (a text with "_" uses it).
_REMOVABLE_FAST = re.compile(
    rf"([^\w%‰。!?;](?<=(?:[^\W_]|[%‰])[^\w%‰。!?;])(?!(?<=\d\.)\d)"
    rf"(?:(?<=\n){_SEP}*|(?<!\n){_SEP}*(?:\n{_SEP}*)?))(?=[^\W_]|[%‰])")
_SEPARATOR_CLASS = "[^\\w%‰。!?;]"  # the first character of a _REMOVABLE_FAST run
TERMINATORS = re.compile(r"[。!?;\n]")


def _has_astral(text: str) -> bool:
    """Whether ``text`` has a character outside the BMP (UTF-16 needs a surrogate pair).

    Encoding to UTF-16 is a copy for a BMP text (about 1 us for 2,000 characters, a
    quarter of a regex scan); a lone surrogate counts as BMP, as in a ``[...]`` class.
    """
    return len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)


@dataclass(slots=True)
class Normalized:
    """Light and compact normalized text with maps back to the original.

    ``starts[i]``/``ends[i]``: original span of light character ``i`` (``range`` objects while
    no step changed the length, so an unchanged text builds no per-character list); the compact
    text is
    the light text's segments ``[light_starts[k], …)`` laid end to end, segment ``k`` starting
    at compact offset ``compact_starts[k]``.
    """

    original: str
    text: str
    starts: Sequence[int]
    ends: Sequence[int]
    compact: str
    compact_starts: list[int] = field(default_factory=lambda: [0], repr=False)
    light_starts: list[int] = field(default_factory=lambda: [0], repr=False)
    _bare: str | None = field(default=None, repr=False)

    def light_index(self, j: int) -> int:
        """Light index of compact character ``j``."""
        k = bisect_right(self.compact_starts, j) - 1
        return self.light_starts[k] + j - self.compact_starts[k]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``(start, end)`` of the light span ``[start, end)`` (end exclusive)."""
        if end <= start:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return pos, pos
        return self.starts[start], self.ends[end - 1]

    def light_span(self, start: int, end: int) -> tuple[int, int]:
        """Light ``(start, end)`` of the compact span ``[start, end)``."""
        return self.light_index(start), self.light_index(end - 1) + 1

    @property
    def bare(self) -> str:
        """Light text without any separator (for punctuation-insensitive statements).

        Taken from the compact text, which is the light text with some separators already
        removed, so fewer runs are left to remove.
        """
        if self._bare is None:
            self._bare = _SEP_RUN.sub("", self.compact)
        return self._bare

    def in_bare(self, phrase: str) -> bool:
        """``phrase in self.bare``, answered without building :attr:`bare`.

        :param phrase: a bare text (e.g. a rule's statement, stored bare).
        :returns: whether it occurs in :attr:`bare`: its characters in the compact text
            with only separators between them (one regex that starts with a literal).
        """
        if _SEP_RUN.search(phrase):
            return False  # bare text has no separator
        return _bare_phrase(phrase).search(self.compact) is not None


@cache
def _bare_phrase(phrase: str) -> re.Pattern:
    """``phrase`` with any separators (what :attr:`Normalized.bare` drops) between its chars."""
    return re.compile(r"(?:[^\w%‰]|_)*".join(map(re.escape, phrase)))


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


#: Code points outside the BMP whose map can differ (math letters, emoji, compatibility
#: ideographs, tags and variation selectors); every other one maps to itself.
_ASTRAL_RANGES = ((0x1D400, 0x1D7FF), (0x1F000, 0x1FAFF), (0x2F800, 0x2FA1F),
                  (0xE0000, 0xE01EF))


def _ranges(codes: list[int]) -> str:
    parts, i = [], 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        lo, hi = re.escape(chr(codes[i])), re.escape(chr(codes[j]))
        parts.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    return "".join(parts)


class CharClass:
    """A set of characters searched as a compiled ``[...]`` class, fast for any size.

    ``re`` compiles a class of BMP characters into a bitmap (one lookup per position); one
    astral member would turn it into a list scanned member by member, so astral members get a
    second pattern, used only for a text that has astral characters.
    """

    def __init__(self, chars) -> None:
        """Compile the class of ``chars`` (any iterable of single characters)."""
        codes = sorted(set(map(ord, chars)))
        bmp, astral = [c for c in codes if c <= 0xFFFF], [c for c in codes if c > 0xFFFF]
        self.bmp = re.compile(f"[{_ranges(bmp)}]" if bmp else "(?!)")
        self.both = re.compile("|".join(f"[{_ranges(p)}]" for p in (bmp, astral) if p)
                               ) if astral else self.bmp

    def _pattern(self, text: str) -> re.Pattern:
        return self.both if self.both is not self.bmp and _has_astral(text) else self.bmp

    def search(self, text: str) -> re.Match | None:
        """The first member in ``text`` or ``None``."""
        return self._pattern(text).search(text)

    def finditer(self, text: str):
        """Every member in ``text``, as matches in text order."""
        return self._pattern(text).finditer(text)

    def findall(self, text: str) -> list[str]:
        """Every member in ``text``, in text order (repeats included)."""
        return self._pattern(text).findall(text)


#: Changing characters that most Chinese texts have (full-width punctuation and space); each
#: maps to one character.
_COMMON = "，（）：；！？％\u3000"


@cache
def _char_tables() -> tuple[dict[str, str], CharClass, CharClass]:
    """``(map of every changing character, class of them, class of those changing length)``.

    Built once per process over the BMP and :data:`_ASTRAL_RANGES` (about 0.1 s), so that a
    text is mapped by one regex pass that stops only at the characters that change. No
    character of a mapped value is itself mapped (NFKC output is stable under NFKC, and the
    homoglyph targets are plain letters), so the changes can be applied one after the other.
    """
    table = {}
    codes = [range(0xD800), range(0xE000, 0x10000)]
    codes += [range(lo, hi + 1) for lo, hi in _ASTRAL_RANGES]
    for block in codes:
        for code in block:
            ch = chr(code)
            out = _char_map(ch)
            if out != ch:
                table[ch] = out
    if any(c in table for out in table.values() for c in out) or any(
            len(table.get(c, "")) != 1 for c in _COMMON):
        raise RuntimeError("a mapped character maps again, or a common one is not 1:1")
    return table, CharClass(table), CharClass(k for k, v in table.items() if len(v) != 1)


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
    """Apply :func:`_char_map` to every character (NFKC, drops, dingbat digits).

    A text has few distinct changing characters (full-width punctuation, mostly): those that
    map to one character are replaced by one ``str.replace`` each (in C; the offsets stay as
    they are; :data:`_COMMON` without looking first), then those that are dropped or expand
    (emoji, ½) are substituted with their offsets (:func:`_substitute`).
    """
    table, changing, resized = _char_tables()
    for ch in _COMMON:
        text = text.replace(ch, table[ch])
    if changing.search(text) is None:
        return text, starts, ends
    found = set(changing.findall(text))
    for ch in found:
        if len(table[ch]) == 1:
            text = text.replace(ch, table[ch])
    if any(len(table[ch]) != 1 for ch in found):
        return _substitute(text, starts, ends, resized, lambda m: table[m.group()])
    return text, starts, ends


@cache
def _opencc():
    converter = OpenCC("t2s")
    table = Path(opencc_pkg.__file__).with_name("dictionary") / "TSCharacters.txt"
    traditional = set()
    for line in table.read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        if values.split(" ")[0] != key:
            traditional.add(key)
    return converter, CharClass(traditional)


@cache
def _t2s_char(ch: str) -> str:
    out = _opencc()[0].convert(ch)
    return out if len(out) == 1 else ch


def to_simplified(text: str) -> str:
    """Traditional → simplified, same length as ``text`` (OpenCC ``t2s``).

    Only the neighbourhood of traditional characters (4 characters either side, so OpenCC's
    phrase table still sees the words) is converted.

    :param text: any text.
    :returns: converted text; one output character per input character.
    """
    converter, traditional = _opencc()
    windows: list[list[int]] = []
    for m in traditional.finditer(text):
        lo, hi = max(0, m.start() - 4), m.end() + 4
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = hi
        else:
            windows.append([lo, hi])
    if not windows:
        return text
    out, pos = [], 0
    for lo, hi in windows:
        part = text[lo:hi]
        converted = converter.convert(part)
        if len(converted) != len(part):
            converted = "".join(_t2s_char(ch) for ch in part)
        out += [text[pos:lo], converted]
        pos = hi
    out.append(text[pos:])
    return "".join(out)


def normalize(text: str) -> Normalized:
    """Normalize ``text`` for rule matching (see module docstring for the steps).

    :param text: original text (a template body or a rendered post).
    :returns: :class:`Normalized` with light and compact text and offset maps into ``text``.
    """
    starts: Sequence[int] = range(len(text))
    ends: Sequence[int] = range(1, len(text) + 1)
    s = text
    for _ in range(2):
        if "&" not in s:
            break
        s, starts, ends = _substitute(s, starts, ends, _ENTITY, lambda m: html.unescape(m.group()))
    if not s.isascii():
        s, starts, ends = _map_chars(s, starts, ends)
        s = to_simplified(s)
        s, starts, ends = _substitute(s, starts, ends, _WORD_SUB_RE, _word_sub)
    if _DIGIT_NEXT_TO_O.search(s):
        s, starts, ends = _substitute(
            s, starts, ends, _DIGIT_RUN_WITH_O,
            lambda m: m.group().replace("O", "0").replace("o", "0"),
        )
    return _compacted(Normalized(text, s, starts, ends, s))


@cache
def _removable_bmp() -> re.Pattern:
    r"""The removable runs of a text without "_" or astral characters, as a ``split`` pattern.

    ``_REMOVABLE_FAST`` with its classes spelled out over the BMP: ``re`` tests a spelled-out
    class in one bitmap step, where ``\w`` costs a Unicode lookup per character. Without
    "_" in the text, ``[^\W_]|[%‰]`` is ``[\w%‰]`` and ``_SEP`` one class; a run of
    separators can never be followed by the word character its lookahead needs, so the
    repeats are possessive. The runs found are the same (built once, about 20 ms).
    """
    bmp = "".join(map(chr, range(0x10000)))

    def spelled(source: str, chars: str = bmp) -> str:
        return f"[{_ranges(sorted(map(ord, re.findall(source, chars))))}]"

    # A run never starts at a lone surrogate here (as before), it may go on over one.
    first = spelled(_SEPARATOR_CLASS, bmp[:0xD800] + bmp[0xE000:])
    sep, word = spelled(r"[^\w%‰。!?;\n]"), spelled(r"[\w%‰]")
    return re.compile(rf"({first}(?<={word}.)(?!(?<=\d\.)\d)"
                      rf"(?:(?<=\n){sep}*+|(?<!\n){sep}*+(?:\n{sep}*+)?))(?={word})", re.DOTALL)


def _split_pattern(text: str) -> re.Pattern:
    """The pattern whose ``split`` gives ``[kept, run, kept, run, …, kept]`` for ``text``."""
    if "_" in text:
        return _REMOVABLE
    return _REMOVABLE_FAST if _has_astral(text) else _removable_bmp()


def _compacted(norm: Normalized) -> Normalized:
    """Fill in the compact text and its segment map (separator runs inside runs removed).

    One ``split`` in C (the patterns capture the runs); the offsets are running sums of the
    parts' lengths (``accumulate``), so no Python code runs per separator run.
    """
    parts = _split_pattern(norm.text).split(norm.text)
    if len(parts) == 1:
        return norm
    kept = parts[::2]
    norm.compact = "".join(kept)
    norm.light_starts = [0, *accumulate(map(len, parts))][::2]
    norm.compact_starts = [0, *accumulate(map(len, kept[:-1]))]
    return norm
