"""PostgreSQL: the published deals' search documents as *levels*, which rank and count a ``q`` in a millisecond.

A level is one stemmed word (``term``) at one ``score``: the ``ts_rank`` of a deal's document for that word
alone. Its row holds the sorted ids of every published deal whose document has the word at that score
(``ids``, an ``int4[]`` of the ``intarray`` extension). A deal's relevance for a ``q`` is the sum of its terms'
scores (deals.selectors.search), so the deals of one combination of levels, one per term, all have the same
relevance: the intersection of the combination's arrays. Scores take a few values per word (a handful of weights
times a few counts of occurrences), so a query has few combinations, and a page of hits best first, ties by id, is
a slice of the concatenated intersections: no per-deal work, where ranking every match with ``ts_rank`` took
200 ms at 100k deals (deals.selectors.search.deal_search_page).

Derived data like the documents themselves: the document triggers of deals.search_index refresh a deal's levels in
the same statements (``deal_levels_remove_sql`` before its document is replaced, ``deal_levels_add_sql`` after),
and ``search_index_install`` rebuilds them. Deals with ids beyond ``int4`` are left out, and the search does not
use the levels while such a deal exists.
"""

from __future__ import annotations

from django.db import DatabaseError, transaction

LEVELS_TABLE = "deals_search_deal_level"
INT4_MAX = 2**31 - 1
# pg_advisory_xact_lock key of the levels' upkeep ("reexlvl" in ASCII; deals.services.dataset_lock has "reexapi").
_LOCK_KEY = 0x726565786C766C
_DOCUMENTS = "deals_search_deal"
# One row per (word, deal) of the deals ``ids`` selects: the word's score in the deal's document.
_SCORED = (
    "SELECT u.lexeme AS term, ts_rank(s.document, quote_literal(u.lexeme)::tsquery) AS score, s.record_id "
    f"FROM {_DOCUMENTS} s CROSS JOIN LATERAL unnest(s.document) u"
)


def _where(ids: str) -> str:
    return f"s.record_id <= {INT4_MAX}" + ("" if ids == "*" else f" AND s.record_id IN ({ids})")


def deal_levels_remove_sql(ids: str) -> list[str]:
    """PL/pgSQL statements taking the deals ``ids`` (SQL) out of their levels, read from their documents as they
    still are (before the documents are deleted). Removing a deal that is in none (a draft) changes nothing.

    They first take a transaction-level lock that every upkeep of the levels takes: two transactions writing deals
    share the rows of common words, and each would otherwise lock them in its own order (a deadlock). Writers of
    deals wait for each other's commit, as they would on those rows anyway.
    """
    return [
        f"PERFORM pg_advisory_xact_lock({_LOCK_KEY})",
        f"UPDATE {LEVELS_TABLE} l SET ids = l.ids - o.ids FROM (SELECT term, score, array_agg(record_id::int4) AS ids "
        f"FROM ({_SCORED} WHERE {_where(ids)}) x GROUP BY term, score) o WHERE l.term = o.term AND l.score = o.score",
    ]


def deal_levels_add_sql(ids: str) -> list[str]:
    """Statements putting the published deals among ``ids`` (SQL, or ``*`` for all) into the levels of their new
    documents, then dropping the levels left empty."""
    return [
        f"INSERT INTO {LEVELS_TABLE} AS l (term, score, ids) SELECT term, score, sort(array_agg(record_id::int4)) "
        f"FROM ({_SCORED} JOIN deals_deal d ON d.id = s.record_id WHERE {_where(ids)} "
        "AND d.publication_status = 'published') x GROUP BY term, score ORDER BY term, score "
        "ON CONFLICT (term, score) DO UPDATE SET ids = l.ids | EXCLUDED.ids",
        # Through the partial index: only the rows a removal emptied are looked at.
        f"DELETE FROM {LEVELS_TABLE} WHERE cardinality(ids) = 0",
    ]


def deal_levels_extension(cursor) -> bool:
    """Whether the ``intarray`` extension is installed, installing it if need be: a trusted extension since
    PostgreSQL 13, one of the standard contrib modules, which a user with ``CREATE`` on the database may install.
    Without it (not shipped, or not allowed) there are no levels and the search ranks every match."""
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'intarray'), "
        "EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'intarray')"
    )
    installed, available = cursor.fetchone()
    if installed or not available:
        return bool(installed)
    try:
        with transaction.atomic(using=cursor.db.alias):  # a savepoint: a refusal leaves the transaction usable
            cursor.execute("CREATE EXTENSION IF NOT EXISTS intarray")
    except DatabaseError:
        return False
    return True


# Per database alias: whether the levels table exists (it does once search_index_install found the extension).
_present: dict[str, bool] = {}


def deal_levels_present(connection) -> bool:
    """Whether ``connection``'s database has the levels: looked up once per process, or known from
    :func:`deal_levels_create` (which the test databases' setup runs in the same process)."""
    if connection.alias not in _present:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [LEVELS_TABLE])
            _present[connection.alias] = bool(cursor.fetchone()[0])
    return _present[connection.alias]


def deal_levels_create(cursor) -> None:
    """The table and its indexes (idempotent; the extension is there, see :func:`deal_levels_extension`)."""
    _present[cursor.db.alias] = True
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {LEVELS_TABLE} (term text NOT NULL, score real NOT NULL, ids int4[] NOT NULL, "
        "PRIMARY KEY (term, score))"
    )
    cursor.execute(
        f"CREATE INDEX IF NOT EXISTS {LEVELS_TABLE}_empty ON {LEVELS_TABLE} (term) WHERE cardinality(ids) = 0"
    )


def deal_levels_drop(cursor) -> None:
    """No levels (the extension is gone or refused): the search must not read stale ones."""
    cursor.execute(f"DROP TABLE IF EXISTS {LEVELS_TABLE}")
    _present[cursor.db.alias] = False


def deal_levels_rebuild(cursor) -> None:
    """Every level again from the documents (after they were rebuilt)."""
    cursor.execute(f"TRUNCATE {LEVELS_TABLE}")
    for sql in deal_levels_add_sql("*"):
        cursor.execute(sql)
    cursor.execute(f"ANALYZE {LEVELS_TABLE}")
