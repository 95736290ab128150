"""Search (:func:`search_terms`, :func:`records_search`) has one set of matching semantics on both databases:

- the query is split into *terms*: maximal runs of letters and digits (anything else separates terms);
- a record matches when **every** term equals, case-insensitively, a whole *word* of at least one of the
  record's searched fields (no stemming, no prefixes: ``magnet`` does not match ``magnets``);
- PostgreSQL does this with full-text search and ranks the matches with ``ts_rank`` (title/name weigh most,
  then summaries/descriptions, then evidence quotes). Its text parser has word rules of its own (it keeps
  ``U.S.`` as one token ``u.s`` and ``3.5`` as one number), so every searched text first has each run of
  non-alphanumerics replaced by a space (``regexp_replace(…, '[^[:alnum:]]+', ' ', 'g')``): what reaches
  ``to_tsvector('simple', …)`` is exactly the words of the rule above, and the query is the same terms AND-ed;
- SQLite uses case-insensitive whole-word regular expressions (Python's ``re``) and does not rank. Aliases are
  matched item by item through ``json_each``, because SQLite stores non-ASCII characters of JSON \\u-escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    BooleanField,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce

from deals.models import (
    Commodity,
    Company,
    Deal,
    Evidence,
    Facility,
    PublicationStatus,
    Source,
)
from deals.selectors.records import evidence_public

_PUBLISHED = PublicationStatus.PUBLISHED

# A search term is a run of letters and digits (Unicode); anything else separates terms. PostgreSQL gets the same
# words because _words() turns every other run of characters into a space before its parser sees the text.
_TERM_RE = re.compile(r"[^\W_]+", re.UNICODE)


def search_terms(*, q: str) -> list[str]:
    """Split a search query into lower-cased terms (runs of letters and digits), without duplicates."""
    seen: dict[str, None] = {}
    for term in _TERM_RE.findall(q.lower()):
        seen.setdefault(term, None)
    return list(seen)


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _words(expression) -> Func:
    """PostgreSQL: ``expression`` with every run of non-alphanumeric characters replaced by one space.

    The full-text parser would otherwise keep ``U.S.``, ``3.5``, ``example.org`` or ``e-mail`` as tokens of their
    own, which SQLite's rule (and the query's terms) split into words; see the module docstring.
    """
    return Func(
        expression,
        Value("[^[:alnum:]]+"),
        Value(" "),
        Value("g"),
        function="regexp_replace",
        output_field=TextField(),
    )


class _JsonArrayText(Func):
    """PostgreSQL: the string items of a JSON array column joined by spaces (the aliases' text, unescaped);
    empty for anything that is not an array."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            "COALESCE((SELECT string_agg(item, ' ') FROM jsonb_array_elements_text("
            f"CASE WHEN jsonb_typeof({sql}) = 'array' THEN {sql} ELSE '[]'::jsonb END) AS item), '')",
            (*params, *params),
        )


class _JsonArrayItemMatches(Func):
    """SQLite: true when an item of a JSON array column matches a regular expression.

    ``json_each`` yields the decoded items; the stored JSON text cannot be searched directly because SQLite keeps
    non-ASCII characters \\u-escaped there (``Société`` is stored as ``Soci\\u00e9t\\u00e9``).
    """

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        pattern_sql, pattern_params = compiler.compile(self.source_expressions[1])
        sql = f"EXISTS (SELECT 1 FROM json_each({column_sql}) AS item WHERE item.value REGEXP {pattern_sql})"
        return sql, (*column_params, *pattern_params)


def _evidence_quotes(*, target: str):
    """All evidence quotes of the outer record, joined by newlines (PostgreSQL only: uses STRING_AGG)."""
    from django.contrib.postgres.aggregates import StringAgg

    # A source is searched on the quotes of published records only (those are what its page shows).
    evidence = evidence_public() if target == "source" else Evidence.objects.all()
    quotes = (
        evidence.filter(**{target: OuterRef("pk")})
        .order_by()
        .values(target)
        .annotate(text=StringAgg("quote", delimiter="\n"))
        .values("text")
    )
    return Coalesce(Subquery(quotes, output_field=TextField()), Value("", output_field=TextField()))


@dataclass(frozen=True)
class _SearchSpec:
    """Which text a model is searched on: weighted own fields plus, optionally, evidence quotes."""

    fields_a: tuple[str, ...]
    fields_b: tuple[str, ...] = ()
    json_fields_a: tuple[str, ...] = ()
    evidence_target: str | None = None
    evidence_source: bool = False


_SEARCH_SPECS: dict[type, _SearchSpec] = {
    Deal: _SearchSpec(fields_a=("title",), fields_b=("summary",), evidence_target="deal"),
    Company: _SearchSpec(
        fields_a=("name",), fields_b=("description",), json_fields_a=("aliases",), evidence_target="company"
    ),
    Facility: _SearchSpec(fields_a=("name",), fields_b=("description",), evidence_target="facility"),
    Source: _SearchSpec(fields_a=("title",), fields_b=("publisher",), evidence_source=True),
    Commodity: _SearchSpec(fields_a=("name", "symbol"), fields_b=("description",)),
}


def _search_postgresql(*, queryset: QuerySet, spec: _SearchSpec, terms: list[str]) -> QuerySet:
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    vector = None

    def add(expression, weight: str):
        nonlocal vector
        part = SearchVector(expression, weight=weight, config="simple")
        vector = part if vector is None else vector + part

    for name in spec.fields_a:
        add(_words(F(name)), "A")
    for name in spec.json_fields_a:
        add(_words(_JsonArrayText(F(name))), "A")
    for name in spec.fields_b:
        add(_words(F(name)), "B")
    if spec.evidence_target:
        add(_words(_evidence_quotes(target=spec.evidence_target)), "C")
    if spec.evidence_source:
        add(_words(_evidence_quotes(target="source")), "C")
    # The terms contain letters and digits only, so the raw tsquery "a & b" cannot be malformed.
    query = SearchQuery(" & ".join(terms), search_type="raw", config="simple")
    return (
        queryset.annotate(search_vector=vector)
        .filter(search_vector=query)
        .annotate(search_rank=SearchRank(F("search_vector"), query))
        .order_by("-search_rank", "slug")
    )


def _search_fallback(*, queryset: QuerySet, spec: _SearchSpec, terms: list[str]) -> QuerySet:
    """Whole-word, case-insensitive matching with Python regular expressions (SQLite's REGEXP)."""
    for term in terms:
        # Python's re (SQLite's REGEXP): the term, not preceded or followed by a letter or digit.
        pattern = r"(?<![^\W_])" + re.escape(term) + r"(?![^\W_])"
        match = Q()
        for name in (*spec.fields_a, *spec.fields_b):
            match |= Q(**{f"{name}__iregex": pattern})
        for name in spec.json_fields_a:
            match |= Q(_JsonArrayItemMatches(F(name), Value("(?i)" + pattern)))
        if spec.evidence_target:
            match |= Q(pk__in=Evidence.objects.filter(quote__iregex=pattern).values(f"{spec.evidence_target}_id"))
        if spec.evidence_source:
            match |= Q(pk__in=evidence_public().filter(quote__iregex=pattern).values("source_id"))
        queryset = queryset.filter(match)
    return queryset


def records_search(*, queryset: QuerySet, q: str) -> QuerySet:
    """Filter ``queryset`` to the records matching the search query ``q`` (see the module docstring).

    On PostgreSQL the result is ordered by rank (best first, ties by slug) and carries ``search_rank``.
    The caller checks that ``q`` has at least one term; its length (at most 200 characters) bounds their number.
    """
    spec = _SEARCH_SPECS[queryset.model]
    terms = search_terms(q=q)
    if _is_postgresql():
        return _search_postgresql(queryset=queryset, spec=spec, terms=terms)
    return _search_fallback(queryset=queryset, spec=spec, terms=terms)
