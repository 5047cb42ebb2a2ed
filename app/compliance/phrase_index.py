"""One Aho–Corasick automaton (ahocorasick-rs) for the literal phrases of every forbidding rule.

Built once per rule set (:func:`app.compliance.rules.load_rules`). Each forbidding pattern is
classified by :func:`app.compliance.literals.literals`:

- a plain phrase list: its phrases go into the automaton and its matches are the automaton's
  hits (leftmost, longest at a position, non-overlapping: ``finditer`` order), no regex runs;
- a real pattern with literal heads: the heads go into the automaton and the regex only
  confirms at those positions with ``pattern.match(text, pos)``, which gives exactly
  ``finditer``'s matches because every match starts at a head;
- anything else is searched with ``finditer`` over the text.

One automaton pass per text serves every rule, so 1,000 more phrases cost next to nothing.
The automaton is ahocorasick-rs (Rust's ``aho-corasick``): its pass costs the same for 2,000
or 3,000 keys and returns every overlapping match as one list. pyahocorasick, used before,
scans the children of a node one by one, so each key with a new first character slowed every
character of every text (1,000 extra phrases: +270 us per 2,000-character post).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import ahocorasick_rs

from app.compliance.literals import Literals

_PHRASE, _HEAD, _REQUIRED = 0, 1, 2


@dataclass(frozen=True)
class Entry:
    """A pattern handed to the index: its compiled regex and its :class:`Literals`."""

    pattern: re.Pattern
    literals: Literals


class PhraseIndex:
    """Finds the matches of many patterns with one automaton pass per text."""

    def __init__(self, entries: Sequence[Entry], first_only: AbstractSet[int] = frozenset(),
                 only: AbstractSet[int] | None = None) -> None:
        """Build the automaton.

        :param entries: patterns; the spans returned by :meth:`spans` are indexed like them.
        :param first_only: entries searched, not iterated: :meth:`spans` gives only their
            first match (``pattern.search``), so their regex stops there.
        :param only: index just these entries (the others never match); all if ``None``.
        """
        self.entries = tuple(entries)
        self.first_only = frozenset(first_only)
        #: the entries this index can report
        self.included = frozenset(range(len(self.entries)) if only is None else only)
        keys: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.scanned: list[int] = []
        for number, entry in enumerate(self.entries):
            if only is not None and number not in only:
                continue
            lit = entry.literals
            strings, role = (lit.phrases, _PHRASE) if lit.phrases else (lit.heads, _HEAD)
            if not strings:
                self.scanned.append(number)
                continue
            for key in strings:
                keys[key].append((number, role))
            if lit.heads and lit.required and lit.width is not None and _long(lit.required):
                for key in lit.required:
                    keys[key].append((number, _REQUIRED))
        #: key number → (length, entries it is a phrase of, a head of, required by)
        self.keys: list[tuple[int, tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = [
            (len(key), *(tuple(n for n, r in targets if r == role)
                         for role in (_PHRASE, _HEAD, _REQUIRED)))
            for key, targets in keys.items()]
        #: entry number → (required phrases in the automaton?, a regex of the required
        #: phrases, width, width - 1 + the longest required phrase)
        self.filters = {n: (_long(lit.required), _any_of(lit.required), lit.width,
                            lit.width - 1 + max(map(len, lit.required)))
                        for n, lit in ((n, e.literals) for n, e in enumerate(self.entries))
                        if lit.heads and lit.required and lit.width is not None}
        self.phrase_count = len(keys)
        self.automaton = ahocorasick_rs.AhoCorasick(
            list(keys), matchkind=ahocorasick_rs.MatchKind.Standard) if keys else None

    def matches(self, text: str) -> list[tuple[int, int, int]]:
        """One automaton pass: every occurrence of every key, overlapping ones included.

        :param text: any text.
        :returns: ``(key number, start, end)`` tuples (code-point offsets), by end.
        """
        if self.automaton is None:
            return []
        return self.automaton.find_matches_as_indexes(text, overlapping=True)

    def spans(self, text: str, wanted: AbstractSet[int] | None = None
              ) -> dict[int, list[tuple[int, int]]]:
        """Non-empty matches of every entry (or every ``wanted`` one) that matches ``text``.

        :param text: normalized (light or compact) text.
        :param wanted: entry numbers to report (the others' regexes never run); all if None.
        :returns: entry number → ``[(start, end)]`` in text order, non-overlapping, as
            ``pattern.finditer`` would find them (phrase lists: longest phrase at a start).
        """
        longest: dict[int, dict[int, int]] = defaultdict(dict)
        heads: dict[int, set[int]] = defaultdict(set)
        needed: dict[int, list[int]] = defaultdict(list)
        found: dict[int, list[int]] = defaultdict(list)
        for key, start, _end in self.matches(text):
            found[key].append(start)
        for key, starts in found.items():
            length, phrase_of, head_of, required_by = self.keys[key]
            for number in head_of:
                heads[number].update(starts)
            for number in required_by:
                needed[number].extend(starts)
            for number in phrase_of:
                ends = longest[number]
                for start in starts:
                    if ends.get(start, 0) < start + length:
                        ends[start] = start + length
        if wanted is not None:
            for table in (heads, longest):
                for number in table.keys() - wanted:
                    del table[number]
        for number in heads.keys() & self.filters.keys():
            in_automaton, required, width, reach = self.filters[number]
            starts = heads.pop(number)
            near = (_near(starts, needed.get(number, ()), width) if in_automaton
                    else _near_found(text, starts, required, width, reach))
            if near:
                heads[number] = near
        out: dict[int, list[tuple[int, int]]] = {}
        for number, ends in longest.items():
            if number in self.first_only:
                out[number] = [min(ends.items())]
            else:
                out[number] = _non_overlapping(sorted(ends.items()))
        for number, starts in heads.items():
            found = _confirmed(self.entries[number].pattern, text, sorted(starts),
                               number in self.first_only)
            if found:
                out[number] = found
        for number in (n for n in self.scanned if wanted is None or n in wanted):
            found = [m.span() for m in self.entries[number].pattern.finditer(text)
                     if m.end() > m.start()]
            if found:
                out[number] = found
        return out


def _near(starts: set[int], needed: list[int], width: int) -> set[int]:
    """Head positions with a required phrase starting after them, within ``width`` chars."""
    if not needed:
        return set()
    needed = sorted(needed)
    last = len(needed)
    return {start for start in starts
            if (i := bisect_right(needed, start)) < last and needed[i] < start + width}


def _any_of(phrases: frozenset[str]) -> re.Pattern:
    """A regex matching any of ``phrases`` (for :func:`_near_found`)."""
    return re.compile("|".join(map(re.escape, sorted(phrases, key=len, reverse=True))))


def _long(required: frozenset[str]) -> bool:
    """Whether required phrases go into the automaton, else ``str.find`` looks for them.

    A few single characters would hit the automaton too often; a longer list is cheaper there.
    """
    return min(map(len, required)) > 1 or len(required) > 3


def _near_found(text: str, starts: set[int], required: re.Pattern, width: int,
                reach: int) -> set[int]:
    """Like :func:`_near`, searching ``required`` (:func:`_any_of`) after each head.

    A required phrase must start within ``[start + 1, start + width - 1]``: the first one
    found from ``start + 1`` up to ``start + reach`` (``width - 1`` plus the longest
    phrase, so a phrase starting in time fits) decides.
    """
    return {start for start in starts
            if (m := required.search(text, start + 1, start + reach)) is not None
            and m.start() < start + width}


def _non_overlapping(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    kept, last_end = [], -1
    for start, end in spans:
        if start >= last_end:
            kept.append((start, end))
            last_end = end
    return kept


def _confirmed(pattern: re.Pattern, text: str, starts: list[int],
               first_only: bool = False) -> list[tuple[int, int]]:
    kept, last_end = [], -1
    for start in starts:
        if start < last_end:
            continue
        m = pattern.match(text, start)
        if m is not None and m.end() > start:
            kept.append((start, m.end()))
            if first_only:
                break
            last_end = m.end()
    return kept
