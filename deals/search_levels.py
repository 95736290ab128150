"""PostgreSQL: the published deals' search documents as *levels*, which rank and count a ``q`` in a few milliseconds.

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
``search_index_install`` rebuilds them and ``search_index_uninstall`` drops them (without the triggers they would
go stale; the search then ranks every match). Deals with ids beyond ``int4`` are left out, and the search does not
use the levels while such a deal exists.
"""

from __future__ import annotations

import time

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


def deal_levels_remove_sql(*, ids: str) -> list[str]:
    """PL/pgSQL statements taking the deals ``ids`` (SQL) out of their levels, read from their documents as they
    still are (before the documents are deleted). Removing a deal that is in none (a draft) changes nothing.

    They first take a transaction-level lock that every upkeep of the levels takes, when ``ids`` names a deal at
    all (an evidence row of a company names none): two transactions writing deals share the rows of common words,
    and each would otherwise lock them in its own order (a deadlock). Writers of deals wait for each other's
    commit, as they would on those rows anyway.
    """
    return [
        # A deal (inserted or updated) or its document (a deleted deal's is still there) is named.
        f"PERFORM pg_advisory_xact_lock({_LOCK_KEY}) WHERE EXISTS (SELECT 1 FROM deals_deal WHERE id IN ({ids})) "
        f"OR EXISTS (SELECT 1 FROM {_DOCUMENTS} WHERE record_id IN ({ids}))",
        f"UPDATE {LEVELS_TABLE} l SET ids = l.ids - o.ids FROM (SELECT term, score, array_agg(record_id::int4) AS ids "
        f"FROM ({_SCORED} WHERE {_where(ids)}) x GROUP BY term, score) o WHERE l.term = o.term AND l.score = o.score",
    ]


def deal_levels_add_sql(*, ids: str) -> list[str]:
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


def deal_levels_extension_ensure(*, cursor) -> bool:
    """Install the ``intarray`` extension if need be; whether it is there. A trusted extension since PostgreSQL 13,
    one of the standard contrib modules, which a user with ``CREATE`` on the database may install. Without it (not
    shipped, or not allowed) there are no levels and the search ranks every match."""
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


# Per database alias: whether the levels table exists, and when that was learnt. Absence is looked up again after
# _ABSENT_RECHECK_S: a worker that started before an install (or during a migrate, which drops and rebuilds the
# levels) finds them without a restart.
_present: dict[str, tuple[bool, float]] = {}
_ABSENT_RECHECK_S = 60.0


def _present_set(alias: str, present: bool) -> None:
    _present[alias] = (present, time.monotonic())


def deal_levels_present(*, connection) -> bool:
    """Whether ``connection``'s database has the levels: looked up once per process (again after a while when
    absent), or known from the last :func:`deal_levels_create` or :func:`deal_levels_drop` committed here (the
    test databases' setup runs one in the suite's process)."""
    known = _present.get(connection.alias)
    if known is None or (not known[0] and time.monotonic() - known[1] > _ABSENT_RECHECK_S):
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [LEVELS_TABLE])
            _present_set(connection.alias, bool(cursor.fetchone()[0]))
    return _present[connection.alias][0]


def deal_levels_missing(*, connection) -> None:
    """The levels were found missing (a query named a table another process dropped): not used until looked up
    again."""
    _present_set(connection.alias, False)


def deal_levels_create(*, cursor) -> None:
    """The table and its indexes (idempotent; the extension is there, see :func:`deal_levels_extension_ensure`).

    The CHECK calls one of intarray's functions so that the table depends on the extension: a plain ``DROP
    EXTENSION intarray`` is refused instead of breaking every deal write (the triggers' operators are intarray's).
    """
    alias = cursor.db.alias
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {LEVELS_TABLE} (term text NOT NULL, score real NOT NULL, ids int4[] NOT NULL, "
        "PRIMARY KEY (term, score), CONSTRAINT deals_search_deal_level_intarray CHECK (icount(ids) >= 0))"
    )
    cursor.execute(
        f"CREATE INDEX IF NOT EXISTS {LEVELS_TABLE}_empty ON {LEVELS_TABLE} (term) WHERE cardinality(ids) = 0"
    )
    transaction.on_commit(lambda: _present_set(alias, True), using=alias)


def deal_levels_drop(*, cursor) -> None:
    """No levels (the extension is gone or refused, or the triggers are being dropped): nothing may read stale
    ones, so the search ranks every match until an install builds them again."""
    alias = cursor.db.alias
    cursor.execute(f"DROP TABLE IF EXISTS {LEVELS_TABLE}")
    _present_set(alias, False)  # at once: this transaction must not read them either


def deal_levels_rebuild(*, cursor) -> None:
    """Every level again from the documents (after they were rebuilt)."""
    cursor.execute(f"TRUNCATE {LEVELS_TABLE}")
    for sql in deal_levels_add_sql(ids="*"):
        cursor.execute(sql)
    cursor.execute(f"ANALYZE {LEVELS_TABLE}")
