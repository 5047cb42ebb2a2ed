"""Compliance checker for content templates and rendered posts (RULES.md, mainland China).

Rules live in ``compliance_rules.toml`` next to this module; they are read and compiled once per
process (:func:`load_rules`), never per call. Text is normalized by :mod:`app.content.normalize`
(entities, full width, zero-width, traditional characters, homoglyphs, number words, separators
inside runs) and every finding carries offsets into the ORIGINAL text.

Which rules apply (``product``):

- a known product (``fund``, ``wealth``, ``gold``, ``fx``, ``insurance``, ``deposit``, ``loan``):
  rules listing that product or ``all``, plus rules whose ``product_when`` regex is present
  (e.g. INV-01 for a deposit only when the text mentions 结构性存款).
- ``None`` (product unknown): EVERY forbidding rule applies; required-statement rules apply only
  when they are for ``all`` products (DATA-01), because a disclaimer cannot be demanded for a
  product that is not known.
- ``general`` (market commentary, greetings): every forbidding rule except those marked
  ``in_general = false`` (words that are normal in commentary, e.g. 近一周…上涨, 零利率政策);
  required statements only for ``all`` products.
- A rule's ``severity_by_product`` (INV-07: block for funds) applies only to that product; with
  ``None``/``general`` the rule's base severity is used.

Guards: ``allow`` (AD-01 最 whitelist), ``skip`` (context in the same sentence), ``skip_before``
(INV-08 risk-rating marker), NEG (negation in the hit plus the 12 light-text characters before it,
cut at the sentence start, evaluated before separator stripping; promise-shaped negations such as
保证不亏 are never suppressed) and EDU (hit inside quotes in a sentence with 谨防/诈骗/违规话术…).
Forbid patterns are matched on both the light and the compact text and merged per rule. Each
compiled regex gets a ``(?=[first characters])`` prefix derived from its parse tree, so the
engine rejects most positions at once (about 3x faster on Chinese alternations).

Required statements ignore punctuation and spaces. A missing unconditional statement is reported
as an empty span at the end of the text; a missing conditional one at its trigger (e.g. the
performance figure).
"""

from __future__ import annotations

import logging
import re
import re._constants as _sre  # private but stable since 3.11; only used for the prefilter
import re._parser as _sre_parse
import tomllib
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from app.content.normalize import TERMINATORS, Normalized, normalize, pinyin_hits

logger = logging.getLogger(__name__)

RULES_PATH = Path(__file__).with_name("compliance_rules.toml")
PRODUCTS = frozenset({"general", "fund", "wealth", "gold", "fx", "insurance", "deposit", "loan"})
KINDS = frozenset({"forbid", "require", "require_when"})
_GAP = re.compile(r"(?<!\\)\.(?=\{\d*,?\d*\})")
_MACRO = re.compile(r"\{([A-Z_]+)\}")
_SEVERITY_RANK = {"block": 0, "warn": 1}
_BARE = re.compile(r"[\W_]+")
_ALLOW_REACH = 40  # an allow phrase (e.g. 最低起购金额) starts/ends within this many chars


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule hit; ``start``/``end`` are character offsets into the original text."""

    rule_id: str
    severity: str
    start: int
    end: int
    message: str
    citation: str


@dataclass(frozen=True)
class Rule:
    """A compiled rule from ``compliance_rules.toml`` (see the file header for the keys)."""

    id: str
    kind: str
    severity: str
    products: frozenset[str]
    message: str
    citation: str
    pattern: re.Pattern | None = None
    when: re.Pattern | None = None
    statement: str = ""
    require: tuple[re.Pattern, ...] = ()
    allow: re.Pattern | None = None
    skip: re.Pattern | None = None
    skip_before: re.Pattern | None = None
    skip_window: int = 0
    neg: bool = False
    edu: bool = True
    in_general: bool = True
    unless_all: tuple[re.Pattern, ...] = ()
    severity_by_product: dict[str, str] = field(default_factory=dict)
    product_when: dict[str, re.Pattern] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleSet:
    """All rules plus guard regexes and the evasion tables."""

    rules: tuple[Rule, ...]
    neg: re.Pattern
    neg_window: int
    promise: re.Pattern
    edu: re.Pattern
    quotes: re.Pattern
    pinyin_terms: dict[str, str]
    initialisms: re.Pattern
    initialism_terms: dict[str, tuple[str, str]]
    statement_ids: frozenset[str]

    def base_rule(self, rule_id: str) -> Rule:
        """The first forbidding rule with ``rule_id`` (used by the evasion layer)."""
        return next(r for r in self.rules if r.id == rule_id and r.kind == "forbid")


def _first_chars(items) -> tuple[set[str] | None, bool]:
    """Possible first characters of a parsed regex (``None``: any) and whether it can be empty."""
    out: set[str] = set()
    for op, av in items:
        if op in (_sre.ASSERT, _sre.ASSERT_NOT, _sre.AT):
            continue
        if op is _sre.LITERAL:
            return out | {chr(av)}, False
        if op is _sre.IN:
            if any(iop not in (_sre.LITERAL, _sre.RANGE) for iop, _ in av):
                return None, False
            for iop, iav in av:
                lo, hi = (iav, iav) if iop is _sre.LITERAL else iav
                out.update(map(chr, range(lo, hi + 1)))
            return out, False
        if op is _sre.SUBPATTERN:
            first, nullable = _first_chars(av[-1])
        elif op is _sre.BRANCH:
            parts = [_first_chars(alt) for alt in av[1]]
            firsts = [f for f, _ in parts]
            first = None if None in firsts else set().union(*firsts)
            nullable = any(n for _, n in parts)
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
            first, nullable = _first_chars(av[2])
            nullable = nullable or av[0] == 0
        else:
            return None, False
        if first is None:
            return None, False
        out |= first
        if not nullable:
            return out, False
    return out, True


def _gated(pattern: str) -> str:
    """Prefix ``(?=[first chars])`` so the regex engine rejects most positions at once."""
    try:
        first, nullable = _first_chars(_sre_parse.parse(pattern))
    except (AttributeError, TypeError, ValueError):  # private parser API changed: no prefilter
        return pattern
    if first is None or nullable or len(first) > 500:
        return pattern
    return f"(?=[{''.join(map(re.escape, sorted(first)))}])(?:{pattern})"


def _compiler(macros: dict[str, str]):
    def expand(pattern: str) -> str:
        def sub(m: re.Match) -> str:
            name = m.group(1)
            return f"(?:{expand(macros[name])})" if name in macros else m.group(0)

        return _MACRO.sub(sub, pattern)

    def compile_(pattern: str | None) -> re.Pattern | None:
        if pattern is None:
            return None
        source = _gated(_GAP.sub(r"[^。!?;\\n]", expand(pattern)))
        latin = re.search(r"[A-Za-z]", re.sub(r"\\(?:u[0-9a-fA-F]{4}|.)", "", source))
        return re.compile(source, re.IGNORECASE if latin else 0)

    return compile_


def _build_rule(raw: dict, compile_) -> Rule:
    products = set(raw["products"]) | set(raw.get("product_when", {}))
    if (raw["kind"] not in KINDS or raw["severity"] not in _SEVERITY_RANK
            or not products <= PRODUCTS | {"all"}
            or ("pattern" in raw) != (raw["kind"] == "forbid")
            or ("when" in raw) != (raw["kind"] == "require_when")):
        raise ValueError(f"rule {raw['id']}: bad kind, severity, products or pattern/when")
    statement = raw.get("statement", "")
    return Rule(
        id=raw["id"], kind=raw["kind"], severity=raw["severity"],
        products=frozenset(raw["products"]), message=raw["message"], citation=raw["citation"],
        pattern=compile_(raw.get("pattern")), when=compile_(raw.get("when")),
        statement=normalize(statement).bare if statement else "",
        require=tuple(compile_(p) for p in raw.get("require", ())),
        allow=compile_(raw.get("allow")), skip=compile_(raw.get("skip")),
        skip_before=compile_(raw.get("skip_before")), skip_window=raw.get("skip_window", 0),
        neg=raw.get("neg", False), edu=raw.get("edu", True),
        in_general=raw.get("in_general", True),
        unless_all=tuple(compile_(p) for p in raw.get("unless_all", ())),
        severity_by_product=dict(raw.get("severity_by_product", {})),
        product_when={k: compile_(v) for k, v in raw.get("product_when", {}).items()},
    )


@cache
def load_rules(path: Path = RULES_PATH) -> RuleSet:
    """Read and compile the rules file once per process.

    :param path: TOML rules file (default ``app/content/compliance_rules.toml``).
    :returns: the compiled :class:`RuleSet`.
    :raises ValueError: on an invalid rule (kind, severity, products, pattern/when mismatch);
        ``tomllib.TOMLDecodeError`` on bad TOML; ``re.error`` on a bad regex.
    """
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    compile_ = _compiler(data.get("macros", {}))
    guards = data["guards"]
    initialisms = data.get("initialisms", {})
    abbrs = "|".join(sorted(map(re.escape, initialisms), key=len, reverse=True))
    rules = tuple(_build_rule(raw, compile_) for raw in data["rules"])
    logger.info("loaded %s compliance rules from %s", len(rules), path)
    return RuleSet(
        rules=rules, neg=compile_(guards["neg"]), neg_window=guards["neg_window"],
        promise=compile_(guards["promise"]), edu=compile_(guards["edu"]),
        quotes=compile_(guards["quotes"]),
        pinyin_terms={t["term"]: t["rule"] for t in data.get("pinyin_terms", ())},
        initialisms=re.compile(rf"(?<![a-z0-9])(?:{abbrs})(?![a-z0-9])", re.IGNORECASE),
        initialism_terms={k.lower(): tuple(v) for k, v in initialisms.items()},
        statement_ids=frozenset(r.id for r in rules if r.kind != "forbid")
        - {r.id for r in rules if r.kind == "forbid"},
    )


def _applies(rule: Rule, product: str | None, norm: Normalized) -> bool:
    if "all" in rule.products:
        return True
    if product is None:
        return rule.kind == "forbid"
    if product == "general":
        return rule.kind == "forbid" and rule.in_general
    if product in rule.products:
        return True
    cond = rule.product_when.get(product)
    return bool(cond and cond.search(norm.text))


@lru_cache(maxsize=8)
def _stops(text: str) -> list[int]:
    """Positions of sentence terminators (。!?; and line breaks) in ``text``."""
    return [m.start() for m in TERMINATORS.finditer(text)]


def _sentence(text: str, a: int, b: int) -> tuple[int, int]:
    """Bounds of the sentence around ``[a, b)``."""
    stops = _stops(text)
    i, j = bisect_left(stops, a), bisect_left(stops, b)
    return (stops[i - 1] + 1 if i else 0), (stops[j] if j < len(stops) else len(text))


def _skipped(rule: Rule, text: str, a: int, b: int) -> bool:
    """True when the rule's allow/skip/skip_before context cancels the hit ``[a, b)``."""
    if rule.allow:
        window = rule.allow.finditer(text, max(0, a - _ALLOW_REACH), b + _ALLOW_REACH)
        if any(m.start() <= a and b <= m.end() for m in window):
            return True
    if rule.skip:
        s0, s1 = _sentence(text, a, b)
        if any(m.start() < b and a < m.end() for m in rule.skip.finditer(text, s0, s1)):
            return True
    if rule.skip_before:
        lo = max(0, a - rule.skip_window - 8)
        ends = (m.end() for m in rule.skip_before.finditer(text, lo, a))
        return any(e >= a - rule.skip_window for e in ends)
    return False


def _guarded(rs: RuleSet, rule: Rule, norm: Normalized, a: int, b: int) -> bool:
    """NEG and EDU guards on the light span ``[a, b)``; True when the hit is suppressed."""
    text = norm.text
    s0, s1 = _sentence(text, a, b)
    if rule.neg and not rs.promise.search(_BARE.sub("", text[a:b])):
        if rs.neg.search(text[max(s0, a - rs.neg_window):b]):
            return True
    if rule.edu and rs.edu.search(text, s0, s1):
        quotes = rs.quotes.finditer(text, s0, s1)
        return any(m.start() <= a and b <= m.end() for m in quotes)
    return False


def _pattern_hits(rule: Rule, norm: Normalized) -> set[tuple[int, int]]:
    """Light spans of the rule's pattern in the light and the compact text."""
    spans = set()
    for compact, text in ((False, norm.text), (True, norm.compact)):
        for m in rule.pattern.finditer(text):
            a, b = m.span()
            if a == b or _skipped(rule, text, a, b):
                continue
            spans.add(norm.light_span(a, b) if compact else (a, b))
    return spans


def _finding(rule: Rule, product: str | None, norm: Normalized, a: int, b: int,
             *, severity: str | None = None, message: str | None = None) -> Finding:
    start, end = norm.original_span(a, b)
    return Finding(rule.id, severity or rule.severity_by_product.get(product, rule.severity),
                   start, end, message or rule.message, rule.citation)


def _forbid(rs: RuleSet, rule: Rule, product: str | None, norm: Normalized) -> list[Finding]:
    if rule.unless_all and all(p.search(norm.text) for p in rule.unless_all):
        return []
    return [_finding(rule, product, norm, a, b) for a, b in sorted(_pattern_hits(rule, norm))
            if not _guarded(rs, rule, norm, a, b)]


def _evasion_hits(rs: RuleSet, norm: Normalized) -> Iterable[tuple[str, int, int, str, str]]:
    """``(rule_id, light_start, light_end, term, severity)`` for pinyin, homophones, initialisms."""
    for ca, cb, term, has_latin in pinyin_hits(norm, tuple(rs.pinyin_terms)):
        a, b = norm.light_span(ca, cb)
        yield rs.pinyin_terms[term], a, b, term, "block" if has_latin else "warn"
    for m in rs.initialisms.finditer(norm.text):
        term, rule_id = rs.initialism_terms[m.group().lower()]
        yield rule_id, m.start(), m.end(), term, "warn"


def _evasions(rs: RuleSet, product: str | None, norm: Normalized) -> list[Finding]:
    out = []
    for rule_id, a, b, term, severity in _evasion_hits(rs, norm):
        rule = rs.base_rule(rule_id)
        if not _applies(rule, product, norm) or _guarded(rs, rule, norm, a, b):
            continue
        found = norm.original[slice(*norm.original_span(a, b))][:20]
        message = f"疑似变体写法“{found}”（{term}）：{rule.message}"
        out.append(_finding(rule, product, norm, a, b, severity=severity, message=message))
    return out


def _require(rule: Rule, product: str | None, norm: Normalized) -> list[Finding]:
    trigger = None
    if rule.kind == "require_when":
        trigger = rule.when.search(norm.text)
        if trigger is None:
            return []
    if (not rule.statement or rule.statement in norm.bare) and all(
            p.search(norm.text) for p in rule.require):
        return []
    a, b = trigger.span() if trigger else (len(norm.text), len(norm.text))
    return [_finding(rule, product, norm, a, b)]


def _merge(findings: list[Finding], statement_ids: frozenset[str]) -> list[Finding]:
    """Per rule keep the most severe, earliest, longest of overlapping hits (one per REQ rule)."""
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        groups[f.rule_id].append(f)
    kept: list[Finding] = []
    for rule_id, group in groups.items():
        group.sort(key=lambda f: (_SEVERITY_RANK[f.severity], f.start, f.start - f.end, f.message))
        if rule_id in statement_ids:
            kept.append(group[0])
            continue
        starts: list[int] = []
        ends: list[int] = []
        for f in group:
            i = bisect_right(starts, f.start)
            if (i and ends[i - 1] > f.start) or (i < len(starts) and starts[i] < f.end):
                continue
            starts.insert(i, f.start)
            ends.insert(i, f.end)
            kept.append(f)
    return sorted(kept, key=lambda f: (f.start, f.end, f.rule_id, _SEVERITY_RANK[f.severity]))


def check_text(text: str, product: str | None = None, *,
               kinds: Iterable[str] | None = None) -> list[Finding]:
    """Check one text (template body or rendered post) against the compliance rules.

    :param text: the original text; offsets in the findings index into it (code points).
    :param product: product category (``fund``, ``wealth``, ``gold``, ``fx``, ``insurance``,
        ``deposit``, ``loan``, ``general``; a ``ProductCategory`` is accepted) or ``None`` when
        unknown, in which case every forbidding rule applies (see module docstring).
    :param kinds: restrict to rule kinds (``forbid``, ``require``, ``require_when``); all if None.
    :returns: findings sorted by start offset, without duplicates; deterministic.
    :raises ValueError: for an unknown product or kind.
    """
    product = getattr(product, "value", product)
    if product is not None and product not in PRODUCTS:
        raise ValueError(f"unknown product category: {product!r}")
    wanted = KINDS if kinds is None else frozenset(kinds)
    if not wanted <= KINDS:
        raise ValueError(f"unknown rule kinds: {sorted(wanted - KINDS)}")
    rs, norm = load_rules(), normalize(text)
    findings: list[Finding] = []
    for rule in rs.rules:
        if rule.kind not in wanted or not _applies(rule, product, norm):
            continue
        if rule.kind == "forbid":
            findings.extend(_forbid(rs, rule, product, norm))
        else:
            findings.extend(_require(rule, product, norm))
    if "forbid" in wanted:
        findings.extend(_evasions(rs, product, norm))
    return _merge(findings, rs.statement_ids)


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that prevent approval and publication.

    :param findings: findings from :func:`check_text`.
    :returns: those with severity ``block``, in the given order.
    """
    return [f for f in findings if f.severity == "block"]
