r"""Literal strings of a rule regex: its whole language when finite, else its literal heads.

The compliance patterns are mostly phrase lists (``保本|保息|保证(收益|本金)``). This module
reads a pattern's parse tree (CPython's private ``re._parser``, stable since 3.11; the same
parser :mod:`app.compliance.regex_gate` uses) and returns:

- ``phrases``: every string the pattern can match, when that language is finite, small and
  free of zero-width assertions and character categories, so that an Aho–Corasick automaton
  finds exactly the pattern's matches and no regex has to run at all;
- otherwise ``heads``: literal prefixes (up to :data:`HEAD_CHARS` characters) such that every
  match starts with one of them; the automaton then finds the candidate positions and the
  regex only confirms a match there (``pattern.match(text, pos)``);
- neither (``None``) when a match can start with an unknown character (``.``, ``\\d``, a big
  class): such a pattern is searched with ``finditer`` as before.

Latin letters are expanded to both cases because the rules match case-insensitively.
"""

from __future__ import annotations

import re._constants as _sre  # private but stable since 3.11
import re._parser as _sre_parse
from dataclasses import dataclass

#: Length of the literal heads of a pattern that is not a plain phrase list.
HEAD_CHARS = 4
#: Most strings one expansion may produce before it gives up (falls back to heads or a scan).
MAX_STRINGS = 4000
_MAX_CLASS = 24  # a [..] class with more characters is "any character" here
_MAX_REPEAT = 3  # x{m,n} with n above this is "unknown from here on"


@dataclass(frozen=True)
class Literals:
    """What an automaton can do for one pattern (see module docstring).

    ``required``: phrases one of which every match contains after its first character (a
    candidate head without one of them within ``width`` characters cannot match);
    ``width``: the longest match, or ``None`` when unbounded.
    """

    phrases: frozenset[str] | None
    heads: frozenset[str] | None
    required: frozenset[str] | None = None
    width: int | None = None


class _Unknown(Exception):
    """The language is not a small finite set of literals."""


# A language is a set of (string, open) pairs: open means "more, unknown characters may follow"
# (the string is only a prefix of the matches). Zero-width assertions make a language inexact.
@dataclass
class _Lang:
    items: set[tuple[str, bool]]
    exact: bool = True


def _cases(ch: str) -> set[str]:
    return {ch.lower(), ch.upper()} if ch.isascii() and ch.isalpha() else {ch}


def _concat(a: _Lang, b: _Lang, limit: int) -> _Lang:
    out: set[tuple[str, bool]] = set()
    for s, open_ in a.items:
        if open_ or len(s) >= limit:
            out.add((s[:limit], True))
            continue
        for t, open_t in b.items:
            joined = s + t
            out.add((joined[:limit], open_t or len(joined) > limit))
        if len(out) > MAX_STRINGS:
            raise _Unknown
    return _Lang(out, a.exact and b.exact)


def _item(op, av, limit: int) -> _Lang:
    if op is _sre.LITERAL:
        return _Lang({(c, False) for c in _cases(chr(av))})
    if op is _sre.IN:
        if any(o not in (_sre.LITERAL, _sre.RANGE) for o, _ in av):
            raise _Unknown
        chars: set[str] = set()
        for o, v in av:
            lo, hi = (v, v) if o is _sre.LITERAL else v
            if hi - lo > _MAX_CLASS:
                raise _Unknown
            for code in range(lo, hi + 1):
                chars |= _cases(chr(code))
        if len(chars) > _MAX_CLASS:
            raise _Unknown
        return _Lang({(c, False) for c in chars})
    if op is _sre.SUBPATTERN:
        return _seq(av[-1], limit)
    if op is _sre.BRANCH:
        parts = [_seq(alt, limit) for alt in av[1]]
        return _Lang(set().union(*(p.items for p in parts)), all(p.exact for p in parts))
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
        lo, hi, sub = av
        body = _seq(sub, limit)
        if hi > _MAX_REPEAT:
            prefix = _Lang({("", False)})
            for _ in range(lo):
                prefix = _concat(prefix, body, limit)
            return _Lang({(s, True) for s, _ in prefix.items}, False)
        out, power = _Lang(set(), body.exact), _Lang({("", False)})
        for n in range(hi + 1):
            if n >= lo:
                out.items |= power.items
            power = _concat(power, body, limit)
        return out
    if op in (_sre.ASSERT, _sre.ASSERT_NOT, _sre.AT):
        return _Lang({("", False)}, False)
    raise _Unknown  # ANY, CATEGORY, NOT_LITERAL, groupref, …


def _seq(items, limit: int) -> _Lang:
    lang = _Lang({("", False)})
    for op, av in items:
        try:
            part = _item(op, av, limit)
        except _Unknown:
            return _Lang({(s, True) for s, _ in lang.items}, False)
        lang = _concat(lang, part, limit)
    return lang


def literals(pattern: str) -> Literals:
    """The phrases or literal heads of a regex source (see module docstring).

    :param pattern: a Python ``re`` source as compiled by the rules loader (macros expanded,
        without the first-character gate).
    :returns: :class:`Literals`; ``phrases`` set when the pattern is an exact finite phrase
        list, else ``heads`` when every match starts with a known literal, else both ``None``.
    :raises re.error: when ``pattern`` is not a valid regex.
    """
    try:
        tree = _sre_parse.parse(pattern)
    except (AttributeError, TypeError, ValueError):  # private parser API changed
        return Literals(None, None)
    try:
        full = _seq(tree, 10_000)
        if full.exact and not any(open_ for _, open_ in full.items) and all(
                s for s, _ in full.items):
            return Literals(frozenset(s for s, _ in full.items), None)
    except _Unknown:
        pass
    try:
        heads = _seq(tree, HEAD_CHARS)
    except _Unknown:
        return Literals(None, None)
    if any(not s for s, _ in heads.items):
        return Literals(None, None)
    width = tree.getwidth()[1]
    items = list(tree)
    while items and items[0][0] in (_sre.ASSERT, _sre.ASSERT_NOT, _sre.AT):
        items.pop(0)
    return Literals(None, frozenset(s for s, _ in heads.items), _required(items[1:]),
                    None if width >= _sre.MAXREPEAT else width)


def _phrase_set(op, av) -> frozenset[str] | None:
    """The phrases of one item when it is an exact finite list of non-empty phrases."""
    try:
        lang = _item(op, av, 10_000)
    except _Unknown:
        return None
    if not lang.exact or any(open_ or not s for s, open_ in lang.items):
        return None
    return frozenset(s for s, _ in lang.items)


def _required(items) -> frozenset[str] | None:
    """Phrases one of which every match of the item sequence contains (``None``: unknown)."""
    best = None
    for op, av in items:
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] == 0:
            continue  # optional
        found = _phrase_set(op, av)
        if found is None and op is _sre.SUBPATTERN:
            found = _required(av[-1])
        if found is None and op is _sre.BRANCH:
            parts = [_required(alt) for alt in av[1]]
            found = None if None in parts else frozenset().union(*parts)
        if found is not None and (best is None or _rank(found) > _rank(best)):
            best = found
    return best


def _rank(phrases: frozenset[str]) -> tuple[int, int]:
    """Prefer the phrase set whose shortest phrase is longest, then the smaller set."""
    return min(map(len, phrases)), -len(phrases)


def _structure(pattern: str):
    """``(index, char, depth)`` of each character outside escapes and ``[...]`` classes.

    ``depth`` counts the groups open around the character (a ``(`` is at its outer depth, a
    ``)`` at the depth it returns to).
    """
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]" or pattern[i + 1:i + 3] == "^]":
                i += 2 if pattern[i + 1] == "]" else 3
                continue
        else:
            depth -= ch == ")"
            yield i, ch, depth
            depth += ch == "("
        i += 1


def top_level_branches(pattern: str) -> list[str]:
    """The top-level alternatives of a regex source (``a|b(c|d)`` → ``["a", "b(c|d)"]``).

    :param pattern: a Python ``re`` source.
    :returns: the alternatives as sources, in order (one item when there is no top-level ``|``).
    """
    parts, start = [], 0
    for i, ch, depth in _structure(pattern):
        if ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return parts


def is_group(source: str) -> bool:
    """Whether ``source`` is one non-capturing group ``(?:…)`` from its first to last char."""
    if not (source.startswith("(?:") and source.endswith(")")):
        return False
    return next((i for i, ch, depth in _structure(source) if ch == ")" and depth == 0),
                -1) == len(source) - 1
