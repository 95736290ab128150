"""Search over the stored search documents (:mod:`deals.search_index`), with one set of rules on both databases:

- the query is split into *terms*: maximal runs of letters and digits (anything else separates terms);
- a record matches when **every** term matches a whole word of its searched text after both are stemmed by the
  Porter algorithm, case-insensitively: ``magnets`` finds what ``magnet`` finds, ``lith`` finds nothing (no
  prefixes), and there are no stop words (``the`` is a word like any other);
- matches are ranked by relevance (a term in a name or title weighs more than one in a summary, which weighs more
  than one in a quote or a linked commodity's name): PostgreSQL's ``ts_rank`` of the weighted ``tsvector``, SQLite's
  ``bm25()`` of the FTS5 table, negated so that on both databases a *higher* ``search_rank`` is better. Ties are
  broken by slug. The two scores are not comparable with each other, only the orders they give.

Each searched queryset joins its kind's search table once (``QuerySet.extra(tables=…)``: the table is not a model)
and carries the ``search_rank`` annotation; it must not itself be used as a subquery of another query, because the
join condition names the search table directly.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, FloatField, QuerySet
from django.db.models.expressions import RawSQL

from deals.models import Commodity, Company, Deal, Facility, Source
from deals.search_index import PG_CONFIG, key_column, table_name

# A search term is a run of letters and digits (Unicode); anything else separates terms.
_TERM_RE = re.compile(r"[^\W_]+", re.UNICODE)
_KINDS: dict[type, str] = {
    Deal: "deal",
    Company: "company",
    Facility: "facility",
    Source: "source",
    Commodity: "commodity",
}
# bm25() weights of the FTS5 columns a, b, c (names, descriptions, quotes), in the spirit of ts_rank's defaults.
_BM25 = "10.0, 4.0, 1.0"
# Markers around matched words in fragments: private-use characters no text of the dataset contains, so that the
# fragment can be HTML-escaped first and the markers turned into <mark> tags after.
_START, _STOP = "\ue000", "\ue001"
_LT, _GT = "\ue002", "\ue003"


def search_terms(*, q: str) -> list[str]:
    """Split a search query into lower-cased terms (runs of letters and digits), without duplicates."""
    seen: dict[str, None] = {}
    for term in _TERM_RE.findall(q.lower()):
        seen.setdefault(term, None)
    return list(seen)


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _match_param(terms: list[str]) -> str:
    """The query parameter: PostgreSQL's plainto_tsquery text, or an FTS5 query of quoted terms (AND-ed)."""
    if _is_postgresql():
        # Short words ending in "s" are stored with a "0" appended (deals.search_index.PG_SHORT_S_WORD).
        return " ".join(f"{term}0" if len(term) <= 2 and term.endswith("s") else term for term in terms)
    # Each term is letters and digits only; quoting keeps FTS5 from reading a term as an operator (AND, NOT, NEAR).
    return " ".join(f'"{term}"' for term in terms)


def _match_sql(table: str) -> str:
    if _is_postgresql():
        return f"{table}.document @@ plainto_tsquery('{PG_CONFIG}', %s)"
    return f"{table} MATCH %s"


def _key_sql(table: str) -> str:
    """The document's key in a join condition. On SQLite a unary ``+``: without it the planner may scan the
    records and run the full-text query once per record (seen on counts: 40 times slower at 5,000 deals)."""
    if _is_postgresql():
        return f"{table}.record_id"
    return f"+{table}.rowid"


def _rank_sql(table: str) -> str:
    if _is_postgresql():
        return f"ts_rank({table}.document, plainto_tsquery('{PG_CONFIG}', %s))"
    return f"-bm25({table}, {_BM25})"


def records_search(*, queryset: QuerySet, q: str) -> QuerySet:
    """Filter ``queryset`` to the records matching ``q``, annotated with ``search_rank`` and ordered by
    ``-search_rank, slug`` (see the module docstring). The caller checks that ``q`` has at least one term; its
    length (at most 200 characters) bounds their number."""
    table = table_name(_KINDS[queryset.model])
    param = _match_param(search_terms(q=q))
    rank_params = [param] if _is_postgresql() else []
    return (
        queryset.extra(tables=[table])
        # The join: the record's id (a real column reference, relabelled with the query) equals the document's key.
        .filter(pk=RawSQL(_key_sql(table), []))
        .filter(RawSQL(_match_sql(table), [param], output_field=BooleanField()))
        .annotate(search_rank=RawSQL(_rank_sql(table), rank_params, output_field=FloatField()))
        .order_by("-search_rank", "slug")
    )


@dataclass(frozen=True)
class SearchHit:
    """One record found by :func:`search_hits`: its kind, slug, name or title, rank and highlighted fragment."""

    type: str
    slug: str
    name: str
    rank: float
    fragment: str


# The kinds /api/v1/search/ returns, each with its record table, its name column and whether it is published.
SEARCH_TYPES: dict[str, tuple[str, str, bool]] = {
    "deal": ("deals_deal", "title", True),
    "company": ("deals_company", "name", True),
    "facility": ("deals_facility", "name", True),
    "commodity": ("deals_commodity", "name", False),
}


def _hits_union(*, types: list[str], param: str) -> tuple[str, list]:
    """SQL of every published match of ``types``: (type, id, slug, name, rank), and its parameters."""
    branches, params = [], []
    for kind in types:
        record_table, name_column, publishable = SEARCH_TYPES[kind]
        table = table_name(kind)
        published = " AND r.publication_status = 'published'" if publishable else ""
        branches.append(
            f"SELECT '{kind}' AS type, r.id AS id, r.slug AS slug, r.{name_column} AS name, "
            f"{_rank_sql(table)} AS rank FROM {table} JOIN {record_table} r ON r.id = {_key_sql(table)} "
            f"WHERE {_match_sql(table)}{published}"
        )
        params += [param, param] if _is_postgresql() else [param]
    return " UNION ALL ".join(branches), params


def search_hits_count(*, q: str, types: list[str]) -> int:
    """How many published records of ``types`` match ``q`` (one query)."""
    union, params = _hits_union(types=types, param=_match_param(search_terms(q=q)))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({union}) hits", params)
        return cursor.fetchone()[0]


def search_hits(*, q: str, types: list[str], offset: int, limit: int) -> list[SearchHit]:
    """The published records of ``types`` matching ``q``, best first (ties by slug, then type), from ``offset``,
    at most ``limit``, each with a short fragment of its text: HTML-escaped, the matched words in ``<mark>``.

    Two queries: the page of hits, then the fragments of those hits only (highlighting costs per record).
    """
    param = _match_param(search_terms(q=q))
    union, params = _hits_union(types=types, param=param)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT type, id, slug, name, rank FROM ({union}) hits ORDER BY rank DESC, slug, type LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        rows = cursor.fetchall()
        fragments = _fragments(cursor, rows=rows, param=param)
    return [
        SearchHit(type=kind, slug=slug, name=name, rank=float(rank), fragment=fragments.get((kind, pk), ""))
        for kind, pk, slug, name, rank in rows
    ]


def _fragments(cursor, *, rows, param: str) -> dict[tuple[str, int], str]:
    """Highlighted fragments of the hits ``rows``, keyed by (type, id): PostgreSQL's ts_headline over the
    document's text, SQLite's FTS5 snippet() of its best column; both about 16 to 20 words around the matches."""
    ids: dict[str, list[int]] = {}
    for kind, pk, *_ in rows:
        ids.setdefault(kind, []).append(int(pk))
    if not ids:
        return {}
    branches, params = [], []
    key = key_column(connection.vendor)
    for kind, kind_ids in ids.items():
        table = table_name(kind)
        listed = ", ".join(str(pk) for pk in kind_ids)  # integers from the database, not client input
        if _is_postgresql():
            options = f"StartSel={_START}, StopSel={_STOP}, MaxFragments=1, MaxWords=20, MinWords=8"
            branches.append(
                # ts_headline drops what its parser takes for HTML tags ("<b>" in a title): angle brackets are
                # swapped for private-use characters first, and turned back (escaped) by _marked().
                f"SELECT '{kind}', record_id, ts_headline('{PG_CONFIG}', "
                f"translate(a || ' ' || b || ' ' || c, '<>', '{_LT}{_GT}'), "
                f"plainto_tsquery('{PG_CONFIG}', %s), %s) FROM {table} WHERE record_id IN ({listed})"
            )
            params += [param, options]
        else:
            # The unary + keeps FTS5 from looking each id up with its own run of the full-text query.
            branches.append(
                f"SELECT '{kind}', {key}, snippet({table}, -1, %s, %s, '…', 16) FROM {table} "
                f"WHERE {table} MATCH %s AND +{key} IN ({listed})"
            )
            params += [_START, _STOP, param]
    cursor.execute(" UNION ALL ".join(branches), params)
    return {(kind, int(pk)): _marked(text or "") for kind, pk, text in cursor.fetchall()}


def _marked(fragment: str) -> str:
    escaped = html.escape(" ".join(fragment.split()), quote=False)
    escaped = escaped.replace(_LT, "&lt;").replace(_GT, "&gt;")
    return escaped.replace(_START, "<mark>").replace(_STOP, "</mark>")
