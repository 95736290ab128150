"""Strict page-number pagination: bad page numbers and page sizes are a 400, never silently corrected."""

from __future__ import annotations

from django.core.paginator import InvalidPage
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

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
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            raise NotFound(
                f"Page {number} does not exist: there are {paginator.num_pages} page(s) of {page_size}."
            ) from None
        self.request = request
        return self.page.object_list

    def get_paginated_response(self, data):
        response = Response(
            {
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )
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
