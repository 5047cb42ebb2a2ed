"""Automaton entries for the regexes the checker searches over the whole light text.

Besides the forbidding patterns, the checker asks of the light text whether a ``when``
trigger is there (and where), and whether ``require``, ``unless_all``, ``unknown_when`` and
``product_when`` regexes match at all. :func:`searched_entries` gives those regexes entries
in the light automaton (:mod:`app.compliance.phrase_index`), so that a regex runs only where
one of its literal heads is, and not at all for a phrase list:

- a ``when`` trigger (its span is reported) and the initialisms get one entry for the whole
  pattern when it has literal heads;
- a regex asked only whether it matches gets one entry per top-level alternative that has
  literal heads; the alternatives without any (e.g. a date starting with a digit) are joined
  into one regex that runs only when no indexed alternative matched.

A regex without any literal head is searched with ``re`` as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.compliance.literals import is_group, literals, top_level_branches
from app.compliance.phrase_index import Entry
from app.compliance.regex_gate import gated


@dataclass(frozen=True)
class Searched:
    """What :func:`searched_entries` built; entry numbers count from ``first``.

    ``entries``: the new automaton entries, in order; ``spans``: regex → entry whose matches
    are the regex's (``when`` triggers, initialisms); ``exists``: regex → (entries of its
    alternatives, regex of the other alternatives or ``None``).
    """

    entries: tuple[Entry, ...]
    spans: dict[re.Pattern, int]
    exists: dict[re.Pattern, tuple[tuple[int, ...], re.Pattern | None]]
    iterated: frozenset[int]


def searched_entries(rules, initialisms: re.Pattern, sources: dict[re.Pattern, str],
                     first: int) -> Searched:
    """Entries for the searched regexes of ``rules`` and for ``initialisms``.

    :param rules: the compiled rules.
    :param initialisms: the initialisms regex (iterated: every match is used).
    :param sources: compiled regex → its source without the first-character gate.
    :param first: the number the first new entry gets in its index.
    :returns: :class:`Searched`.
    """
    entries: list[Entry] = []
    spans: dict[re.Pattern, int] = {}
    exists: dict[re.Pattern, tuple[tuple[int, ...], re.Pattern | None]] = {}
    for pattern in [initialisms, *(r.when for r in rules if r.when is not None)]:
        found = literals(sources[pattern])
        if pattern not in spans and (found.phrases or found.heads):
            spans[pattern] = first + len(entries)
            entries.append(Entry(pattern, found))
    for rule in rules:
        for pattern in (rule.unknown_when, *rule.product_when.values(), *rule.require,
                        *rule.unless_all):
            if pattern is None or pattern in exists:
                continue
            try:
                indexed, rest = _alternatives(sources[pattern], pattern.flags)
            except re.error:  # an alternative that cannot stand alone (a backreference)
                continue
            if indexed:
                exists[pattern] = (tuple(range(first + len(entries),
                                               first + len(entries) + len(indexed))), rest)
                entries.extend(indexed)
    iterated = frozenset([spans[initialisms]]) if initialisms in spans else frozenset()
    return Searched(tuple(entries), spans, exists, iterated)


def _alternatives(source: str, flags: int) -> tuple[list[Entry], re.Pattern | None]:
    """Entries of the top-level alternatives with literal heads, and the others as one regex.

    :raises re.error: an alternative does not compile on its own.
    """
    indexed, rest = [], []
    branches = top_level_branches(source)
    while len(branches) == 1 and is_group(branches[0]):
        branches = top_level_branches(branches[0][3:-1])
    for branch in branches:
        found = literals(branch)
        if found.phrases or found.heads:
            indexed.append(Entry(re.compile(gated(branch), flags), found))
        else:
            rest.append(branch)
    return indexed, re.compile(gated("|".join(rest)), flags) if rest else None

