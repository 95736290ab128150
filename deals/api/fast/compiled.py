"""Rows from SQL compiled once per thread, for the requests whose SQL never changes but for one value:

- a detail asked with no query parameters (:func:`lookup_rows` marks its one-record queryset): the same SQL for
  every record but its slug, which is bound;
- a list, for each query string but its ``page`` and ``page_size`` at each dataset version (:func:`list_compiled`
  wraps its queryset for the paginator): the same count statement on every request, and the same rows statement but
  for its ``LIMIT`` and ``OFFSET``, which are bound; on PostgreSQL both in one statement once they are kept.

:func:`rows_values` (what every ``<resource>_records`` reads its rows with) runs a marked queryset from its
statement, and any other through the ORM.

Why: compiling a detail's rows query (the selector's annotations, 25 columns) through the ORM cost as much as
running it; building a filtered list's filters and compiling its count and rows cost 5 to 7 ms of its 10, on every
request. On PostgreSQL the statements are also prepared on the server (deals/api/fast/base.py
``statement_cursor``): planning the commodities' counts cost 2 ms a request.

Per thread, like the selectors' querysets (deals/api/views/base.py): the kept compiler converts the values (dates,
decimals, JSON) with its thread's database connection, as the ORM does.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

from deals.api.fast.base import statement_cursor

# A value no slug can be (slugs are [-a-zA-Z0-9_]+): where the looked-up value goes among the compiled parameters.
_SLOT = "\x00reexapi-lookup\x00"
_compiled = threading.local()


def lookup_rows(*, queryset: QuerySet, field: str, value: str, key: Hashable) -> QuerySet:
    """``queryset.filter(<field>=value)``, marked so that :func:`rows_values` may run it from SQL compiled once per
    ``key`` and thread. ``key`` must name everything the SQL depends on besides ``value`` (the viewset and action)."""
    rows = queryset.filter(**{field: value})
    rows.reexapi_lookup = (key, queryset, field, value)
    return rows


def _compile(*, base: QuerySet, field: str, fields: tuple[str, ...]):
    """The statement of ``base.filter(<field>=…).values(*fields)``, where its value goes, the row's names and what
    converts its values; ``None`` if the value is not exactly one parameter."""
    query = base.filter(**{field: _SLOT}).prefetch_related(None).values(*fields).query
    compiler = query.get_compiler(using=base.db)
    sql, params = compiler.as_sql()
    slots = [index for index, param in enumerate(params) if param == _SLOT]
    if len(slots) != 1:
        return None
    names, converters = _reading(query, compiler)
    return sql, tuple(params), slots[0], names, compiler, converters


def _reading(query, compiler) -> tuple[list[str], list]:
    """The names of a ``values()`` query's columns and what converts their values, as
    django.db.models.query.ValuesIterable and SQLCompiler.results_iter find them."""
    names = (
        list(query.selected)
        if query.selected
        else [*query.extra_select, *query.values_select, *query.annotation_select]
    )
    return names, compiler.get_converters([column[0] for column in compiler.select[0 : compiler.col_count]])


def _statements() -> dict:
    cache = getattr(_compiled, "statements", None)
    if cache is None:
        cache = _compiled.statements = {}
    return cache


def _run(*, compiler, sql: str, params: list, converters) -> list[tuple]:
    with statement_cursor(compiler.connection) as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    return list(compiler.apply_converters(found, converters)) if converters else found


def rows_values(*, rows: QuerySet | CompiledPage, fields: tuple[str, ...]) -> list[dict]:
    """``list(rows.values(*fields))`` (without prefetches): from the compiled statement when :func:`lookup_rows`
    marked ``rows`` or ``rows`` is a :class:`CompiledPage`, else through the ORM."""
    if isinstance(rows, CompiledPage):
        return rows.listed.rows(fields=fields, offset=rows.offset, limit=rows.limit)
    mark = getattr(rows, "reexapi_lookup", None)
    if mark is None:
        return list(rows.prefetch_related(None).values(*fields))
    key, base, field, value = mark
    cache = _statements()
    entry_key = (key, fields, base.db)
    if entry_key not in cache:
        cache[entry_key] = _compile(base=base, field=field, fields=fields)
    entry = cache[entry_key]
    if entry is None:
        return list(rows.prefetch_related(None).values(*fields))
    sql, params, slot, names, compiler, converters = entry
    bound = list(params)
    bound[slot] = value
    found = _run(compiler=compiler, sql=sql, params=bound, converters=converters)
    return [dict(zip(names, row, strict=True)) for row in found]


# Per thread, the statements of at most this many lists (a viewset's list for one query string at one dataset
# version; least recently used out first). Each keeps its SQL text and converters, a few kilobytes.
LISTS_KEPT = 256
# The largest LIMIT + OFFSET PostgreSQL takes (a bigint); `page` has no upper bound of its own.
_OFFSET_MAX = 2**63 - 1
# Query parameters that never change a list's SQL but for its LIMIT and OFFSET, which are bound.
_PAGE_PARAMETERS = frozenset({"page", "page_size"})


@dataclass
class _KeptList:
    """The statements of one list: its count (``(sql, params)``; ``None`` when Django counts it in more than one
    statement or none) and its rows statement per set of columns (``None`` when it could not be compiled)."""

    db: str
    count: tuple[str, tuple] | None = None
    counted: bool = False
    rows: dict = field(default_factory=dict)
    # The count and a page's rows in one statement, once both are kept: (fields, sql, params, converters).
    together: tuple | None = None


def _lists() -> OrderedDict:
    kept = getattr(_compiled, "lists", None)
    if kept is None:
        kept = _compiled.lists = OrderedDict()
    return kept


def list_compiled(*, request, key: Hashable, queryset: Callable[[], QuerySet]) -> QuerySet | CompiledList:
    """What the paginator should page for a list request: a :class:`CompiledList` whenever its statements can be
    kept, else the filtered queryset (``queryset()``, the viewset's ``filter_queryset``).

    The statements are kept by ``key`` (the viewset and action), the request's dataset version and its query
    parameters but the page's: the same filters, search and ordering at the same version always give the same SQL
    (a filter may read the data to build it, e.g. a commodity's descendants, hence the version). A request that
    finds them neither builds nor validates its filters again: the same parameters passed validation at this
    version, and the paginator still checks ``page`` and ``page_size``. Cursor pages are never compiled."""
    version = getattr(request, "reexapi_dataset_version", None)
    params = request.query_params
    if version is None or "cursor" in params:
        return queryset()
    filters = tuple(sorted((name, tuple(params.getlist(name))) for name in params if name not in _PAGE_PARAMETERS))
    lists = _lists()
    list_key = (key, version, filters)
    kept = lists.get(list_key)
    if kept is not None:
        lists.move_to_end(list_key)
        return CompiledList(kept=kept, queryset=queryset)
    # Built now, as without compiling: an invalid filter is the 400 it always was, before any page error.
    built = queryset()
    if not _compilable(built):
        return built
    kept = lists[list_key] = _KeptList(db=built.db)
    while len(lists) > LISTS_KEPT:
        lists.popitem(last=False)
    return CompiledList(kept=kept, queryset=lambda: built)


def _compilable(queryset: QuerySet) -> bool:
    """Whether the count and a slice of ``queryset`` are what :class:`CompiledList` makes of them: ordered rows,
    without grouping, DISTINCT, set operations or a slice of their own."""
    query = queryset.query
    return queryset.ordered and not (query.is_sliced or query.distinct or query.combinator or query.group_by)


@dataclass(frozen=True)
class CompiledPage:
    """A page of a :class:`CompiledList` (what the paginator slices out of it), read by :func:`rows_values`."""

    listed: CompiledList
    offset: int
    limit: int

    @property
    def db(self) -> str:
        return self.listed.kept.db


class CompiledList:
    """A list for Django's paginator (``count()`` and slices), counted and read from the statements of its
    :class:`_KeptList`, compiled from the filtered queryset the first time (``queryset()`` builds it only then)."""

    ordered = True  # for the paginator's check: _compilable() requires an ordering

    def __init__(self, *, kept: _KeptList, queryset: Callable[[], QuerySet]):
        self.kept = kept
        self._queryset = queryset
        self._page = None  # the page the paginator will slice: (offset, limit), from page_expect()
        self._read = None  # that page's rows, read with the count: (fields, offset, rows)

    def page_expect(self, *, offset: int, limit: int) -> None:
        """Say which page the paginator will ask for after counting (the pagination's ``page_queryset``): once
        this list's statements are kept, :meth:`count` then reads that page's rows in the same statement on
        PostgreSQL, one round trip to the database instead of two. A page past the end costs nothing more: it has
        no rows."""
        if offset + limit <= _OFFSET_MAX:  # a page number beyond any count is a 404 without reading anything
            self._page = (offset, limit)

    def count(self) -> int:
        """``queryset.count()``: Django's own count statement, kept the first time it runs."""
        kept = self.kept
        if kept.together is not None and self._page is not None:
            return self._count_and_read(*self._page)
        if not kept.counted:
            seen = []

            def keep(execute, sql, params, many, context):
                seen.append((sql, tuple(params or ())))
                return execute(sql, params, many, context)

            with connections[kept.db].execute_wrapper(keep):
                counted = self._queryset().count()
            # Exactly one statement, or every request counts through the ORM.
            kept.count, kept.counted = (seen[0] if len(seen) == 1 else None), True
            return counted
        if kept.count is None:
            return self._queryset().count()
        sql, params = kept.count
        with statement_cursor(connections[kept.db]) as cursor:
            cursor.execute(sql, list(params))
            return cursor.fetchone()[0]

    def __getitem__(self, page: slice) -> CompiledPage:
        offset = page.start or 0
        return CompiledPage(listed=self, offset=offset, limit=max(0, page.stop - offset))

    def _count_and_read(self, offset: int, limit: int) -> int:
        """The count, and the rows of the page at ``offset`` (at most ``limit``), in one statement."""
        fields, sql, params, converters = self.kept.together
        compiler = self.kept.rows[fields][3]
        found = _run(compiler=compiler, sql=sql, params=[*params, limit, offset], converters=converters)
        names = self.kept.rows[fields][2]
        # The left join gives one row even past the end: its record columns are null (the first is the id).
        rows = [dict(zip(names, row[1:], strict=True)) for row in found if row[1] is not None]
        self._read = (fields, offset, rows)
        return found[0][0]

    def _together_keep(self, fields: tuple[str, ...]) -> None:
        """Keep the statement that counts and reads a page at once, from the kept count and rows statements."""
        kept = self.kept
        entry = kept.rows.get(fields)
        if kept.count is None or entry is None or kept.together is not None or entry[2][:1] != ["id"]:
            return
        if connections[kept.db].vendor != "postgresql":
            # SQLite runs in this process, so a statement costs no round trip, and joined it sorts the page
            # differently: at 100k deals it built every row's evidence count before sorting (160 ms instead of 30).
            return
        count_sql, count_params = kept.count
        rows_sql, rows_params, _names, _compiler, converters = entry
        # A scalar subquery for the count, the page left-joined to one row: the count even when the page is empty.
        sql = f"SELECT ({count_sql}), r.* FROM (SELECT 1) one LEFT JOIN ({rows_sql}) r ON 1 = 1"
        shifted = {position + 1: converter for position, converter in (converters or {}).items()}
        kept.together = (fields, sql, (*count_params, *rows_params), shifted)

    def rows(self, *, fields: tuple[str, ...], offset: int, limit: int) -> list[dict]:
        """``list(queryset.values(*fields)[offset:offset + limit])`` (without prefetches)."""
        if limit == 0:
            return []  # the empty list's only page: no query, as Django sends none for an empty slice
        if self._read is not None and self._read[:2] == (fields, offset):
            return self._read[2][:limit]  # read with the count
        kept = self.kept
        if fields not in kept.rows:
            query = self._queryset().prefetch_related(None).values(*fields).query
            compiler = query.get_compiler(using=kept.db)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:  # a filter no row can pass (Django sends no query for it either)
                kept.rows[fields] = None
            else:
                names, converters = _reading(query, compiler)
                # The page is bound, not written into the SQL as Django's slices are: one statement for every page.
                kept.rows[fields] = (f"{sql} LIMIT %s OFFSET %s", tuple(params), names, compiler, converters)
        entry = kept.rows[fields]
        if entry is None:
            return list(self._queryset().prefetch_related(None).values(*fields)[offset : offset + limit])
        sql, params, names, compiler, converters = entry
        found = _run(compiler=compiler, sql=sql, params=[*params, limit, offset], converters=converters)
        self._together_keep(fields)
        return [dict(zip(names, row, strict=True)) for row in found]


def compiled_clear() -> None:
    """Forget this thread's statements (tests)."""
    _compiled.statements = {}
    _compiled.lists = OrderedDict()
