"""Benchmark-only: grow the deals table of a scratch database with copies of the loaded dataset's deals.

Run inside Django (``manage.py shell -c "import bench_seed; bench_seed.deals_copy(total=1000)"`` with scripts/ on
the Python path) by scripts/bench_api.py, only against the throw-away database it creates. Copies keep every
relation of their original (parties, commodities, stages, facilities, evidence), so that serialising a page costs
what it costs on real data; their slugs and titles say they are copies.

Fast enough for 100k deals (well under two minutes on SQLite and PostgreSQL): every table is copied by one
``INSERT ... SELECT`` in the database, never row by row through the ORM. A copy's id is arithmetic on its
original's (``original id + round x M``, with M the largest id before seeding), so the link rows are copied with
the same arithmetic instead of a lookup. The derived per-deal lists of deals/stats_keys.py are kept by triggers that
would fire once per link row (a correlated UPDATE each): they are dropped for the bulk insert and reinstalled
after, which recomputes every deal's lists at once; the same for the search index (deals/search_index.py) when
the project has one. Like ``bulk_create``, the copies get no history rows.
"""

from __future__ import annotations

import time

from django.db import connections, transaction

# Link tables copied with each deal: (table, the column naming the deal).
_DEAL_CHILD_TABLES = (
    ("deals_dealparty", "deal_id"),
    ("deals_evidence", "deal_id"),
    ("deals_deal_commodities", "deal_id"),
    ("deals_deal_stages", "deal_id"),
    ("deals_deal_facilities", "deal_id"),
)
_MAP_TABLE = "bench_copy_map"


def _search_index_module():
    """deals/search_index.py when the project has it (it is being built on another branch), else ``None``."""
    try:
        from deals import search_index
    except ImportError:
        return None
    if not hasattr(search_index, "search_index_install") or not hasattr(search_index, "search_index_uninstall"):
        return None
    return search_index


def _columns(cursor, connection, table: str) -> list[str]:
    return [column.name for column in connection.introspection.get_table_description(cursor, table)]


def deals_copy(*, total: int, using: str = "default", verbose: bool = False) -> int:
    """Copy the existing deals round-robin until the table holds ``total`` deals; return the new count."""
    from deals.caching import dataset_version_bump
    from deals.stats_keys import stats_keys_install, stats_keys_uninstall

    connection = connections[using]
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM deals_deal")
        existing, max_id = cursor.fetchone()
    if not existing:
        raise SystemExit("No deals to copy: load the dataset first.")
    needed = total - existing
    if needed <= 0:
        return existing
    search_index = _search_index_module()
    timings: list[tuple[str, float]] = []

    def lap(label: str, started: float) -> float:
        now = time.perf_counter()
        timings.append((label, now - started))
        return now

    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The server's statement timeout bounds web requests; a 100k-row INSERT ... SELECT is not one.
            cursor.execute("SET LOCAL statement_timeout = 0")
        step = time.perf_counter()
        stats_keys_uninstall(using=using)
        if search_index:
            search_index.search_index_uninstall(using=using)
        step = lap("triggers dropped", step)
        _map_create(cursor, connection, needed=needed, existing=existing, max_id=max_id)
        step = lap("copy map", step)
        quote = connection.ops.quote_name
        deal_columns = [c for c in _columns(cursor, connection, "deals_deal") if c not in ("id", "slug", "title")]
        concat = "||"  # the SQL standard's string concatenation, on both PostgreSQL and SQLite
        cursor.execute(
            f"INSERT INTO deals_deal (id, slug, title, {', '.join(quote(c) for c in deal_columns)}) "
            f"SELECT m.new_id, SUBSTR(d.slug, 1, 100) {concat} '-bench-' {concat} CAST(m.new_id AS TEXT), "
            f"SUBSTR(d.title, 1, 270) {concat} ' (bench copy ' {concat} CAST(m.n AS TEXT) {concat} ')', "
            f"{', '.join('d.' + quote(c) for c in deal_columns)} "
            f"FROM {_MAP_TABLE} m JOIN deals_deal d ON d.id = m.original_id"
        )
        step = lap("deals", step)
        for table, deal_column in _DEAL_CHILD_TABLES:
            columns = [c for c in _columns(cursor, connection, table) if c not in ("id", deal_column)]
            cursor.execute(
                f"INSERT INTO {table} ({deal_column}, {', '.join(quote(c) for c in columns)}) "
                f"SELECT m.new_id, {', '.join('t.' + quote(c) for c in columns)} "
                f"FROM {_MAP_TABLE} m JOIN {table} t ON t.{deal_column} = m.original_id"
            )
            step = lap(table, step)
        cursor.execute(f"DROP TABLE {_MAP_TABLE}")
        if connection.vendor == "postgresql":
            # Ids were given explicitly: move the sequence past them, or the next ORM insert would collide.
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('deals_deal', 'id'), (SELECT MAX(id) FROM deals_deal))"
            )
        # Reinstalling recomputes every deal's derived lists (and search documents) in one statement each.
        stats_keys_install(using=using)
        step = lap("stats keys reinstalled (recomputed)", step)
        if search_index:
            search_index.search_index_install(using=using)
            step = lap("search index reinstalled (rebuilt)", step)
        # Bulk SQL sends no signals: invalidate every ETag and cached response by hand, as any write does.
        dataset_version_bump()
    if connection.vendor == "postgresql":
        step = time.perf_counter()
        # The planner must know the tables grew a hundredfold (ANALYZE), and the visibility map must be set as it
        # is on a database autovacuum has visited (VACUUM): otherwise a count reads every row instead of an index,
        # and the unfiltered baseline of the 100k cases depends on whether autovacuum has run yet. VACUUM cannot run
        # in a transaction; the timeout is the session's (a request's), too short at 100k.
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
            try:
                cursor.execute("VACUUM (ANALYZE)")
            finally:
                cursor.execute("RESET statement_timeout")
        lap("VACUUM ANALYZE", step)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM deals_deal")
        count = cursor.fetchone()[0]
    if verbose:
        details = ", ".join(f"{label} {seconds:.1f} s" for label, seconds in timings)
        print(f"Seeded {count - existing} deal copies in {time.perf_counter() - began:.1f} s ({details}).")
    return count


def _map_create(cursor, connection, *, needed: int, existing: int, max_id: int) -> None:
    """A scratch table of (original_id, new_id, n): which deal each of the ``needed`` copies copies, and its id.

    Round r (from 1) copies every existing deal once, the copy of deal ``id`` getting ``id + r * max_id``: distinct
    for every (id, r) since ids lie in 1..max_id, and above every existing id. ``n`` numbers the copies from 0.
    """
    rounds = -(-needed // existing)
    temporary = "TEMPORARY " if connection.vendor == "postgresql" else ""
    cursor.execute(
        f"CREATE {temporary}TABLE {_MAP_TABLE} AS "
        "WITH RECURSIVE rounds(r) AS (SELECT 1 UNION ALL SELECT r + 1 FROM rounds WHERE r < %s), "
        "originals AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS seq FROM deals_deal) "
        "SELECT o.id AS original_id, o.id + rounds.r * %s AS new_id, (rounds.r - 1) * %s + o.seq AS n "
        "FROM originals o CROSS JOIN rounds WHERE (rounds.r - 1) * %s + o.seq < %s",
        [rounds, max_id, existing, existing, needed],
    )
