"""Loading, validating and compiling the compliance rules (``rules.toml``).

The rules file lives next to this module and is read and compiled once per process
(:func:`load_rules`), never per call. Macros (``{NAME}``) are expanded, a ``.{m,n}`` gap never
crosses a sentence terminator, Latin patterns match case-insensitively, and every regex gets a
first-character gate (:mod:`app.compliance.regex_gate`). Statements are stored normalized and bare
(without separators) so required-statement checks ignore punctuation and spaces.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from app.compliance.findings import Severity
from app.compliance.literals import literals, top_level_branches
from app.compliance.normalize import normalize
from app.compliance.phrase_index import Entry, PhraseIndex
from app.compliance.regex_gate import first_chars, gated
from app.compliance.searched import searched_entries

logger = logging.getLogger(__name__)

RULES_PATH = Path(__file__).with_name("rules.toml")
PRODUCTS = frozenset({"general", "fund", "wealth", "gold", "fx", "insurance", "deposit", "loan"})
KINDS = frozenset({"forbid", "require", "require_when"})
_SEVERITIES = frozenset(s.value for s in Severity)
_GAP = re.compile(r"(?<!\\)\.(?=\{\d*,?\d*\})")
_MACRO = re.compile(r"\{([A-Z_]+)\}")
# A pattern that can match a separator (space, colon, dot, punctuation) is also run on the light
# text, where separators are kept.
_SEPARATOR = re.compile(r"\\s|\\[.()]|\[-|[:：,，、/～~—–]")
_SYNTAX = re.compile(r"\{\d*,?\d*\}|\(\?(?:[:=!]|<[=!])")

Compile = Callable[[str | None], re.Pattern | None]


@dataclass(frozen=True)
class Rule:
    """A compiled rule from ``rules.toml`` (see the file header for the keys)."""

    id: str
    kind: str
    severity: Severity
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
    severity_by_product: dict[str, Severity] = field(default_factory=dict)
    product_when: dict[str, re.Pattern] = field(default_factory=dict)
    unknown_when: re.Pattern | None = None
    original: bool = False
    original_first: re.Pattern | None = None
    chart_when: bool = False
    content_kinds: frozenset[str] = frozenset()
    entries: tuple[Entry, ...] = ()


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
    index: PhraseIndex
    indexed: tuple[Rule, ...]
    light_index: PhraseIndex
    light_numbers: tuple[int, ...]
    light_of: dict[int, int]
    searched: dict[re.Pattern, int]
    exists: dict[re.Pattern, tuple[tuple[int, ...], re.Pattern | None]]
    process: dict[str, str]
    #: (scope, content kind) → applicable index entries (``app.compliance.scan``), filled lazily.
    eligibility: dict = field(default_factory=dict, compare=False, repr=False)

    def base_rule(self, rule_id: str) -> Rule:
        """The first forbidding rule with ``rule_id`` (used by the evasion layer)."""
        return next(r for r in self.rules if r.id == rule_id and r.kind == "forbid")


def _compiler(macros: dict[str, str]) -> Compile:
    """A compile function that expands ``macros``, bounds gaps and gates the regex."""

    def expand(pattern: str) -> str:
        def sub(m: re.Match) -> str:
            name = m.group(1)
            return f"(?:{expand(macros[name])})" if name in macros else m.group(0)

        return _MACRO.sub(sub, pattern)

    def source(pattern: str) -> str:
        return _GAP.sub(r"[^。!?;\\n]", expand(pattern))

    sources: dict[re.Pattern, str] = {}

    def compile_(pattern: str | None) -> re.Pattern | None:
        if pattern is None:
            return None
        ungated = source(pattern)
        gated_source = gated(ungated)
        latin = re.search(r"[A-Za-z]", re.sub(r"\\(?:u[0-9a-fA-F]{4}|.)", "", gated_source))
        compiled = re.compile(gated_source, re.IGNORECASE if latin else 0)
        sources[compiled] = ungated
        return compiled

    compile_.source = source  # type: ignore[attr-defined]
    compile_.sources = sources  # type: ignore[attr-defined]
    return compile_


def _validate(raw: dict) -> None:
    """Raise ``ValueError`` when a raw rule's kind, severity, products or pattern/when is off."""
    products = set(raw["products"]) | set(raw.get("product_when", {}))
    severities = {raw["severity"], *raw.get("severity_by_product", {}).values()}
    if (raw["kind"] not in KINDS or not severities <= _SEVERITIES
            or not products <= PRODUCTS | {"all"}
            or ("pattern" in raw or "phrases" in raw) != (raw["kind"] == "forbid")
            or ("when" in raw) != (raw["kind"] == "require_when")):
        raise ValueError(f"rule {raw['id']}: bad kind, severity, products or pattern/when")


def _entries(pattern: str, compile_: Compile) -> tuple[Entry, ...]:
    """Automaton entries of a forbidding pattern: one for a phrase list, else one per branch.

    Each top-level alternative of a real pattern gets its own heads and required phrases, so a
    candidate is confirmed only by the alternative it can start, near a phrase it needs.
    """
    source = compile_.source(pattern)
    whole = literals(source)
    if whole.phrases:
        return (Entry(compile_(pattern), whole),)
    return tuple(Entry(compile_(branch), literals(compile_.source(branch)))
                 for branch in top_level_branches(source))


def _first_class(pattern: str, compile_: Compile) -> re.Pattern | None:
    """The class of first characters of ``pattern`` (case-insensitive like the pattern)."""
    compiled = compile_(pattern)
    first = first_chars(compile_.source(pattern))
    return re.compile(first, compiled.flags) if first and compiled else None


def _build_rule(raw: dict, compile_: Compile) -> Rule:
    """Validate and compile one ``[[rules]]`` table."""
    _validate(raw)
    statement = raw.get("statement", "")
    pattern = raw.get("pattern")
    if "phrases" in raw:  # a plain phrase list, written as the text it matches
        pattern = "|".join(re.escape(normalize(p).text) for p in raw["phrases"] if p.strip())
    entries = _entries(pattern, compile_) if pattern and not raw.get("original") else ()
    return Rule(
        id=raw["id"], kind=raw["kind"], severity=Severity(raw["severity"]),
        products=frozenset(raw["products"]), message=raw["message"], citation=raw["citation"],
        pattern=compile_(pattern), when=compile_(raw.get("when")),
        statement=normalize(statement).bare if statement else "",
        require=tuple(compile_(p) for p in raw.get("require", ())),
        allow=compile_(raw.get("allow")), skip=compile_(raw.get("skip")),
        skip_before=compile_(raw.get("skip_before")), skip_window=raw.get("skip_window", 0),
        neg=raw.get("neg", False), edu=raw.get("edu", True),
        in_general=raw.get("in_general", True),
        unless_all=tuple(compile_(p) for p in raw.get("unless_all", ())),
        severity_by_product={product: Severity(value) for product, value
                             in raw.get("severity_by_product", {}).items()},
        product_when={k: compile_(v) for k, v in raw.get("product_when", {}).items()},
        unknown_when=compile_(raw.get("unknown_when")), original=raw.get("original", False),
        original_first=_first_class(pattern, compile_) if raw.get("original") else None,
        chart_when=raw.get("chart_when", False),
        content_kinds=frozenset(raw.get("content_kinds", ())),
        entries=entries,
    )


@cache
def load_rules(path: Path = RULES_PATH) -> RuleSet:
    """Read and compile the rules file once per process.

    :param path: TOML rules file (default ``app/compliance/rules.toml``).
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
    indexed = tuple(r for r in rules for _ in r.entries)
    entries = [e for r in rules for e in r.entries]
    index = PhraseIndex(entries)
    light_numbers = tuple(n for n, e in enumerate(entries)
                          if _SEPARATOR.search(_SYNTAX.sub("", e.pattern.pattern)))
    initialisms_re = re.compile(rf"(?<![a-z0-9])(?:{abbrs})(?![a-z0-9])", re.IGNORECASE)
    compile_.sources[initialisms_re] = initialisms_re.pattern
    aux = searched_entries(rules, initialisms_re, compile_.sources, len(light_numbers))
    light_index = PhraseIndex(
        [entries[n] for n in light_numbers] + list(aux.entries),
        first_only=set(range(len(light_numbers), len(light_numbers) + len(aux.entries)))
        - aux.iterated)
    logger.info("loaded %s compliance rules from %s (%s automaton keys)", len(rules), path,
                index.phrase_count)
    return RuleSet(
        rules=rules, neg=compile_(guards["neg"]), neg_window=guards["neg_window"],
        promise=compile_(guards["promise"]), edu=compile_(guards["edu"]),
        quotes=compile_(guards["quotes"]),
        pinyin_terms={t["term"]: t["rule"] for t in data.get("pinyin_terms", ())},
        initialisms=initialisms_re,
        initialism_terms={k.lower(): tuple(v) for k, v in initialisms.items()},
        statement_ids=frozenset(r.id for r in rules if r.kind != "forbid")
        - {r.id for r in rules if r.kind == "forbid"},
        index=index, indexed=indexed, light_index=light_index, light_numbers=light_numbers,
        light_of={n: k for k, n in enumerate(light_numbers)},
        searched=aux.spans, exists=aux.exists,
        process={p["id"]: p["status"] for p in data.get("process", ())},
    )
