"""One Aho–Corasick automaton (pyahocorasick) for the literal phrases of every forbidding rule.

Built once per rule set (:func:`app.compliance.rules.load_rules`). Each forbidding pattern is
classified by :func:`app.compliance.literals.literals`:

- a plain phrase list: its phrases go into the automaton and its matches are the automaton's
  hits (leftmost, longest at a position, non-overlapping: ``finditer`` order), no regex runs;
- a real pattern with literal heads: the heads go into the automaton and the regex only
  confirms at those positions with ``pattern.match(text, pos)``, which gives exactly
  ``finditer``'s matches because every match starts at a head;
- anything else is searched with ``finditer`` over the text.

One automaton pass per text serves every rule, so 1,000 more phrases cost next to nothing.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick

from app.compliance.literals import Literals

_PHRASE, _HEAD, _REQUIRED = 0, 1, 2


@dataclass(frozen=True)
class Entry:
    """A pattern handed to the index: its compiled regex and its :class:`Literals`."""

    pattern: re.Pattern
    literals: Literals


class PhraseIndex:
    """Finds the matches of many patterns with one automaton pass per text."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        """Build the automaton.

        :param entries: patterns; the spans returned by :meth:`spans` are indexed like them.
        """
        self.entries = tuple(entries)
        keys: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.scanned: list[int] = []
        for number, entry in enumerate(self.entries):
            lit = entry.literals
            strings, role = (lit.phrases, _PHRASE) if lit.phrases else (lit.heads, _HEAD)
            if not strings:
                self.scanned.append(number)
                continue
            for key in strings:
                keys[key].append((number, role))
            if lit.heads and lit.required and lit.width is not None:
                for key in lit.required:
                    keys[key].append((number, _REQUIRED))
        self.automaton = ahocorasick.Automaton()
        #: key number → (length, entries it is a phrase of, a head of, required by)
        self.keys: list[tuple[int, tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = []
        for key, targets in keys.items():
            self.automaton.add_word(key, len(self.keys))
            self.keys.append((len(key), *(tuple(n for n, r in targets if r == role)
                                           for role in (_PHRASE, _HEAD, _REQUIRED))))
        self.phrase_count = len(keys)
        if keys:
            self.automaton.make_automaton()

    def spans(self, text: str) -> dict[int, list[tuple[int, int]]]:
        """Non-empty matches of every entry that matches ``text``.

        :param text: normalized (light or compact) text.
        :returns: entry number → ``[(start, end)]`` in text order, non-overlapping, as
            ``pattern.finditer`` would find them (phrase lists: longest phrase at a start).
        """
        longest: dict[int, dict[int, int]] = defaultdict(dict)
        heads: dict[int, set[int]] = defaultdict(set)
        needed: dict[int, list[int]] = defaultdict(list)
        found: dict[int, list[int]] = defaultdict(list)
        if self.phrase_count:
            for last, key in self.automaton.iter(text):
                found[key].append(last)
        for key, lasts in found.items():
            length, phrase_of, head_of, required_by = self.keys[key]
            starts = [last + 1 - length for last in lasts]
            for number in head_of:
                heads[number].update(starts)
            for number in required_by:
                needed[number].extend(starts)
            for number in phrase_of:
                ends = longest[number]
                for start in starts:
                    if ends.get(start, 0) < start + length:
                        ends[start] = start + length
        for number in list(heads):
            lit = self.entries[number].literals
            if lit.required and lit.width is not None:
                near = _near(heads.pop(number), needed.get(number, ()), lit.width)
                if near:
                    heads[number] = near
        out: dict[int, list[tuple[int, int]]] = {}
        for number, ends in longest.items():
            out[number] = _non_overlapping(sorted(ends.items()))
        for number, starts in heads.items():
            found = _confirmed(self.entries[number].pattern, text, sorted(starts))
            if found:
                out[number] = found
        for number in self.scanned:
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
    kept = set()
    for start in starts:
        i = bisect_right(needed, start)
        if i < len(needed) and needed[i] < start + width:
            kept.add(start)
    return kept


def _non_overlapping(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    kept, last_end = [], -1
    for start, end in spans:
        if start >= last_end:
            kept.append((start, end))
            last_end = end
    return kept


def _confirmed(pattern: re.Pattern, text: str, starts: list[int]) -> list[tuple[int, int]]:
    kept, last_end = [], -1
    for start in starts:
        if start < last_end:
            continue
        m = pattern.match(text, start)
        if m is not None and m.end() > start:
            kept.append((start, m.end()))
            last_end = m.end()
    return kept
