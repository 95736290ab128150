"""One search across resources: ``/api/v1/search/?q=`` (the matching rules of :mod:`deals.selectors.search`).

Published deals, companies and facilities and every commodity whose stored search document matches ``q``, best
first, each with a short fragment of the text that matched: HTML-escaped, the matched words wrapped in
``<mark>…</mark>`` (PostgreSQL's ``ts_headline``, SQLite's FTS5 ``snippet()``).
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from deals.api import schema as docs
from deals.api import schema_examples as examples
from deals.api.pagination import StrictPageNumberPagination
from deals.api.views import StrictQueryMixin
from deals.selectors.search import SEARCH_TYPES, search_hits, search_hits_count, search_terms

Q_PARAM, TYPE_PARAM = "q", "type"
MAX_Q_LENGTH = 200
_TYPES = tuple(SEARCH_TYPES)
_BASENAMES = {"deal": "deal", "company": "company", "facility": "facility", "commodity": "commodity"}


class SearchHitSerializer(serializers.Serializer):
    """One record found by the search."""

    type = serializers.ChoiceField(choices=_TYPES, read_only=True, help_text="What the record is.")
    slug = serializers.CharField(read_only=True, help_text="The record's slug (unique within its type).")
    name = serializers.CharField(read_only=True, help_text="The deal's title, or the record's name.")
    url = serializers.URLField(read_only=True, help_text="Absolute URL of the record in the API.")
    rank = serializers.DecimalField(
        max_digits=20,
        decimal_places=6,
        read_only=True,
        help_text="Relevance as a decimal string (six places, like every number in this API): higher is better. "
        "Comparable only between the hits of one database (PostgreSQL's "
        "ts_rank, SQLite's negated bm25), not across deployments.",
    )
    fragment = serializers.CharField(
        read_only=True,
        help_text="A short passage of the record's searched text around the matched words, as HTML: the text is "
        "escaped and each matched word is wrapped in `<mark>…</mark>`. May be empty.",
    )


class SearchPageSerializer(serializers.Serializer):
    """One page of search hits, best first."""

    count = serializers.IntegerField(read_only=True, min_value=0, help_text="Number of hits on all pages.")
    next = serializers.URLField(read_only=True, allow_null=True, help_text="URL of the next page; null on the last.")
    previous = serializers.URLField(
        read_only=True, allow_null=True, help_text="URL of the previous page; null on the first."
    )
    results = SearchHitSerializer(many=True, read_only=True, help_text="The hits of this page, best first.")


class _Hits:
    """The hits of one search as a sequence for Django's Paginator: one query to count, one (plus one for the
    fragments) per page."""

    def __init__(self, *, q: str, types: list[str]):
        self.q, self.types = q, types

    def count(self) -> int:
        return search_hits_count(q=self.q, types=self.types) if search_terms(q=self.q) else 0

    def __getitem__(self, item: slice):
        if not search_terms(q=self.q):
            return []
        return search_hits(q=self.q, types=self.types, offset=item.start, limit=item.stop - item.start)


def search_params(*, params) -> tuple[str, list[str]]:
    """``q`` and the selected types from the query string, or a 400 naming every parameter that is wrong."""
    errors: dict[str, list[str]] = {}
    q = params.get(Q_PARAM)
    if not q:  # missing or empty; a blank or punctuation-only q has no terms and finds nothing
        errors[Q_PARAM] = [f"Required: the text to search for, 1 to {MAX_Q_LENGTH} characters."]
    types: list[str] = []
    for raw in params.getlist(TYPE_PARAM):  # given once at most (deals.api.query)
        for value in filter(None, (item.strip() for item in raw.split(","))):
            if value not in SEARCH_TYPES:
                errors.setdefault(TYPE_PARAM, []).append(f"'{value[:50]}' is not a type. Allowed: {', '.join(_TYPES)}.")
            elif value not in types:
                types.append(value)
    if errors:
        raise ValidationError(errors)
    return q, [kind for kind in _TYPES if kind in types] or list(_TYPES)


SEARCH_EXAMPLE = {
    "count": 2,
    "next": None,
    "previous": None,
    "results": [
        {
            "type": "deal",
            "slug": "example-magnet-offtake",
            "name": "Example Co. magnet offtake",
            "url": "http://127.0.0.1:8000/api/v1/deals/example-magnet-offtake/",
            "rank": "0.690000",
            "fragment": "Example Co. <mark>magnet</mark> offtake Example Co. will buy the <mark>magnets</mark>",
        },
        {
            "type": "facility",
            "slug": "example-magnet-plant",
            "name": "Example magnet plant",
            "url": "http://127.0.0.1:8000/api/v1/facilities/example-magnet-plant/",
            "rank": "0.610000",
            "fragment": "Example <mark>magnet</mark> plant",
        },
    ],
}


# The pagination's own parameters, as the lists document them (an APIView gets none from drf-spectacular).
_PAGE_PARAMETERS = [
    OpenApiParameter(
        name=parameter["name"],
        type=parameter["schema"],
        required=False,
        description=parameter["description"],
    )
    for parameter in StrictPageNumberPagination().get_schema_operation_parameters(None)
]


class SearchView(StrictQueryMixin, APIView):
    """``/api/v1/search/``: the published records of every searchable type matching ``q``, ranked."""

    renderer_classes = [JSONRenderer]
    pagination_class = StrictPageNumberPagination
    schema = docs.ApiAutoSchema()

    def allowed_query_params(self) -> set[str]:
        return {Q_PARAM, TYPE_PARAM, "page", "page_size", "format"}

    def query_filterset_class(self):
        return None

    @extend_schema(
        operation_id="search",
        summary="Search across resources",
        tags=["search"],
        description="Published deals, companies and facilities and every commodity whose searched text matches "
        "`q`, ranked by relevance (best first; ties by slug, then type). The searched text and the matching "
        "rules are those of each list's `q`: every term (a run of letters and digits) must match a whole word "
        "after both are stemmed (Porter), case-insensitively; names and titles weigh most, then summaries and "
        "descriptions, then evidence quotes and linked commodities' names. A `q` without any letter or digit "
        "finds nothing. Each hit has a short highlighted fragment (HTML-escaped text, matches in "
        "`<mark>…</mark>`).",
        parameters=[
            OpenApiParameter(
                name=Q_PARAM,
                type={"type": "string", "minLength": 1},
                required=True,
                description=f"The text to search for: 1 to {MAX_Q_LENGTH} characters (missing or empty: 400). A "
                "value without any letter or digit (e.g. `!` or spaces) has no terms and finds nothing.",
            ),
            OpenApiParameter(
                name=TYPE_PARAM,
                type={"type": "array", "items": {"type": "string", "enum": list(_TYPES)}},
                required=False,
                style="form",
                explode=False,
                description="Only hits of these types, comma-separated (`type=deal,company`). Default (also when "
                "empty): all. An unknown type is a 400.",
            ),
            *_PAGE_PARAMETERS,
            OpenApiParameter(
                name="format",
                type=str,
                enum=["json"],
                required=False,
                description="Response format: json (the only one).",
            ),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(SearchPageSerializer, description="One page of hits."),
            (400, "application/json"): docs.VALIDATION_ERROR_RESPONSE,
            (404, "application/json"): docs.LIST_NOT_FOUND_RESPONSE,
        },
        examples=[examples.example("Hits for q=magnet", SEARCH_EXAMPLE)],
    )
    def get(self, request):
        q, types = search_params(params=request.query_params)
        paginator = self.pagination_class()
        page = paginator.page_queryset(_Hits(q=q, types=types), request, self)
        hits = [
            {
                "type": hit.type,
                "slug": hit.slug,
                "name": hit.name,
                "url": request.build_absolute_uri(reverse(f"api:{_BASENAMES[hit.type]}-detail", args=[hit.slug])),
                "rank": f"{hit.rank:.6f}",
                "fragment": hit.fragment,
            }
            for hit in page
        ]
        return paginator.get_paginated_response(SearchHitSerializer(hits, many=True).data)
