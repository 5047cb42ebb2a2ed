"""The automaton passes of one :func:`app.compliance.check_text` call, shared by every layer.

Two Aho–Corasick passes per text, each run once:

- the compact text through :attr:`RuleSet.index` (every indexed forbidding pattern);
- the light text through :attr:`RuleSet.light_index`: the forbidding patterns that need a
  separator, plus every regex that the checker searches over the whole light text (``when``,
  ``require``, ``unless_all``, ``product_when``, ``unknown_when``, the initialisms). Such a
  regex runs only where the automaton found one of its literal heads, and not at all when its
  language is a plain phrase list.

A regex without literal heads is searched with ``re`` as before. Results are exactly those of
``pattern.search`` / ``pattern.finditer`` on the light text.
"""

from __future__ import annotations

import re

from app.compliance.guards import skipped
from app.compliance.normalize import Normalized
from app.compliance.rules import Rule, RuleSet


class Scan:
    """Automaton hits of one normalized text and the regex searches answered from them."""

    def __init__(self, rs: RuleSet, norm: Normalized) -> None:
        """Run both passes.

        :param rs: the rule set.
        :param norm: the normalized text.
        """
        self.rs, self.norm = rs, norm
        self.compact = rs.index.spans(norm.compact)
        self.light = rs.light_index.spans(norm.text)
        self._searches: dict[re.Pattern, tuple[int, int] | None] = {}

    def numbers(self) -> list[int]:
        """Numbers of the indexed forbidding entries with a hit, ascending."""
        light = {self.rs.light_numbers[n] for n in self.light if n < len(self.rs.light_numbers)}
        return sorted(light | self.compact.keys())

    def forbid_spans(self, number: int, rule: Rule) -> set[tuple[int, int]]:
        """Light spans of the indexed forbidding entry ``number`` (context skips applied)."""
        norm = self.norm
        spans = {(a, b) for a, b in self.light.get(self.rs.light_of.get(number, -1), ())
                 if not skipped(rule, norm.text, a, b)}
        for a, b in self.compact.get(number, ()):
            if not skipped(rule, norm.compact, a, b):
                spans.add(norm.light_span(a, b))
        return spans

    def search(self, pattern: re.Pattern) -> tuple[int, int] | None:
        """Span of ``pattern.search(light text)``, or ``None`` when it does not match."""
        if pattern not in self._searches:
            text, number = self.norm.text, self.rs.searched.get(pattern)
            if number is None:
                m = pattern.search(text)
            else:
                found = self.light.get(number)
                m = pattern.match(text, found[0][0]) if found else None
            self._searches[pattern] = m.span() if m else None
        return self._searches[pattern]

    def matches(self, pattern: re.Pattern) -> list[tuple[int, int]]:
        """Spans of the non-empty matches of ``pattern.finditer(light text)``, in order."""
        number = self.rs.searched.get(pattern)
        if number is not None:
            return list(self.light.get(number, ()))
        return [m.span() for m in pattern.finditer(self.norm.text) if m.end() > m.start()]
