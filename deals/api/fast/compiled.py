"""A detail's row from SQL compiled once: :func:`lookup_rows` marks a detail's one-record queryset, and
:func:`rows_values` (what every ``<resource>_records`` reads its rows with) runs a marked one from a statement
compiled on the first request of the thread, binding only the looked-up value.

Why: compiling the rows query of a detail (the selector's annotations, 25 columns) through the ORM cost as much as
running it, on every request; a detail asked with no query parameters always compiles to the same SQL but for its
slug. Only such requests are marked: any query parameter can change the filters, so those compile as before.

Per thread, like the selectors' querysets (deals/api/views/base.py): the kept compiler converts the values (dates,
decimals, JSON) with its thread's database connection, as the ORM does.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

from django.db.models import QuerySet

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
    # As django.db.models.query.ValuesIterable and SQLCompiler.results_iter do.
    names = (
        list(query.selected)
        if query.selected
        else [*query.extra_select, *query.values_select, *query.annotation_select]
    )
    converters = compiler.get_converters([column[0] for column in compiler.select[0 : compiler.col_count]])
    return sql, tuple(params), slots[0], names, compiler, converters


def rows_values(*, rows: QuerySet, fields: tuple[str, ...]) -> list[dict]:
    """``list(rows.values(*fields))`` (without prefetches): from the compiled statement when :func:`lookup_rows`
    marked ``rows``, else through the ORM."""
    mark = getattr(rows, "reexapi_lookup", None)
    if mark is None:
        return list(rows.prefetch_related(None).values(*fields))
    key, base, field, value = mark
    cache = getattr(_compiled, "statements", None)
    if cache is None:
        cache = _compiled.statements = {}
    entry_key = (key, fields, base.db)
    if entry_key not in cache:
        cache[entry_key] = _compile(base=base, field=field, fields=fields)
    entry = cache[entry_key]
    if entry is None:
        return list(rows.prefetch_related(None).values(*fields))
    sql, params, slot, names, compiler, converters = entry
    bound = list(params)
    bound[slot] = value
    with compiler.connection.cursor() as cursor:
        cursor.execute(sql, bound)
        found = cursor.fetchall()
    if converters:
        found = compiler.apply_converters(found, converters)
    return [dict(zip(names, row, strict=True)) for row in found]


def compiled_clear() -> None:
    """Forget this thread's statements (tests)."""
    _compiled.statements = {}
