"""Pagination of the lists: strict page numbers (bad page numbers and page sizes are a 400, never silently
corrected) and, on the five collections, cursor (keyset) pages whose cost does not grow with their depth
(deals/api/cursor.py).
"""

from __future__ import annotations

import re

from django.core.paginator import InvalidPage
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from deals.api.cursor import (
    CURSOR_MAX_LENGTH,
    Cursor,
    CursorError,
    OrderKey,
    cursor_decode,
    cursor_encode,
    keyset_after,
    list_fingerprint,
    ordering_keys,
)

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


def _positive_int(*, name: str, raw: str, maximum: int | None = None) -> int:
    """Parse a query parameter as a positive integer (plain decimal digits) or raise a 400 keyed by ``name``."""
    allowed = f"a whole number from 1 to {maximum}" if maximum else "a whole number of at least 1"
    if not raw.isascii() or not raw.isdigit():
        raise ValidationError({name: [f"'{raw[:50]}' is not a whole number; enter {allowed}."]})
    value = int(raw)
    if value < 1 or (maximum is not None and value > maximum):
        raise ValidationError({name: [f"{value} is out of range; enter {allowed}."]})
    return value


class StrictPageNumberPagination(PageNumberPagination):
    """``page`` (from 1) and ``page_size`` (1 to 100, default 25).

    - a ``page`` or ``page_size`` that is not a positive whole number, or a ``page_size`` above the maximum,
      is a 400 keyed by the parameter;
    - a ``page`` past the last page is a 404 (page 1 always exists, possibly empty).

    Responses carry ``count``, ``next``, ``previous`` and ``results``, and the same links in a ``Link``
    header (RFC 8288) so that CSV clients can follow them too.
    """

    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    page_query_param = "page"
    last_page_strings = ()

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        return _positive_int(name=self.page_size_query_param, raw=raw, maximum=self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        return list(self.page_queryset(queryset, request, view))

    def page_queryset(self, queryset, request, view=None):
        """The page's rows as an unevaluated, sliced queryset (what :meth:`paginate_queryset` lists).

        The fast read path builds its records from it with ``values()`` instead of model instances.
        """
        page_size = self.get_page_size(request)
        raw = request.query_params.get(self.page_query_param)
        number = 1 if raw is None else _positive_int(name=self.page_query_param, raw=raw)
        paginator = self.django_paginator_class(queryset, page_size)
        if hasattr(queryset, "page_expect"):  # a compiled list (deals/api/fast/compiled.py) reads it with the count
            queryset.page_expect(offset=(number - 1) * page_size, limit=page_size)
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            raise NotFound(
                f"Page {number} does not exist: there are {paginator.num_pages} page(s) of {page_size}."
            ) from None
        self.request = request
        return self.page.object_list

    def get_paginated_response(self, data):
        return self.linked_response(
            {
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def linked_response(self, body: dict) -> Response:
        """``body`` as a response, with the page's ``next``/``prev`` links in a ``Link`` header too."""
        response = Response(body)
        links = [
            f'<{url}>; rel="{rel}"'
            for rel, url in (("next", self.get_next_link()), ("prev", self.get_previous_link()))
            if url
        ]
        if links:
            response["Link"] = ", ".join(links)
        return response

    def get_previous_link(self):
        # Always an explicit page number, so the link still points at page 1 if the default page changes.
        if not self.page.has_previous():
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, self.page.previous_page_number())

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "description": "One page of results.",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "description": "Number of matching records on all pages.", "example": 123},
                "next": {
                    "type": ["string", "null"],
                    "format": "uri",
                    "description": "URL of the next page; null on the last page.",
                    "example": "http://127.0.0.1:8000/api/v1/deals/?page=2",
                },
                "previous": {
                    "type": ["string", "null"],
                    "format": "uri",
                    "description": "URL of the previous page; null on the first page.",
                    "example": None,
                },
                # drf-spectacular builds list examples by finding its own `schema` object here, so keep it as is
                # unless it is a real schema dict.
                "results": {**schema, "description": "The records of this page."}
                if isinstance(schema, dict)
                else schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1. Not a positive whole number: 400; past the last page: 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page: default {DEFAULT_PAGE_SIZE}, maximum {MAX_PAGE_SIZE}. "
                "Larger values are a 400, not silently reduced.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
            },
        ]


CURSOR_PARAM = "cursor"
# Query parameters that do not change which rows a list has, or their order: a cursor stays valid across them.
_NOT_FILTERS = {CURSOR_PARAM, "page", "page_size", "format"}
_CURSOR_HELP = (
    "Cursor (keyset) paging, for walking a whole list or reaching deep pages: send an empty `cursor=` for the first "
    "page, then follow `next` and `previous` (also in the `Link` header), whose `cursor` values are opaque. A page "
    "costs the same however deep it is, and its `count` is null. A cursor is valid with the filters, search and "
    "`ordering` it was made with (any `page_size`). A value outside the pattern is a 400 naming `cursor`; a cursor "
    "this API did not make for this list (altered, or made for other filters, another search or another ordering) "
    "names no page of it: a 404 naming `cursor`. With a cursor, `page` is ignored."
)
_CURSOR_PATTERN = r"^[-A-Za-z0-9_.]*$"


class ListPagination(StrictPageNumberPagination):
    """The collections' pagination: page numbers (the default, see :class:`StrictPageNumberPagination`) or, with a
    ``cursor`` parameter, keyset pages over the list's effective ordering (deals/api/cursor.py).

    In cursor mode a page has ``next``, ``previous`` and ``results``, and ``count`` is null (it would cost a COUNT
    over the whole list on every page, which is what cursor paging avoids); the same links are in ``Link``. It costs
    the same number of queries as a numbered page: the page's key values (``page_size + 1`` rows, to know whether
    there is more), in place of the count, then the rows by primary key.
    """

    cursor_query_param = CURSOR_PARAM
    # The links of the current cursor page; None for a numbered page.
    cursor_links: dict | None = None

    def cursor_mode(self, request) -> bool:
        """Whether the request asks for a cursor page (``cursor`` given, even empty)."""
        return self.cursor_query_param in request.query_params

    def page_queryset(self, queryset, request, view=None):
        if not self.cursor_mode(request):
            self.cursor_links = None
            return super().page_queryset(queryset, request, view)
        return self._cursor_page_queryset(queryset, request, view)

    def _fingerprint(self, *, request, view, keys: list[OrderKey]) -> str:
        """What a cursor of this request is valid for: the list, its ordering keys, and every filter and ``q``."""
        params = request.query_params
        parts = [getattr(view, "basename", "") or "", ",".join(key.spec() for key in keys)]
        for name in sorted(params):
            if name not in _NOT_FILTERS:
                parts.append(f"{name}={'|'.join(sorted(params.getlist(name)))}")
        return list_fingerprint(parts=parts)

    def _cursor_page_queryset(self, queryset, request, view):
        """The cursor page as a sliced queryset: one query reads the key values of up to ``page_size + 1`` rows
        after (or, going back, before) the cursor's boundary; the page is then those rows by primary key."""
        # The cursor names the page, so `page` is ignored, though a malformed one is still the 400 it always is. (A
        # 400 for the pair would refuse requests the schema allows: OpenAPI cannot say that two parameters exclude
        # each other.)
        if self.page_query_param in request.query_params:
            _positive_int(name=self.page_query_param, raw=request.query_params[self.page_query_param])
        page_size = self.get_page_size(request)
        queryset, keys = ordering_keys(queryset)
        fingerprint = self._fingerprint(request=request, view=view, keys=keys)
        raw = request.query_params[self.cursor_query_param]
        cursor = None
        if raw:
            try:
                cursor = cursor_decode(token=raw, fingerprint=fingerprint, keys=len(keys))
            except CursorError as error:
                detail = {
                    self.cursor_query_param: [
                        f"This cursor cannot be used here: {error} Follow the next or previous link of a page, "
                        "or start again with an empty cursor=."
                    ]
                }
                # Outside the documented pattern: malformed input (400). Inside it: a well-formed name of a page
                # this list does not have, like a page number past the end (404).
                if not re.fullmatch(_CURSOR_PATTERN, raw):
                    raise ValidationError(detail) from None
                raise NotFound(detail) from None
        backwards = cursor is not None and cursor.backwards
        walk_keys = [key.flipped() for key in keys] if backwards else keys
        walk = queryset.order_by(*(key.order_by() for key in walk_keys))
        if cursor is not None:
            walk = walk.filter(keyset_after(keys=walk_keys, values=cursor.values, inclusive=cursor.inclusive))
        # The key values only (no prefetches, no other annotations): cheap, and they name the page's boundaries.
        names = [key.name for key in keys if key.name != "pk"]
        rows = list(walk.prefetch_related(None).values_list("pk", *names)[: page_size + 1])
        more = len(rows) > page_size
        rows = rows[:page_size]
        if backwards:
            rows.reverse()
        self.request = request
        self.cursor_links = self._cursor_links(
            rows=[[row[0] if key.name == "pk" else row[1 + names.index(key.name)] for key in keys] for row in rows],
            cursor=cursor,
            more=more,
            fingerprint=fingerprint,
        )
        page = queryset.order_by(*(key.order_by() for key in keys)).filter(pk__in=[row[0] for row in rows])
        return page[:page_size]

    def _cursor_links(self, *, rows: list[list], cursor: Cursor | None, more: bool, fingerprint: str) -> dict:
        """The ``next`` and ``previous`` URLs of a cursor page whose rows have the key values ``rows``."""

        def link(values, *, backwards: bool, inclusive: bool = False) -> str:
            token = cursor_encode(
                cursor=Cursor(values=values, backwards=backwards, inclusive=inclusive), fingerprint=fingerprint
            )
            # Without `page`, which a cursor page ignores: the links stay the canonical URL of their page.
            url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
            return replace_query_param(url, self.cursor_query_param, token)

        next_link = previous_link = None
        if cursor is None or not cursor.backwards:
            if more:
                next_link = link(rows[-1], backwards=False)
            if cursor is not None:
                # An empty page after the boundary: the page before is the boundary and what precedes it.
                previous_link = (
                    link(rows[0], backwards=True)
                    if rows
                    else link(cursor.values, backwards=True, inclusive=not cursor.inclusive)
                )
        else:
            if more:
                previous_link = link(rows[0], backwards=True)
            next_link = (
                link(rows[-1], backwards=False)
                if rows
                else link(cursor.values, backwards=False, inclusive=not cursor.inclusive)
            )
        return {"next": next_link, "previous": previous_link}

    def get_next_link(self):
        if self.cursor_links is not None:
            return self.cursor_links["next"]
        return super().get_next_link()

    def get_previous_link(self):
        if self.cursor_links is not None:
            return self.cursor_links["previous"]
        return super().get_previous_link()

    def get_paginated_response(self, data):
        if self.cursor_links is None:
            return super().get_paginated_response(data)
        return self.linked_response({"count": None, **self.cursor_links, "results": data})

    def get_paginated_response_schema(self, schema):
        result = super().get_paginated_response_schema(schema)
        result["description"] = "One page of results: numbered, or a cursor page (whose `count` is null)."
        result["properties"]["count"] = {
            **result["properties"]["count"],
            "type": ["integer", "null"],
            "description": "Number of matching records on all pages; null on a cursor page (counting every page is "
            "the cost cursor paging avoids).",
        }
        result["properties"]["next"]["description"] = (
            "URL of the next page (a `page` or, on a cursor page, a `cursor` link); null on the last page."
        )
        result["properties"]["previous"]["description"] = (
            "URL of the previous page (a `page` or, on a cursor page, a `cursor` link); null on the first page."
        )
        return result

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": _CURSOR_HELP,
                "schema": {"type": "string", "maxLength": CURSOR_MAX_LENGTH, "pattern": _CURSOR_PATTERN},
            },
        ]
