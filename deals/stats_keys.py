"""Each deal's keys for the many-valued statistics dimensions, stored on its row and kept current by triggers.

The statistics group every deal by its set of commodities, stages, party kinds or party countries. Gathering those
sets from the link tables costs a join and a per-deal aggregate over every link on each request, which at 100k
deals takes several times the deals list's time. So each deal row carries the sets ready-made, as comma-joined
lists (like the deal's own ``countries`` column), and the statistics group the deals table alone:

- ``stats_commodity_ids``: the ids of the commodities the deal names (its own, not rolled up the tree);
- ``stats_stage_ids``: the ids of its supply-chain stages;
- ``stats_party_kinds`` and ``stats_party_countries``: the kinds and (stated) countries of its *published*
  parties, each once.

These columns are derived data, like an index: no editor or API sees them and Django does not know them, so no
model save can write a stale copy. Database triggers on the link tables and on companies (kind, country,
publication status) recompute a deal's lists in the same transaction as any write, whichever path it takes
(admin, loader, import, services or bare SQL).

They live outside the migrations because SQLite remakes a table to alter it: a remake of ``deals_deal`` would drop
the columns, and a trigger naming a table being remade makes the remake fail. So ``pre_migrate`` drops the
triggers and ``post_migrate`` (which also follows a test database's flush) adds whatever is missing and recomputes
every deal's lists (see ``DealsConfig.ready``).
"""

from __future__ import annotations

from django.db import connections, transaction

COLUMNS = ("stats_commodity_ids", "stats_stage_ids", "stats_party_kinds", "stats_party_countries")
# The tables whose writes change a deal's lists, each with the trigger that recomputes them.
_LINK_TABLES = ("deals_deal_commodities", "deals_deal_stages", "deals_dealparty")
_COMPANY_TABLE = "deals_company"
_COMPANY_COLUMNS = {"kind", "country", "publication_status"}
_TRIGGER = "deals_stats_keys"
_PG_LINK_FUNCTION = "deals_stats_keys_link_changed"
_PG_COMPANY_FUNCTION = "deals_stats_keys_company_changed"


def _key_list(vendor: str, expression: str, *, distinct: bool = False) -> str:
    """SQL of a comma-joined list of ``expression`` over a subquery's rows ("" when there are none)."""
    prefix = "DISTINCT " if distinct else ""
    if vendor == "postgresql":
        return f"COALESCE(string_agg({prefix}CAST({expression} AS text), ','), '')"
    return f"COALESCE(group_concat({prefix}{expression}), '')"


def _refresh_sql(vendor: str, where: str) -> str:
    """``UPDATE deals_deal`` recomputing the four lists of the deals that ``where`` selects."""
    published_party = (
        "FROM deals_dealparty dp JOIN deals_company c ON c.id = dp.company_id "
        "WHERE dp.deal_id = deals_deal.id AND c.publication_status = 'published'"
    )
    commodities = _key_list(vendor, "commodity_id")
    stages = _key_list(vendor, "supplychainstage_id")
    kinds = _key_list(vendor, "c.kind", distinct=True)
    countries = _key_list(vendor, "c.country", distinct=True)
    return (
        "UPDATE deals_deal SET "
        f"stats_commodity_ids = (SELECT {commodities} FROM deals_deal_commodities WHERE deal_id = deals_deal.id), "
        f"stats_stage_ids = (SELECT {stages} FROM deals_deal_stages WHERE deal_id = deals_deal.id), "
        f"stats_party_kinds = (SELECT {kinds} {published_party}), "
        f"stats_party_countries = (SELECT {countries} {published_party} AND c.country <> '') "
        f"WHERE {where}"
    )


def _columns_present(cursor, vendor: str, table: str) -> set[str]:
    if vendor == "postgresql":
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            [table],
        )
    else:
        cursor.execute("SELECT name FROM pragma_table_info(%s)", [table])
    return {row[0] for row in cursor.fetchall()}


def stats_keys_uninstall(*, using: str = "default") -> None:
    """Drop the triggers (the columns stay): run before migrations, so that SQLite can remake the tables."""
    connection = connections[using]
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for table in (*_LINK_TABLES, _COMPANY_TABLE):
            if vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER} ON {table}")
            else:
                for operation in ("insert", "update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER}_{table}_{operation}")


def stats_keys_install(*, using: str = "default") -> None:
    """Add the columns that are missing, (re)create the triggers and recompute every deal's lists. Idempotent."""
    connection = connections[using]
    vendor = connection.vendor
    tables = set(connection.introspection.table_names())
    if not {"deals_deal", _COMPANY_TABLE, *_LINK_TABLES} <= tables:
        return  # the app's tables are not all there (migrated back, or not yet): the next full migrate installs
    with transaction.atomic(using=using), connection.cursor() as cursor:
        stats_keys_uninstall(using=using)
        if not _COMPANY_COLUMNS <= _columns_present(cursor, vendor, _COMPANY_TABLE):
            return  # an older schema (migrated back to before the publication lifecycle): the same
        present = _columns_present(cursor, vendor, "deals_deal")
        for column in COLUMNS:
            if column not in present:
                cursor.execute(f"ALTER TABLE deals_deal ADD COLUMN {column} text NOT NULL DEFAULT ''")
        if vendor == "postgresql":
            _pg_triggers_create(cursor)
        else:
            _sqlite_triggers_create(cursor)
        if vendor == "postgresql":
            # Every deal at once: longer than the requests' statement timeout on a large dataset.
            cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute(_refresh_sql(vendor, "1 = 1"))


def _pg_triggers_create(cursor) -> None:
    link_refresh_new = _refresh_sql("postgresql", "deals_deal.id = NEW.deal_id")
    link_refresh_old = _refresh_sql("postgresql", "deals_deal.id = OLD.deal_id")
    company_refresh = _refresh_sql(
        "postgresql", "deals_deal.id IN (SELECT deal_id FROM deals_dealparty WHERE company_id = NEW.id)"
    )
    cursor.execute(
        f"CREATE OR REPLACE FUNCTION {_PG_LINK_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'DELETE' THEN {link_refresh_new}; END IF; "
        f"IF TG_OP <> 'INSERT' THEN {link_refresh_old}; END IF; "
        "RETURN NULL; END $$"
    )
    cursor.execute(
        f"CREATE OR REPLACE FUNCTION {_PG_COMPANY_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.kind IS DISTINCT FROM OLD.kind OR NEW.country IS DISTINCT FROM OLD.country "
        f"OR NEW.publication_status IS DISTINCT FROM OLD.publication_status THEN {company_refresh}; END IF; "
        "RETURN NULL; END $$"
    )
    for table in _LINK_TABLES:
        cursor.execute(
            f"CREATE TRIGGER {_TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {_PG_LINK_FUNCTION}()"
        )
    cursor.execute(
        f"CREATE TRIGGER {_TRIGGER} AFTER UPDATE ON {_COMPANY_TABLE} "
        f"FOR EACH ROW EXECUTE FUNCTION {_PG_COMPANY_FUNCTION}()"
    )


def _sqlite_triggers_create(cursor) -> None:
    # SQLite triggers are single statements per event, so each event of each table gets its own.
    for table in _LINK_TABLES:
        for operation, row in (("insert", "NEW"), ("delete", "OLD")):
            refresh = _refresh_sql("sqlite", f"deals_deal.id = {row}.deal_id")
            cursor.execute(
                f"CREATE TRIGGER {_TRIGGER}_{table}_{operation} AFTER {operation.upper()} ON {table} "
                f"BEGIN {refresh}; END"
            )
        refresh = _refresh_sql("sqlite", "deals_deal.id IN (NEW.deal_id, OLD.deal_id)")
        cursor.execute(f"CREATE TRIGGER {_TRIGGER}_{table}_update AFTER UPDATE ON {table} BEGIN {refresh}; END")
    company_refresh = _refresh_sql(
        "sqlite", "deals_deal.id IN (SELECT deal_id FROM deals_dealparty WHERE company_id = NEW.id)"
    )
    cursor.execute(
        f"CREATE TRIGGER {_TRIGGER}_{_COMPANY_TABLE}_update AFTER UPDATE OF kind, country, publication_status "
        f"ON {_COMPANY_TABLE} BEGIN {company_refresh}; END"
    )


def stats_keys_pre_migrate(sender, using: str = "default", **kwargs) -> None:
    """``pre_migrate`` receiver: drop the triggers before any table is remade."""
    if "deals_deal" in connections[using].introspection.table_names():
        stats_keys_uninstall(using=using)


def stats_keys_post_migrate(sender, using: str = "default", **kwargs) -> None:
    """``post_migrate`` receiver: put the columns and triggers back and recompute the lists."""
    stats_keys_install(using=using)
