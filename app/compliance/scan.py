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
from app.compliance.phrase_index import PhraseIndex
from app.compliance.regex_gate import finditer, search
from app.compliance.rules import Rule, RuleSet


class Scan:
    """Automaton hits of one normalized text and the regex searches answered from them.

    Which rules apply (:meth:`eligible`) is decided by the product scope and content kind,
    and for some rules by a regex on the text (``unknown_when``, ``product_when``); the
    regexes of the compact pass run only for the entries of applicable rules.
    ``candidates``: the rules that can apply in this scope and content kind, in file order.
    """

    def __init__(self, rs: RuleSet, norm: Normalized, scope: str | None,
                 content_kind: str | None) -> None:
        """Run both passes.

        :param rs: the rule set.
        :param norm: the normalized text.
        :param scope: the product scope (``app.compliance.kinds.rule_scope``).
        :param content_kind: the content kind value or ``None``.
        """
        self.rs, self.norm, self.scope, self.content_kind = rs, norm, scope, content_kind
        self._searches: dict[re.Pattern, tuple[int, int] | None] = {}
        static, conditional, index, light_index, self.candidates = _eligibility(
            rs, scope, content_kind)
        self._included = light_index.included
        self.light = light_index.spans(norm.text)
        wanted = set(static)
        for pattern, numbers in conditional:
            if self.exists(pattern):
                wanted.update(numbers)
        self.compact = index.spans(norm.compact, wanted)
        self.wanted = wanted

    def eligible(self, rule: Rule) -> bool:
        """Whether ``rule`` applies to this text: its content kinds, then :meth:`applies`."""
        if rule.content_kinds and self.content_kind not in rule.content_kinds:
            return False
        return self.applies(rule)

    def applies(self, rule: Rule) -> bool:
        """Whether ``rule`` applies in this scope to this text (content kind not asked)."""
        decided = _applies(rule, self.scope)
        if isinstance(decided, bool):
            return decided
        return self.exists(decided)

    def numbers(self) -> list[int]:
        """Numbers of the indexed entries of applicable rules with a hit, ascending."""
        light = {self.rs.light_numbers[n] for n in self.light if n < len(self.rs.light_numbers)}
        return sorted((light & self.wanted) | self.compact.keys())

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
            if number is None or number not in self._included:
                m = search(pattern, text)
            else:
                found = self.light.get(number)
                m = pattern.match(text, found[0][0]) if found else None
            self._searches[pattern] = m.span() if m else None
        return self._searches[pattern]

    def exists(self, pattern: re.Pattern) -> bool:
        """Whether ``pattern`` matches the light text anywhere (``pattern.search``)."""
        found = self.rs.exists.get(pattern)
        if found is None or not self._included.issuperset(found[0]):
            return self.search(pattern) is not None
        numbers, rest = found
        if any(number in self.light for number in numbers):
            return True
        return rest is not None and self.search(rest) is not None

    def matches(self, pattern: re.Pattern) -> list[tuple[int, int]]:
        """Spans of the non-empty matches of ``pattern.finditer(light text)``, in order."""
        number = self.rs.searched.get(pattern)
        if number is not None and number in self._included:
            return list(self.light.get(number, ()))
        return [m.span() for m in finditer(pattern, self.norm.text) if m.end() > m.start()]


def _applies(rule: Rule, scope: str | None) -> bool | re.Pattern:
    """Whether ``rule`` applies in ``scope``, or the regex whose match on the text decides.

    - a rule for ``all`` products always applies;
    - scope ``None`` (product unknown): every forbidding rule, unless its ``unknown_when``
      regex is absent from the text;
    - ``general``: forbidding rules marked ``in_general``;
    - a product: rules listing it, or whose ``product_when`` regex for it is in the text.
    """
    if "all" in rule.products:
        return True
    if scope is None:
        if rule.kind != "forbid":
            return False
        return True if rule.unknown_when is None else rule.unknown_when
    if scope == "general":
        return rule.kind == "forbid" and rule.in_general
    if scope in rule.products:
        return True
    return rule.product_when.get(scope, False)


def _eligibility(rs: RuleSet, scope: str | None, content_kind: str | None
                 ) -> tuple[frozenset[int], tuple[tuple[re.Pattern, tuple[int, ...]], ...],
                            PhraseIndex, PhraseIndex, tuple[Rule, ...]]:
    """Compact-index entries of the rules that apply, computed once per scope and kind.

    :returns: ``(entries that always apply, ((regex, entries applying when it matches), …),
        an automaton of just those entries, a light automaton of the entries those rules and
        the scope's conditions need, the rules that can apply in ``RuleSet.rules`` order)``:
        keys only other rules need never hit. An entry left out of the light automaton is
        searched with its regex (:class:`Scan`), never missed.
    """
    key = (scope, content_kind)
    if key not in rs.eligibility:
        static: set[int] = set()
        conditional: dict[re.Pattern, list[int]] = {}
        for number, rule in enumerate(rs.indexed):
            if rule.content_kinds and content_kind not in rule.content_kinds:
                continue
            decided = _applies(rule, scope)
            if decided is True:
                static.add(number)
            elif decided is not False:
                conditional.setdefault(decided, []).append(number)
        maybe = static.union(*conditional.values())
        rs.eligibility[key] = (frozenset(static),
                               tuple((p, tuple(n)) for p, n in conditional.items()),
                               PhraseIndex(rs.index.entries, only=maybe),
                               _light_index(rs, scope, content_kind, maybe),
                               tuple(r for r in rs.rules if _applies(r, scope) is not False
                                     and (not r.content_kinds
                                          or content_kind in r.content_kinds)))
    return rs.eligibility[key]


def _light_index(rs: RuleSet, scope: str | None, content_kind: str | None,
                 maybe: set[int]) -> PhraseIndex:
    """The light automaton of the entries a text in this scope and content kind can need."""
    needed = {rs.light_of[n] for n in maybe if n in rs.light_of}
    if rs.initialisms in rs.searched:
        needed.add(rs.searched[rs.initialisms])

    def add(pattern: re.Pattern | None) -> None:
        if pattern in rs.searched:
            needed.add(rs.searched[pattern])
        if pattern in rs.exists:
            needed.update(rs.exists[pattern][0])

    for rule in rs.rules:
        decided = _applies(rule, scope)
        if not isinstance(decided, bool):
            add(decided)
        if decided is False or (rule.content_kinds and content_kind not in rule.content_kinds):
            continue
        for pattern in (rule.when, *rule.require, *rule.unless_all):
            add(pattern)
    light = rs.light_index
    return PhraseIndex(light.entries, first_only=light.first_only, only=needed)
