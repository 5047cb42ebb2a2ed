"""Compliance checker for content templates and rendered posts (RULES.md, mainland China).

Rules live in ``rules.toml``, loaded and compiled once per process by
:mod:`app.compliance.rules` (:func:`load_rules`). Text is normalized by
:mod:`app.compliance.normalize` (entities, full width, zero-width, traditional characters,
homoglyphs, number words, separators inside runs) and every finding carries offsets into the
ORIGINAL text.

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

Text is normalized once and scanned once per form (:mod:`app.compliance.scan`): one
Aho–Corasick pass over the compact text for the forbidding patterns, one over the light text
for the patterns with separators and for every trigger, required-statement and condition
regex (:mod:`app.compliance.searched`), each automaton holding only what the product scope
and content kind can need; hits are merged per rule. The context guards (allow, skip,
skip_before, NEG, EDU) are in :mod:`app.compliance.guards`. ``content_kind`` narrows the
scope (:mod:`app.compliance.kinds`), ``channel`` adds the WeCom text limit and ``charts``
the DATA-02 image checks.
Pinyin, mixed-script, homophone and initialism variants (:mod:`app.compliance.pinyin_layer`) are
reported against the rule of the term they spell.

Required statements ignore punctuation and spaces. A missing unconditional statement is reported
as an empty span at the end of the text; a missing conditional one at its trigger (e.g. the
performance figure).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence

from app.compliance.charts import ChartFacts, chart_findings
from app.compliance.findings import Finding, Severity
from app.compliance.guards import guarded
from app.compliance.kinds import over_limit, rule_scope
from app.compliance.normalize import Normalized, normalize
from app.compliance.pinyin_layer import pinyin_hits
from app.compliance.rules import KINDS, PRODUCTS, Rule, RuleSet, load_rules
from app.compliance.scan import Scan

__all__ = ["blocking", "check_text"]

LENGTH_RULE_ID = "CH-LEN"
LENGTH_CITATION = "企业微信 add_msg_template text.content ≤4000 字节；add_moment_task ≤2000 字"


def _original_hits(rule: Rule, norm: Normalized) -> list[tuple[int, int]]:
    """Light spans of a rule matched on the original text (e.g. raw HTML tags)."""
    out: list[tuple[int, int]] = []
    if rule.original_first is not None and not rule.original_first.search(norm.original):
        return out
    for m in rule.pattern.finditer(norm.original):
        if m.end() > m.start():
            a = bisect_left(norm.starts, m.start())
            b = max(a + 1, bisect_left(norm.starts, m.end()))
            out.append((a, min(b, len(norm.text))))
    return out


def _finding(rule: Rule, product: str | None, norm: Normalized, a: int, b: int,
             *, severity: Severity | None = None, message: str | None = None) -> Finding:
    start, end = norm.original_span(a, b)
    return Finding(rule.id, severity or rule.severity_by_product.get(product, rule.severity),
                   start, end, message or rule.message, rule.citation)


def _forbid(scan: Scan, rule: Rule, product: str | None,
            spans: set[tuple[int, int]]) -> list[Finding]:
    rs, norm = scan.rs, scan.norm
    if not spans or (rule.unless_all and all(
            scan.exists(p) for p in rule.unless_all)):
        return []
    return [_finding(rule, product, norm, a, b) for a, b in sorted(spans)
            if not guarded(rs, rule, norm, a, b)]


def _evasion_hits(scan: Scan) -> Iterable[tuple[str, int, int, str, Severity]]:
    """``(rule_id, light_start, light_end, term, severity)`` for pinyin, homophones, initialisms."""
    rs, norm = scan.rs, scan.norm
    for ca, cb, term, has_latin in pinyin_hits(norm, tuple(rs.pinyin_terms)):
        a, b = norm.light_span(ca, cb)
        yield rs.pinyin_terms[term], a, b, term, Severity.block if has_latin else Severity.warn
    for a, b in scan.matches(rs.initialisms):
        term, rule_id = rs.initialism_terms[norm.text[a:b].lower()]
        yield rule_id, a, b, term, Severity.warn


def _evasions(scan: Scan, product: str | None) -> list[Finding]:
    rs, norm, out = scan.rs, scan.norm, []
    for rule_id, a, b, term, severity in _evasion_hits(scan):
        rule = rs.base_rule(rule_id)
        if not scan.applies(rule) or guarded(rs, rule, norm, a, b):
            continue
        found = norm.original[slice(*norm.original_span(a, b))][:20]
        message = f"疑似变体写法“{found}”（{term}）：{rule.message}"
        out.append(_finding(rule, product, norm, a, b, severity=severity, message=message))
    return out


def _require(rule: Rule, product: str | None, scan: Scan, charted: bool) -> list[Finding]:
    norm, trigger = scan.norm, None
    if rule.kind == "require_when":
        trigger = scan.search(rule.when)
        if trigger is None and not (rule.chart_when and charted):
            return []
    if (not rule.statement or norm.in_bare(rule.statement)) and all(
            scan.exists(p) for p in rule.require):
        return []
    a, b = trigger or (len(norm.text), len(norm.text))
    return [_finding(rule, product, norm, a, b)]


def _without_overlaps(group: list[Finding]) -> list[Finding]:
    """Keep, in the given order of preference, each finding that overlaps no kept one."""
    kept: list[Finding] = []
    starts: list[int] = []
    ends: list[int] = []
    for f in group:
        i = bisect_right(starts, f.start)
        if (i and ends[i - 1] > f.start) or (i < len(starts) and starts[i] < f.end):
            continue
        starts.insert(i, f.start)
        ends.insert(i, f.end)
        kept.append(f)
    return kept


def _merge(findings: list[Finding], statement_ids: frozenset[str]) -> list[Finding]:
    """Per rule keep the most severe, earliest, longest of overlapping hits (one per REQ rule)."""
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        groups[f.rule_id].append(f)
    kept: list[Finding] = []
    for rule_id, group in groups.items():
        group.sort(key=lambda f: (f.severity.rank, f.start, f.start - f.end, f.message))
        kept.extend(group[:1] if rule_id in statement_ids else _without_overlaps(group))
    return sorted(kept, key=lambda f: (f.start, f.end, f.rule_id, f.severity.rank))


def _checked_args(product, kinds: Iterable[str] | None) -> tuple[str | None, frozenset[str]]:
    """``(product value, wanted kinds)``; raises ``ValueError`` for an unknown one."""
    product = getattr(product, "value", product)
    if product is not None and product not in PRODUCTS:
        raise ValueError(f"unknown product category: {product!r}")
    wanted = KINDS if kinds is None else frozenset(kinds)
    if not wanted <= KINDS:
        raise ValueError(f"unknown rule kinds: {sorted(wanted - KINDS)}")
    return product, wanted


def _forbidden(scan: Scan, scope: str | None) -> list[Finding]:
    """Findings of every applicable forbidding rule: automaton, original-text rules, evasions."""
    rs, findings = scan.rs, []
    spans: dict[int, set[tuple[int, int]]] = {}
    rules: dict[int, Rule] = {}
    for number in scan.numbers():  # entries of applicable rules only
        rule = rs.indexed[number]
        rules[id(rule)] = rule
        spans.setdefault(id(rule), set()).update(scan.forbid_spans(number, rule))
    for key, rule in rules.items():
        findings.extend(_forbid(scan, rule, scope, spans[key]))
    for rule in scan.candidates:
        if rule.original and scan.eligible(rule):
            findings.extend(_forbid(scan, rule, scope, set(_original_hits(rule, scan.norm))))
    findings.extend(_evasions(scan, scope))
    return findings


def check_text(text: str, product: str | None = None, *,
               kinds: Iterable[str] | None = None, content_kind: str | None = None,
               channel: str | None = None, charts: Sequence[ChartFacts] = (),
               rules: RuleSet | None = None) -> list[Finding]:
    """Check one text (template body or rendered post) against the compliance rules.

    :param text: the original text; offsets in the findings index into it (code points).
    :param product: product category (``fund``, ``wealth``, ``gold``, ``fx``, ``insurance``,
        ``deposit``, ``loan``, ``general``; an enum member with such a ``value`` is accepted)
        or ``None`` when unknown, in which case every forbidding rule applies (see module
        docstring).
    :param kinds: restrict to rule kinds (``forbid``, ``require``, ``require_when``); all if None.
    :param content_kind: the template's content kind (:mod:`app.compliance.kinds`): decides
        the rule scope together with ``product``; ``None``: ``product`` alone decides.
    :param channel: ``mass_message``, ``customer_group`` or ``moments_post``: the channel's
        text limit is checked (``CH-LEN``, block, offsets at the end of the text).
    :param charts: the chart images sent with the text (DATA-02 per image, no offsets; a chart
        also triggers DATA-04).
    :param rules: a rule set from :func:`app.compliance.load_rules` (e.g. a bank's own file
        with more phrases); the shipped ``rules.toml`` when ``None``.
    :returns: :class:`Finding` objects sorted by start offset (chart findings, without offsets,
        first), without duplicates; deterministic.
    :raises ValueError: for an unknown product, kind, content kind or channel, or a promotion
        without a product category.
    """
    product, wanted = _checked_args(product, kinds)
    scope = rule_scope(getattr(content_kind, "value", content_kind), product)
    content_kind = getattr(content_kind, "value", content_kind)
    rs = rules or load_rules()
    scan = Scan(rs, normalize(text), scope, content_kind)
    findings: list[Finding] = []
    if "forbid" in wanted:
        findings.extend(_forbidden(scan, scope))
    for rule in scan.candidates:
        if rule.kind != "forbid" and rule.kind in wanted and scan.eligible(rule):
            findings.extend(_require(rule, scope, scan, bool(charts)))
    findings = _merge(findings, rs.statement_ids)
    channel = getattr(channel, "value", channel)
    reason = over_limit(text, channel) if channel is not None else None
    if reason:
        findings.append(Finding(LENGTH_RULE_ID, Severity.block, len(text), len(text), reason,
                                LENGTH_CITATION))
    return [f for chart in charts for f in chart_findings(chart, scope)] + findings


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that prevent approval and publication.

    :param findings: findings from :func:`check_text`.
    :returns: those with severity :attr:`Severity.block`, in the given order.
    """
    return [f for f in findings if f.is_blocking]
