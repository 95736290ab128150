"""Suggested passages: the sentences of a source that look like facts and that no quote covers yet.

Suggestions are computed when the source page is shown and never saved. They point the editor at what an
article states (money amounts, dates, capacities and other quantities, durations, shares, and the names of known
companies, commodities and countries); the editor decides what, if anything, each one supports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django_countries import countries

from deals import models

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_NUMBER = r"\d[\d,]*(?:\.\d+)?"
_SCALE = r"(?:\s?(?:million|billion|trillion|bn|mn|m|k)\b)?"
# Each pattern names the kind of fact it finds; the order is the order reasons are listed in.
_FACT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "money",
        re.compile(
            rf"(?:(?:US|A|C|NZ)?\$|€|£|¥|\b(?:USD|EUR|GBP|AUD|CAD|JPY|CNY)\s?){_NUMBER}{_SCALE}"
            rf"|\b{_NUMBER}{_SCALE}\s(?:dollars|euros|pounds sterling|yuan|yen)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "date",
        re.compile(rf"\b(?:\d{{1,2}}\s)?(?:{_MONTHS})(?:\s\d{{1,2}})?(?:,?\s(?:19|20)\d{{2}})?\b|\b(?:19|20)\d{{2}}\b"),
    ),
    (
        "quantity",
        re.compile(
            rf"\b{_NUMBER}{_SCALE}\s?(?:metric\s)?(?:tonnes?|tons?|t/y|tpa|kt|kilotonnes?|kg|kilograms?|pounds|lbs?|"
            r"ounces|oz|MW|GW|MWh|GWh|magnets)\b",
            re.IGNORECASE,
        ),
    ),
    ("share", re.compile(rf"\b{_NUMBER}\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)),
    (
        "duration",
        re.compile(
            r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty)"
            r"[- ](?:years?|months?)\b",
            re.IGNORECASE,
        ),
    ),
]
# A sentence ends at ., ! or ? followed by white space, or at a line break (headlines and list items have no stop).
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"'(])|\n+")


@dataclass(frozen=True)
class FactSuggestion:
    """A sentence of a source that looks like it states a fact: its offsets, its text and why it was picked
    (e.g. ``["money: $110", "company: Orion Rare Earths"]``)."""

    start: int
    end: int
    text: str
    reasons: tuple[str, ...]


def _sentences(text: str) -> list[tuple[int, int]]:
    spans = []
    position = 0
    for match in [*_SENTENCE_END_RE.finditer(text), None]:
        end = match.start() if match is not None else len(text)
        start = position
        while start < end and text[start].isspace():
            start += 1
        stop = end
        while stop > start and text[stop - 1].isspace():
            stop -= 1
        if stop > start:
            spans.append((start, stop))
        position = match.end() if match is not None else len(text)
    return spans


def _name_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Known names as whole-word patterns: companies (with aliases), commodities and countries."""
    groups: dict[str, set[str]] = {"company": set(), "commodity": set(), "country": set()}
    for name, aliases in models.Company.objects.values_list("name", "aliases"):
        groups["company"].add(name)
        groups["company"].update(a for a in aliases or [] if isinstance(a, str))
    groups["commodity"].update(models.Commodity.objects.values_list("name", flat=True))
    groups["country"].update(name for _, name in countries)
    patterns = []
    for kind, names in groups.items():
        # Longest first, so "Orion Rare Earths" wins over "Orion"; names under three letters match too much.
        wanted = sorted((n.strip() for n in names if len(n.strip()) >= 3), key=len, reverse=True)
        if wanted:
            alternatives = "|".join(re.escape(name) for name in wanted)
            patterns.append((kind, re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)))
    return patterns


def source_fact_suggestions(*, source: models.Source) -> list[FactSuggestion]:
    """The sentences of ``source`` that look like facts and overlap no evidence quote yet, in text order.

    Three queries (the source's quote spans, the company names, the commodity names), whatever the length.
    A sentence counts as quoted as soon as any quote overlaps it: the editor has already worked there.
    """
    text = source.text
    quoted = list(source.evidence.values_list("start", "end"))
    patterns = _FACT_PATTERNS + _name_patterns()
    suggestions = []
    for start, end in _sentences(text):
        if any(q_start < end and start < q_end for q_start, q_end in quoted):
            continue
        sentence = text[start:end]
        reasons: list[str] = []
        for kind, pattern in patterns:
            for match in pattern.finditer(sentence):
                reason = f"{kind}: {match.group().strip()}"
                if reason not in reasons:
                    reasons.append(reason)
        if reasons:
            suggestions.append(FactSuggestion(start=start, end=end, text=sentence, reasons=tuple(reasons)))
    return suggestions
