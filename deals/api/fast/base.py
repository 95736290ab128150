"""Building blocks of the fast read path, shared by every resource's record builder.

- :func:`link_maker`: absolute API detail URLs by slug, as the serializers' ``url`` fields build them;
- :func:`decimal_text`, :func:`date_text`, :func:`datetime_text`, :func:`blank_null`, :func:`country_item`: the
  value formats of DRF's fields as the API's serializers configure them;
- :func:`relations_fetch`: the related rows of a page, of several relations, in one ``UNION ALL`` query, each row
  a JSON array built by the database (``json_array`` on SQLite, ``json_build_array`` on PostgreSQL);
  :func:`relations_fetch_compiled` the same with the SQL compiled once (the owners bound as one JSON parameter);
- :class:`JsonColumn`: a JSON column (``JSONField``) inside such an array, as JSON rather than as text.
"""

from __future__ import annotations

import datetime
import decimal
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import orjson
import psycopg
from django.conf import settings
from django.db import connections
from django.db.models import CharField, F, Func, IntegerField, QuerySet, TextField, Value, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf
from django.urls import reverse as django_reverse
from django.utils import timezone
from django_countries import countries

_SLUG = "__slug__"


@functools.lru_cache(maxsize=128)
def _path_parts(view_name: str, urlconf: str | None, script_prefix: str) -> tuple[str, str]:
    """The detail path of ``view_name`` split around the slug (cached like the serializers' path templates, keyed
    by the URLconf and the script prefix)."""
    path = django_reverse(view_name, kwargs={"slug": _SLUG}, urlconf=urlconf)
    before, _, after = path.partition(_SLUG)
    return before, after


def absolute_base(*, request: HttpRequest) -> str:
    """The scheme and host of every link of this response (validated once per request, shared with the
    serializers through the same request attribute)."""
    base = getattr(request, "_reexapi_absolute_base", None)
    if base is None:
        base = request.build_absolute_uri("/")[:-1]
        request._reexapi_absolute_base = base
    return base


def link_maker(*, request: HttpRequest, view_name: str) -> Callable[[str | None], str | None]:
    """A function from a slug to the record's absolute API URL (``view_name`` e.g. ``"api:deal-detail"``); an empty
    slug gives None, as in the serializers. Slugs are ``[-a-zA-Z0-9_]+``, so they need no quoting."""
    before, after = _path_parts(view_name, get_urlconf(), get_script_prefix())
    prefix = absolute_base(request=request) + before

    def link(slug: str | None) -> str | None:
        return prefix + slug + after if slug else None

    return link


@functools.lru_cache(maxsize=64)
def _quantizer(places: int, max_digits: int | None) -> tuple[decimal.Decimal, decimal.Context]:
    context = decimal.getcontext().copy()
    if max_digits is not None:
        context.prec = max_digits
    return decimal.Decimal(".1") ** places, context


def decimal_text(value, *, places: int, max_digits: int | None = None) -> str | None:
    """A decimal as DRF's ``DecimalField`` sends it (``COERCE_DECIMAL_TO_STRING``): quantized to ``places``, plain
    notation; None stays None."""
    if value is None:
        return None
    if not isinstance(value, decimal.Decimal):
        value = decimal.Decimal(str(value).strip())
    exponent, context = _quantizer(places, max_digits)
    return f"{value.quantize(exponent, context=context):f}"


def date_text(value: datetime.date | str | None) -> str | None:
    """A date as DRF's ``DateField`` sends it: ISO 8601 (text from a JSON-built row is already that)."""
    if not value:
        return None
    if isinstance(value, str):
        return value
    return value.isoformat()


def datetime_text(value: datetime.datetime | None) -> str | None:
    """A date-time as DRF's ``DateTimeField`` sends it: in the current time zone, ISO 8601, UTC as ``Z``."""
    if value is None:
        return None
    if timezone.is_aware(value):
        value = value.astimezone(timezone.get_current_timezone())
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def blank_null(value):
    """A code, unit or choice the model stores as "" when not stated: null in the API (``BlankAsNull*`` fields)."""
    return None if value in ("", None) else value


@functools.lru_cache(maxsize=512)
def country_item(code: str) -> dict[str, str]:
    """A country as ``CountrySerializer`` sends it. Cached per code: callers must not change the dict."""
    return {"code": code, "name": str(countries.name(code))}


def country_list(raw) -> list[dict[str, str]]:
    """A multiple ``CountryField``'s stored value (``"US,CA"``, or a list from ``values()``) as the API's list."""
    if not raw:
        return []
    codes = raw.split(",") if isinstance(raw, str) else raw
    return [dict(country_item(code)) for code in codes if code]


class JsonColumn(Func):
    """A ``JSONField`` column inside :class:`JsonArray`: as JSON on SQLite (where it is stored as text, which
    ``json_array`` would quote), as is on PostgreSQL (jsonb)."""

    template = "%(expressions)s"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="json(%(expressions)s)", **extra_context)


class JsonArray(Func):
    """``[a, b, …]`` built by the database, as JSON text: numbers, strings, null, and dates as ISO text."""

    function = "json_array"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, function="json_build_array", template="%(function)s(%(expressions)s)::text"
        )


@dataclass(frozen=True)
class RelationPart:
    """One relation of :func:`relations_fetch`: ``queryset`` (already filtered to the page's owners), the column
    naming the owner (e.g. ``"deal_id"``), the columns of each item (field paths or expressions; wrap JSON fields
    in :class:`JsonColumn`) and the order of the items within an owner (as in the serializers' prefetch)."""

    name: str
    queryset: QuerySet
    owner: str
    columns: Sequence
    order_by: Sequence


def _union(parts: Iterable[RelationPart]) -> QuerySet | None:
    """The parts as one ``UNION ALL`` of ``(part name, owner id, row number, row as JSON text)``."""
    selects = []
    for part in parts:
        columns = [F(c) if isinstance(c, str) else c for c in part.columns]
        order = [F(o[1:]).desc() if isinstance(o, str) and o.startswith("-") else F(o) for o in part.order_by]
        selects.append(
            part.queryset.order_by()
            .annotate(
                _rel=Value(part.name, output_field=CharField()),
                _owner=F(part.owner),
                _n=Window(RowNumber(), order_by=[F(part.owner), *order], output_field=IntegerField()),
                _row=JsonArray(*columns),
            )
            .values_list("_rel", "_owner", "_n", "_row")
        )
    if not selects:
        return None
    return selects[0].union(*selects[1:], all=True) if len(selects) > 1 else selects[0]


def _grouped(rows) -> dict[str, dict[int, list[list]]]:
    grouped: dict[str, dict[int, list[tuple[int, list]]]] = defaultdict(lambda: defaultdict(list))
    for name, owner, number, row in rows:
        grouped[name][owner].append((number, orjson.loads(row)))
    return {
        name: {owner: [row for _n, row in sorted(items, key=_first)] for owner, items in owners.items()}
        for name, owners in grouped.items()
    }


def relations_fetch(*, parts: Iterable[RelationPart]) -> dict[str, dict[int, list[list]]]:
    """Every part's items in ONE query, grouped ``{part name: {owner id: [item columns as a list, …]}}``, each
    owner's items in the part's order (a ``ROW_NUMBER()`` by that order, computed by the database so that text
    sorts by its collation exactly as the prefetches do). An owner without items is absent."""
    query = _union(parts)
    return {} if query is None else _grouped(query)


def _first(item):
    return item[0]


# A parameter value that marks where the owner ids go in a compiled query (see relations_fetch_compiled).
_OWNERS = "__reexapi_owner_ids__"
_COMPILED: dict[tuple[str, str], tuple[str, str, tuple[int, ...], tuple]] = {}


def owner_ids() -> RawSQL:
    """The owner ids of :func:`relations_fetch_compiled` as a subquery: ``filter(deal_id__in=owner_ids())``. The
    ids travel as one JSON parameter, so the SQL is the same whatever their number."""
    return RawSQL(_OWNERS, [_OWNERS])


def relations_fetch_compiled(
    *, key: str, parts: Callable[[], Iterable[RelationPart]], owners: Sequence[int], using: str = "default"
) -> dict[str, dict[int, list[list]]]:
    """:func:`relations_fetch` for ``owners``, with the SQL compiled once per ``key`` and database: ``parts()``
    builds the parts with ``<owner>__in=owner_ids()`` filters. Compiling the union through the ORM costs more than
    running it, on every request, so this keeps the compiled text and only binds the ids."""
    connection = connections[using]
    cached = _COMPILED.get((key, using))
    if cached is None:
        query = _union(parts())
        sql, params = query.query.get_compiler(using=using).as_sql()
        slots = tuple(i for i, value in enumerate(params) if value == _OWNERS)
        if connection.vendor == "postgresql":
            # "= ANY(array)": the planner knows the number of ids and looks each one up by the owner's index; the
            # same ids as a set-returning subquery (IN (SELECT ...)) were estimated at 100 rows and hash-joined
            # against a scan of every link table, which cost PostgreSQL 2 ms more CPU per page of 50 deals.
            sql = sql.replace(f"IN ({_OWNERS})", "= ANY(%s::bigint[])")
        else:
            sql = sql.replace(_OWNERS, "SELECT value FROM json_each(%s)")
        if _OWNERS in sql:
            raise ValueError(f"{key}: owner_ids() must be used as <owner>__in=owner_ids()")
        cached = _COMPILED[(key, using)] = (connection.vendor, sql, slots, tuple(params))
    vendor, sql, slots, params = cached
    bound = list(params)
    ids = list(owners) if vendor == "postgresql" else orjson.dumps(list(owners)).decode()
    for slot in slots:
        bound[slot] = ids
    with statement_cursor(connection) as cursor:
        cursor.execute(sql, bound)
        return _grouped(cursor.fetchall())


class _PreparedCursor(psycopg.Cursor):
    """Server-side binding (Django's psycopg cursors bind on the client, which cannot prepare), prepared on first
    use: psycopg keeps the prepared statement per connection and prepares it again on a new one."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def statement_cursor(connection):
    """A cursor for a compiled query that runs on every request: on PostgreSQL a server-side prepared statement
    (planning the relations union took 0.6 ms of its 2 ms; a prepared statement is planned once per connection)
    unless ``REEXAPI_DB_PREPARED_STATEMENTS`` is off; elsewhere the usual cursor. Either way Django's cursor wrapper
    runs it, so query logging, counting and error translation see it like any other query."""
    if connection.vendor != "postgresql" or not settings.REEXAPI_DB_PREPARED_STATEMENTS:
        return connection.cursor()
    # What connection.cursor() does before it makes its (client-binding) cursor.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        if connection.connection.prepare_threshold is None:
            # Django turns preparing off (None), which refuses prepare=True too; a threshold that no query reaches
            # keeps every other query unprepared, as Django wants, and lets this one ask.
            connection.connection.prepare_threshold = 2**31
        raw = _PreparedCursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
