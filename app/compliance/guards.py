"""Context guards that cancel or suppress a forbidding rule's hit.

- ``allow`` (AD-01 最 whitelist): the hit lies inside an allowed phrase (e.g. 最低起购金额).
- ``skip``: a context regex matches in the same sentence.
- ``skip_before`` (INV-08 risk-rating marker): a marker ends just before the hit.
- NEG: a negation in the hit plus the ``neg_window`` light-text characters before it, cut at the
  sentence start, evaluated before separator stripping; promise-shaped negations such as
  保证不亏 are never suppressed.
- EDU: the hit is inside quotes in a sentence with 谨防/诈骗/违规话术….

Spans are ``[start, end)`` character offsets into the text they were found in.
"""

from __future__ import annotations

import re
from functools import lru_cache

from app.compliance.normalize import TERMINATORS, Normalized
from app.compliance.regex_gate import finditer, search
from app.compliance.rules import Rule, RuleSet

_BARE = re.compile(r"[\W_]+")
_ALLOW_REACH = 40  # an allow phrase (e.g. 最低起购金额) starts/ends within this many chars


@lru_cache(maxsize=8)
def _reversed(text: str) -> str:
    return text[::-1]


def sentence_bounds(text: str, a: int, b: int) -> tuple[int, int]:
    """Bounds of the sentence around the span ``[a, b)``.

    Two searches that stop at the nearest terminator: forwards from ``b``, and from ``a``
    backwards in the reversed text (cached per text), so no list of every terminator is built.

    :param text: light or compact normalized text.
    :param a: span start (character offset into ``text``).
    :param b: span end (exclusive).
    :returns: ``(start, end)``: after the previous terminator (。!?; or line break) or 0, up to
        the next terminator or the end of ``text``.
    """
    before = TERMINATORS.search(_reversed(text), len(text) - a)
    after = TERMINATORS.search(text, b)
    return (len(text) - before.start() if before else 0), (after.start() if after else len(text))


def skipped(rule: Rule, text: str, a: int, b: int) -> bool:
    """Whether the rule's ``allow``/``skip``/``skip_before`` context cancels a hit.

    :param rule: the forbidding rule that matched.
    :param text: the text the hit was found in (light or compact).
    :param a: hit start in ``text``.
    :param b: hit end in ``text`` (exclusive).
    :returns: True when the hit must be dropped.
    """
    if rule.allow:
        window = finditer(rule.allow, text, max(0, a - _ALLOW_REACH), b + _ALLOW_REACH)
        if any(m.start() <= a and b <= m.end() for m in window):
            return True
    if rule.skip:
        s0, s1 = sentence_bounds(text, a, b)
        if any(m.start() < b and a < m.end() for m in finditer(rule.skip, text, s0, s1)):
            return True
    if rule.skip_before:
        lo = max(0, a - rule.skip_window - 8)
        ends = (m.end() for m in finditer(rule.skip_before, text, lo, a))
        return any(e >= a - rule.skip_window for e in ends)
    return False


def guarded(rs: RuleSet, rule: Rule, norm: Normalized, a: int, b: int) -> bool:
    """Whether the NEG or EDU guard suppresses a hit on the light text.

    :param rs: the rule set (guard regexes and ``neg_window``).
    :param rule: the rule that matched (its ``neg``/``edu`` flags select the guards).
    :param norm: normalized text; the span indexes ``norm.text``.
    :param a: hit start in the light text.
    :param b: hit end in the light text (exclusive).
    :returns: True when the hit is suppressed.
    """
    text = norm.text
    s0, s1 = sentence_bounds(text, a, b)
    if rule.neg and not rs.promise.search(_BARE.sub("", text[a:b])):
        if rs.neg.search(text[max(s0, a - rs.neg_window):b]):
            return True
    if rule.edu and search(rs.edu, text, s0, s1):
        quotes = finditer(rs.quotes, text, s0, s1)
        return any(m.start() <= a and b <= m.end() for m in quotes)
    return False
