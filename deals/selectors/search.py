"""Search over the stored search documents (:mod:`deals.search_index`), with one set of rules on both databases:

- the query is split into *terms*: maximal runs of letters and digits (anything else separates terms);
- a record matches when **every** term matches a whole word of its searched text after both are stemmed by the
  Porter algorithm, case-insensitively: ``magnets`` finds what ``magnet`` finds, ``lith`` finds nothing (no
  prefixes), and there are no stop words (``the`` is a word like any other);
- matches are ranked by relevance (a term in a name or title weighs more than one in a summary, which weighs more
  than one in a quote or a linked commodity's name): on PostgreSQL the sum over the terms of each term's ``ts_rank``
  in the weighted ``tsvector`` (a sum, so that the deals' levels of deals.search_levels rank a page without
  scoring every match: :func:`deal_search_page`), on SQLite ``bm25()`` of the FTS5 table, negated so that on both
  databases a *higher* ``search_rank`` is better. Ties are broken by id (the order the records were created in),
  on the lists; the cross-resource search breaks them by slug, then type. The two databases' scores are not
  comparable with each other, only the orders they give.

Each searched queryset joins its kind's search table once (``QuerySet.extra(tables=…)``: the table is not a model)
and carries the ``search_rank`` annotation; it must not itself be used as a subquery of another query, because the
join condition names the search table directly.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from django.db import ProgrammingError, connection
from django.db.models import BooleanField, FloatField, QuerySet
from django.db.models.expressions import RawSQL

from deals.models import Commodity, Company, Deal, Facility, PublicationStatus, Source
from deals.search_index import PG_CONFIG, key_column, table_name
from deals.search_levels import INT4_MAX, LEVELS_TABLE, deal_levels_missing, deal_levels_present

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


def _pg_words(terms: list[str]) -> list[str]:
    # Short words ending in "s" are stored with a "0" appended (deals.search_index.PG_SHORT_S_WORD).
    return [f"{term}0" if len(term) <= 2 and term.endswith("s") else term for term in terms]


def _match_param(terms: list[str]) -> str:
    """The query parameter: PostgreSQL's plainto_tsquery text, or an FTS5 query of quoted terms (AND-ed)."""
    if _is_postgresql():
        return " ".join(_pg_words(terms))
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


def _rank_sql(table: str, terms: list[str]) -> tuple[str, list[str]]:
    """The relevance of a match and its parameters: on PostgreSQL each term's ``ts_rank``, summed in the terms'
    order (as deal_search_page sums the levels' scores, so that both give the same ``real``)."""
    if _is_postgresql():
        words = _pg_words(terms)
        return " + ".join(f"ts_rank({table}.document, plainto_tsquery('{PG_CONFIG}', %s))" for _ in words), words
    return f"-bm25({table}, {_BM25})", []


def records_search(*, queryset: QuerySet, q: str) -> QuerySet:
    """Filter ``queryset`` to the records matching ``q``, annotated with ``search_rank`` and ordered by
    ``-search_rank, pk`` (see the module docstring). The caller checks that ``q`` has at least one term; its
    length (at most 200 characters) bounds their number."""
    table = table_name(_KINDS[queryset.model])
    terms = search_terms(q=q)
    param = _match_param(terms)
    rank, rank_params = _rank_sql(table, terms)
    return (
        queryset.extra(tables=[table])
        # The join: the record's id (a real column reference, relabelled with the query) equals the document's key.
        .filter(pk=RawSQL(_key_sql(table), []))
        .filter(RawSQL(_match_sql(table), [param], output_field=BooleanField()))
        .annotate(search_rank=RawSQL(rank, rank_params, output_field=FloatField()))
        .order_by("-search_rank", "pk")
    )


# deal_search_page: at most this many terms; beyond, the list ranks every match.
_LEVEL_TERMS_MAX = 8
_UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE


@dataclass(frozen=True)
class RankedPage:
    """One page of the published deals matching a ``q``, best first: how many match, and the page's ids in order."""

    count: int
    ids: list[int]


def _levels_sql(terms: int) -> str:
    """The statement of :func:`deal_search_page` for ``terms`` terms (see deals.search_levels).

    Parameters: the terms' words, offset, limit. One row: whether the levels can answer (every word is one stemmed
    word, no deal id beyond int4), the number of matches and the page's ids in order.
    """
    levels = [
        f"l{i} AS (SELECT score, ids FROM {LEVELS_TABLE} WHERE term = (SELECT lexemes[1] FROM words WHERE ord = {i}))"
        for i in range(1, terms + 1)
    ]
    # The combinations term by term, keeping only those some deal has: each published deal is in one at most, so
    # their number stays below the number of matches however many levels the words have.
    steps = ["c1 AS (SELECT score AS total, ids FROM l1)"] + [
        f"c{i} AS (SELECT total, ids FROM (SELECT c.total + l.score AS total, c.ids & l.ids AS ids "
        f"FROM c{i - 1} c, l{i} l WHERE c.ids && l.ids) x)"
        for i in range(2, terms + 1)
    ]
    return (
        "WITH words AS (SELECT w.ord, ARRAY(SELECT lexeme FROM unnest(to_tsvector"
        f"('{PG_CONFIG}', w.word))) AS lexemes FROM unnest(%(words)s::text[]) WITH ORDINALITY AS w(word, ord)), "
        + ", ".join(levels + steps)
        + f", n AS (SELECT total, ids FROM c{terms} WHERE cardinality(ids) > 0), "
        # Combinations are disjoint (a deal has one score per word); those of equal relevance merge, ids ascending.
        "g AS (SELECT total, min(ids) AS ids FROM n GROUP BY total HAVING count(*) = 1 UNION ALL "
        "SELECT n.total, sort(array_agg(x)) FROM n CROSS JOIN LATERAL unnest(n.ids) AS x "
        "WHERE n.total IN (SELECT total FROM n GROUP BY total HAVING count(*) > 1) GROUP BY n.total), "
        "k AS (SELECT total, ids, sum(cardinality(ids)) OVER (ORDER BY total DESC) - cardinality(ids) AS before "
        "FROM g) "
        "SELECT (SELECT bool_and(cardinality(lexemes) = 1) FROM words) "
        f"AND NOT EXISTS (SELECT 1 FROM deals_deal WHERE id > {INT4_MAX}), "
        "(SELECT COALESCE(sum(cardinality(ids)), 0) FROM g), "
        "ARRAY(SELECT x FROM k CROSS JOIN LATERAL unnest(subarray(k.ids, GREATEST(%(offset)s - k.before, 0)::int + 1, "
        "%(limit)s)) WITH ORDINALITY AS p(x, o) WHERE k.before < %(offset)s + %(limit)s "
        "AND k.before + cardinality(k.ids) > %(offset)s ORDER BY k.total DESC, p.o)"
    )


def _fts_page_sql() -> str:
    """SQLite: the count and the page's ids of the published deals matching an FTS5 query, from the FTS5 table
    alone. Joining each match to its deal (for its publication) cost half the time at 100k deals: the few deals
    that are not published are excluded by id instead. Parameters: match, offset, limit."""
    table = table_name("deal")
    hidden = ", ".join(f"'{status}'" for status in PublicationStatus.values if status != PublicationStatus.PUBLISHED)
    matches = (
        f"FROM {table} WHERE {table} MATCH %(match)s AND rowid NOT IN "
        f"(SELECT id FROM deals_deal WHERE publication_status IN ({hidden}))"
    )
    # The page is a subquery joined to one row, so that a page past the end still answers the count.
    return (
        f"SELECT (SELECT COUNT(*) {matches}), r.id FROM (SELECT 1) one LEFT JOIN (SELECT rowid AS id, "
        f"{_rank_sql(table, [])[0]} AS rank {matches} ORDER BY rank DESC, rowid LIMIT %(limit)s OFFSET %(offset)s) r "
        "ON 1 = 1 ORDER BY r.rank DESC, r.id"
    )


def deal_search_page(*, q: str, offset: int, limit: int) -> RankedPage | None:
    """The published deals matching ``q`` from ``offset``, at most ``limit``, ranked as :func:`records_search`
    ranks them (relevance, then id), in one query, without the work of a general list: on PostgreSQL from the
    levels of deals.search_levels, on SQLite from the FTS5 table alone (:func:`_fts_page_sql`). ``None`` where
    the levels cannot answer (none, a term that is not one stemmed word, more than eight terms, a deal id beyond
    int4): the caller then filters with :func:`records_search`."""
    terms = search_terms(q=q)
    if not terms:
        return None
    # No list is longer, and offset + limit must stay an int (subarray() takes one): a page past the end is empty.
    offset = min(offset, INT4_MAX - limit)
    if not _is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(_fts_page_sql(), {"match": _match_param(terms), "offset": offset, "limit": limit})
            rows = cursor.fetchall()
        return RankedPage(count=int(rows[0][0]), ids=[int(pk) for _, pk in rows if pk is not None])
    if len(terms) > _LEVEL_TERMS_MAX or not deal_levels_present(connection=connection):
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute(_levels_sql(len(terms)), {"words": _pg_words(terms), "offset": offset, "limit": limit})
            usable, count, ids = cursor.fetchone()
    except ProgrammingError as error:
        # Dropped by another process since this one looked (a migrate drops and rebuilds them): outside a
        # transaction the failed statement left nothing behind, and the general list answers.
        if connection.in_atomic_block or getattr(error.__cause__, "sqlstate", None) != _UNDEFINED_TABLE:
            raise
        deal_levels_missing(connection=connection)
        return None
    if not usable:
        return None
    return RankedPage(count=int(count), ids=[int(pk) for pk in ids[:limit]])


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


def _hits_union(*, types: list[str], q: str) -> tuple[str, list]:
    """SQL of every published match of ``types``: (type, id, slug, name, rank), and its parameters."""
    branches, params = [], []
    terms = search_terms(q=q)
    param = _match_param(terms)
    for kind in types:
        record_table, name_column, publishable = SEARCH_TYPES[kind]
        table = table_name(kind)
        published = " AND r.publication_status = 'published'" if publishable else ""
        rank, rank_params = _rank_sql(table, terms)
        branches.append(
            f"SELECT '{kind}' AS type, r.id AS id, r.slug AS slug, r.{name_column} AS name, "
            f"{rank} AS rank FROM {table} JOIN {record_table} r ON r.id = {_key_sql(table)} "
            f"WHERE {_match_sql(table)}{published}"
        )
        params += [*rank_params, param]
    return " UNION ALL ".join(branches), params


def search_hits_count(*, q: str, types: list[str]) -> int:
    """How many published records of ``types`` match ``q`` (one query)."""
    union, params = _hits_union(types=types, q=q)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({union}) hits", params)
        return cursor.fetchone()[0]


def search_hits(*, q: str, types: list[str], offset: int, limit: int) -> list[SearchHit]:
    """The published records of ``types`` matching ``q``, best first (ties by slug, then type), from ``offset``,
    at most ``limit``, each with a short fragment of its text: HTML-escaped, the matched words in ``<mark>``.

    Two queries: the page of hits, then the fragments of those hits only (highlighting costs per record).
    """
    param = _match_param(search_terms(q=q))
    union, params = _hits_union(types=types, q=q)
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
