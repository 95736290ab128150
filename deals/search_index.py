"""The stored search documents behind ``q`` and ``/api/v1/search/``, kept current by database triggers.

Every searchable record (deal, company, facility, source, commodity) has one row in a table of its kind,
``deals_search_<kind>``, holding its searched text in three weighted parts:

- ``a`` (weight A): names and titles, a company's aliases, a commodity's symbol;
- ``b`` (weight B): summaries and descriptions, a source's publisher;
- ``c`` (weight C): the quotes of the record's evidence (for a source: the quotes taken from it for *published*
  records) and the names of its linked commodities (deals and facilities).

PostgreSQL keeps the parts as text (for highlighting) plus a weighted ``tsvector`` (``document``) with a GIN
index, in the text search configuration ``reexapi_search``: the default parser, every word stemmed by the Snowball
``porter`` stemmer (the original Porter algorithm, as SQLite's ``porter`` tokenizer) with **no stop words**. Each
part first has every run of non-alphanumerics replaced by a space, so that the parser sees SQLite's words
(it would keep ``U.S.`` or ``3.5`` whole). SQLite keeps the parts in an FTS5 table (``rowid`` = the record's id)
with ``tokenize='porter unicode61 remove_diacritics 0'``: the same words, the same stems, accents kept on both.

Like :mod:`deals.stats_keys`, this is derived data outside the migrations: triggers on every table whose writes
change a document refresh it in the same transaction, whichever path the write takes (admin, loader, import,
services or bare SQL). ``pre_migrate`` drops the triggers, ``post_migrate`` (which also follows a test database's
flush) creates what is missing and rebuilds every document (see ``DealsConfig.ready``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections, transaction

from deals import search_levels

PG_CONFIG = "reexapi_search"
_PG_DICTIONARY = "reexapi_search_porter"
_TRIGGER_PREFIX = "deals_search_"
_PUBLISHED = "'published'"


def table_name(kind: str) -> str:
    """The search-document table of ``kind`` (deal, company, facility, source or commodity)."""
    return f"deals_search_{kind}"


def key_column(vendor: str) -> str:
    """The column of a search-document table holding the record's id."""
    return "record_id" if vendor == "postgresql" else "rowid"


def _agg(vendor: str, expression: str, order: str = "") -> str:
    if vendor == "postgresql":
        return f"string_agg({expression}, ' '{' ORDER BY ' + order if order else ''})"
    return f"group_concat({expression}, ' ')"


def _distinct_quotes(vendor: str, where: str) -> str:
    """The distinct quotes of the evidence rows ``where`` selects, joined by spaces ("" when none).

    Distinct, because one source often backs many records with the same passage: its document keeps the words
    once (and stays far below PostgreSQL's 1 MB ``tsvector`` limit).
    """
    if vendor == "postgresql":
        aggregate = "string_agg(DISTINCT e.quote, ' ' ORDER BY e.quote)"
        return f"COALESCE((SELECT {aggregate} FROM deals_evidence e WHERE {where}), '')"
    return (
        "COALESCE((SELECT group_concat(quote, ' ') FROM "
        f"(SELECT DISTINCT e.quote AS quote FROM deals_evidence e WHERE {where} ORDER BY e.quote)), '')"
    )


def _quotes(vendor: str, column: str) -> str:
    return _distinct_quotes(vendor, f"e.{column} = r.id")


def _commodity_names(vendor: str, link_table: str, column: str) -> str:
    names = _agg(vendor, "cm.name", "cm.name")
    return (
        f"COALESCE((SELECT {names} FROM {link_table} l JOIN deals_commodity cm ON cm.id = l.commodity_id "
        f"WHERE l.{column} = r.id), '')"
    )


def _aliases(vendor: str) -> str:
    # Items joined by spaces: an alias's words never run into the next alias's.
    if vendor == "postgresql":
        return (
            "COALESCE((SELECT string_agg(x, ' ') FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(r.aliases) "
            "= 'array' THEN r.aliases ELSE '[]'::jsonb END) AS x), '')"
        )
    return (
        "COALESCE((SELECT group_concat(value, ' ') FROM json_each(CASE WHEN json_valid(r.aliases) AND "
        "json_type(r.aliases) = 'array' THEN r.aliases ELSE '[]' END)), '')"
    )


def _published_quotes(vendor: str) -> str:
    published = " OR ".join(
        f"EXISTS (SELECT 1 FROM deals_{target} t WHERE t.id = e.{target}_id AND t.publication_status = {_PUBLISHED})"
        for target in ("deal", "company", "facility")
    )
    return _distinct_quotes(vendor, f"e.source_id = r.id AND ({published})")


@dataclass(frozen=True)
class _Kind:
    """One searchable model: its table and the SQL of its three parts (over the record aliased ``r``)."""

    record_table: str
    a: object
    b: object
    c: object

    def parts(self, vendor: str) -> tuple[str, str, str]:
        return tuple(part(vendor) if callable(part) else part for part in (self.a, self.b, self.c))


KINDS: dict[str, _Kind] = {
    "deal": _Kind(
        "deals_deal",
        "r.title",
        "r.summary",
        lambda v: _quotes(v, "deal_id") + " || ' ' || " + _commodity_names(v, "deals_deal_commodities", "deal_id"),
    ),
    "company": _Kind(
        "deals_company",
        lambda v: "r.name || ' ' || " + _aliases(v),
        "r.description",
        lambda v: _quotes(v, "company_id"),
    ),
    "facility": _Kind(
        "deals_facility",
        "r.name",
        "r.description",
        lambda v: (
            _quotes(v, "facility_id") + " || ' ' || " + _commodity_names(v, "deals_facility_commodities", "facility_id")
        ),
    ),
    "source": _Kind("deals_source", "r.title", "r.publisher", _published_quotes),
    "commodity": _Kind("deals_commodity", "r.name || ' ' || r.symbol", "r.description", "''"),
}

# The columns each part reads, per table: a schema without them (migrated back) gets no index until it is back.
_REQUIRED_COLUMNS = {
    "deals_deal": {"title", "summary", "publication_status"},
    "deals_company": {"name", "aliases", "description", "publication_status"},
    "deals_facility": {"name", "description", "publication_status"},
    "deals_source": {"title", "publisher"},
    "deals_commodity": {"name", "symbol", "description"},
    "deals_evidence": {"quote", "deal_id", "company_id", "facility_id", "source_id"},
    "deals_deal_commodities": {"deal_id", "commodity_id"},
    "deals_facility_commodities": {"facility_id", "commodity_id"},
}


# PostgreSQL: SQLite's porter tokenizer leaves words of one or two characters alone, Snowball's Porter strips a
# final "s" from them too ("us" -> "u", "as" -> "a"). Such words get a "0" appended before stemming, which no
# Porter rule touches (the query's terms get the same, see deals.selectors.search), so both databases keep them.
PG_SHORT_S_WORD = r"\m([[:alnum:]]?s)\M"


def _words(part: str) -> str:
    """PostgreSQL: ``part`` with each run of non-alphanumerics made one space (SQLite's unicode61 word rule), and
    short words ending in "s" protected from the stemmer (see ``PG_SHORT_S_WORD``)."""
    spaced = f"regexp_replace({part}, '[^[:alnum:]]+', ' ', 'g')"
    return f"regexp_replace({spaced}, '{PG_SHORT_S_WORD}', '\\10', 'gi')"


def _refresh_sql(vendor: str, kind: str, ids: str, *, levels: bool = False) -> list[str]:
    """Statements recomputing the documents of the ``kind`` records whose ids ``ids`` (SQL) lists (and, with
    ``levels``, a deal's levels: :mod:`deals.search_levels`)."""
    spec = KINDS[kind]
    table, key = table_name(kind), key_column(vendor)
    a, b, c = spec.parts(vendor)
    where = "1 = 1" if ids == "*" else f"r.id IN ({ids})"
    delete = f"DELETE FROM {table}" + ("" if ids == "*" else f" WHERE {key} IN ({ids})")
    parts = (
        f"SELECT r.id, COALESCE({a}, '') AS a, COALESCE({b}, '') AS b, COALESCE({c}, '') AS c "
        f"FROM {spec.record_table} r"
    )
    if vendor == "postgresql":
        document = " || ".join(
            f"setweight(to_tsvector('{PG_CONFIG}', {_words(name)}), '{name.upper()}')" for name in ("a", "b", "c")
        )
        insert = (
            f"INSERT INTO {table} (record_id, a, b, c, document) "
            # OFFSET 0 keeps the planner from inlining the parts, which would compute each subquery twice.
            f"SELECT id, a, b, c, {document} FROM ({parts} WHERE {where} OFFSET 0) s"
        )
    else:
        insert = f"INSERT INTO {table} (rowid, a, b, c) {parts} WHERE {where}"
    if levels and kind == "deal" and vendor == "postgresql":
        return [
            *search_levels.deal_levels_remove_sql(ids=ids),
            delete,
            insert,
            *search_levels.deal_levels_add_sql(ids=ids),
        ]
    return [delete, insert]


def _evidence_refreshes(row: str) -> list[tuple[str, str]]:
    return [
        ("deal", f"{row}.deal_id"),
        ("company", f"{row}.company_id"),
        ("facility", f"{row}.facility_id"),
        ("source", f"{row}.source_id"),
    ]


def _record_triggers(kind: str, table: str, columns: tuple[str, ...], *, publishable: bool):
    """A record's own writes: its document, and (for a publication change) the sources its evidence cites."""
    triggers = [
        (table, "insert", (), [(kind, "NEW.id")]),
        (table, "update", columns, [(kind, "NEW.id")]),
        (table, "delete", (), [(kind, "OLD.id")]),
    ]
    if publishable:
        cited = f"SELECT source_id FROM deals_evidence WHERE {kind}_id = NEW.id"
        triggers.append((table, "update", ("publication_status",), [("source", cited)]))
    return triggers


# (table, operation, the columns an update must change (all when empty), [(kind, SQL of the ids to refresh)]).
TRIGGERS = [
    # A deal's publication also moves it in or out of the levels (deals.search_levels): its document is refreshed.
    *_record_triggers("deal", "deals_deal", ("title", "summary", "publication_status"), publishable=True),
    *_record_triggers("company", "deals_company", ("name", "aliases", "description"), publishable=True),
    *_record_triggers("facility", "deals_facility", ("name", "description"), publishable=True),
    *_record_triggers("source", "deals_source", ("title", "publisher"), publishable=False),
    *_record_triggers("commodity", "deals_commodity", ("name", "symbol", "description"), publishable=False),
    # A renamed commodity renames the text of the deals and facilities that name it.
    (
        "deals_commodity",
        "update",
        ("name",),
        [
            ("deal", "SELECT deal_id FROM deals_deal_commodities WHERE commodity_id = NEW.id"),
            ("facility", "SELECT facility_id FROM deals_facility_commodities WHERE commodity_id = NEW.id"),
        ],
    ),
    ("deals_evidence", "insert", (), _evidence_refreshes("NEW")),
    ("deals_evidence", "update", (), [*_evidence_refreshes("NEW"), *_evidence_refreshes("OLD")]),
    ("deals_evidence", "delete", (), _evidence_refreshes("OLD")),
    *[
        (link, operation, (), [(kind, f"{row}.{kind}_id") for row in rows])
        for link, kind in (("deals_deal_commodities", "deal"), ("deals_facility_commodities", "facility"))
        for operation, rows in (("insert", ("NEW",)), ("update", ("NEW", "OLD")), ("delete", ("OLD",)))
    ],
]


def _trigger_name(index: int, table: str, operation: str) -> str:
    return f"{_TRIGGER_PREFIX}{index:02d}_{table}_{operation}"


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


def search_index_uninstall(*, using: str = "default") -> None:
    """Drop the triggers (the documents stay, and go stale until :func:`search_index_install`) and the deals' search
    levels (deals.search_levels: the lists rank every match until the install builds them again).

    Run before migrations (SQLite remakes a table to alter it, which a trigger naming it makes fail) and before
    bulk loads that rebuild afterwards. Drops every trigger named with the prefix, also those of older versions.
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace "
                "AND left(t.tgname, %s) = %s",
                [len(_TRIGGER_PREFIX), _TRIGGER_PREFIX],
            )
            for name, table in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"')
                cursor.execute(f'DROP FUNCTION IF EXISTS "{name}"()')
            search_levels.deal_levels_drop(cursor=cursor)
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, %s) = %s",
                [len(_TRIGGER_PREFIX), _TRIGGER_PREFIX],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')


def _pg_config_create(cursor) -> None:
    # English words stemmed by the original Porter algorithm (what SQLite's porter tokenizer runs), and no stop
    # words, so that both databases index the same words; numbers are kept as they are.
    cursor.execute(
        "DO $$ BEGIN "
        f"IF NOT EXISTS (SELECT 1 FROM pg_ts_dict WHERE dictname = '{_PG_DICTIONARY}' "
        "AND dictnamespace = current_schema()::regnamespace) THEN "
        f"CREATE TEXT SEARCH DICTIONARY {_PG_DICTIONARY} (TEMPLATE = snowball, Language = porter); END IF; "
        f"IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{PG_CONFIG}' "
        "AND cfgnamespace = current_schema()::regnamespace) THEN "
        f"CREATE TEXT SEARCH CONFIGURATION {PG_CONFIG} (PARSER = default); "
        f"ALTER TEXT SEARCH CONFIGURATION {PG_CONFIG} ADD MAPPING FOR asciiword, word, numword, asciihword, hword, "
        f"numhword, hword_asciipart, hword_part, hword_numpart WITH {_PG_DICTIONARY}; "
        f"ALTER TEXT SEARCH CONFIGURATION {PG_CONFIG} ADD MAPPING FOR int, uint, float, sfloat, version WITH simple; "
        "END IF; END $$"
    )


def _tables_create(cursor, vendor: str) -> None:
    for kind in KINDS:
        table = table_name(kind)
        if vendor == "postgresql":
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (record_id bigint PRIMARY KEY, a text NOT NULL, "
                "b text NOT NULL, c text NOT NULL, document tsvector NOT NULL)"
            )
        else:
            cursor.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5(a, b, c, "
                "tokenize='porter unicode61 remove_diacritics 0')"
            )


def _triggers_create(cursor, vendor: str, *, levels: bool) -> None:
    for index, (table, operation, columns, refreshes) in enumerate(TRIGGERS):
        name = _trigger_name(index, table, operation)
        statements = [sql for kind, ids in refreshes for sql in _refresh_sql(vendor, kind, ids, levels=levels)]
        event = operation.upper() + (f" OF {', '.join(columns)}" if columns else "")
        changed = ""
        if columns:
            differs = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
            changed = " WHEN (" + " OR ".join(f"OLD.{column} {differs} NEW.{column}" for column in columns) + ")"
        if vendor == "postgresql":
            cursor.execute(
                f'CREATE OR REPLACE FUNCTION "{name}"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
                + "; ".join(statements)
                + "; RETURN NULL; END $$"
            )
            cursor.execute(
                f'CREATE TRIGGER "{name}" AFTER {event} ON {table} FOR EACH ROW{changed} EXECUTE FUNCTION "{name}"()'
            )
        else:
            cursor.execute(
                f'CREATE TRIGGER "{name}" AFTER {event} ON {table} FOR EACH ROW{changed} BEGIN '
                + "; ".join(statements)
                + "; END"
            )


def _rebuild(cursor, vendor: str, *, levels: bool) -> None:
    if vendor == "postgresql":
        # Every record at once: longer than the requests' statement timeout on a large dataset. The GIN index is
        # built after the rows, which is several times faster than growing it row by row.
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute("SET LOCAL jit = off")  # compiling the big INSERT costs more than it saves
    for kind in KINDS:
        table = table_name(kind)
        if vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {table}_document")
            cursor.execute(f"TRUNCATE {table}")
            cursor.execute(_refresh_sql(vendor, kind, "*")[1])
            cursor.execute(f"CREATE INDEX {table}_document ON {table} USING gin (document)")
            cursor.execute(f"ANALYZE {table}")
            if kind == "deal" and levels:
                search_levels.deal_levels_rebuild(cursor=cursor)
        else:
            for sql in _refresh_sql(vendor, kind, "*"):
                cursor.execute(sql)


def _schema_ready(connection, cursor) -> bool:
    tables = set(connection.introspection.table_names(cursor))
    if not set(_REQUIRED_COLUMNS) <= tables:
        return False  # the app's tables are not all there (migrated back, or not yet): the next migrate installs
    return all(columns <= _columns_present(cursor, connection.vendor, t) for t, columns in _REQUIRED_COLUMNS.items())


def search_index_install(*, using: str = "default") -> None:
    """Create what is missing (text search configuration, tables, index), (re)create the triggers and rebuild
    every document. Idempotent; a no-op on a schema without the searched tables and columns."""
    connection = connections[using]
    vendor = connection.vendor
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if not _schema_ready(connection, cursor):
            return
        search_index_uninstall(using=using)
        levels = vendor == "postgresql" and search_levels.deal_levels_extension_ensure(cursor=cursor)
        if vendor == "postgresql":
            _pg_config_create(cursor)
            if levels:
                search_levels.deal_levels_create(cursor=cursor)
            else:
                search_levels.deal_levels_drop(cursor=cursor)
        _tables_create(cursor, vendor)
        _triggers_create(cursor, vendor, levels=levels)
        _rebuild(cursor, vendor, levels=levels)


def search_index_rebuild(*, using: str = "default") -> None:
    """Recompute every search document from the records (after writes that bypassed the triggers)."""
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if _schema_ready(connection, cursor):
            _tables_create(cursor, connection.vendor)
            levels = connection.vendor == "postgresql" and search_levels.deal_levels_present(connection=connection)
            _rebuild(cursor, connection.vendor, levels=levels)


def search_index_pre_migrate(sender, using: str = "default", **kwargs) -> None:
    """``pre_migrate`` receiver: drop the triggers before any table is remade."""
    search_index_uninstall(using=using)


def search_index_post_migrate(sender, using: str = "default", **kwargs) -> None:
    """``post_migrate`` receiver: put the tables and triggers back and rebuild the documents."""
    search_index_install(using=using)
