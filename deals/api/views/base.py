"""What every view of the public read API shares: strict query parameters (:class:`StrictQueryMixin`), the
resource viewset with its CSV operation and fast read path (:class:`ReadOnlyResourceViewSet`), the OpenAPI
description of a resource (:func:`resource_schema`) and the selectors' querysets built once per process."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.viewsets import ReadOnlyModelViewSet

from deals.api import schema as docs
from deals.api import schema_examples as examples
from deals.api.fast.views import FastReadMixin
from deals.api.geojson import GeoJsonRenderer
from deals.api.pagination import ListPagination
from deals.api.publication import GONE_RESPONSE, MOVED_RESPONSE
from deals.api.query import StrictFilterBackend, StrictOrderingFilter, filterset_repeatable, query_params_check
from deals.api.renderers import CsvRenderer
from deals.api.renderers_json import FastJSONRenderer

# Slugs are [-a-zA-Z0-9_]; anything else in the path is a JSON 404 from the URL resolver (see api_not_found),
# so no odd byte (e.g. NUL) ever reaches a database lookup.
SLUG_REGEX = r"[-a-zA-Z0-9_]+"


_built = threading.local()


def selector_queryset(selector: Callable[..., QuerySet], **kwargs) -> QuerySet:
    """A clone (``.all()``) of the selector's queryset, built once per thread and never evaluated, as DRF does with
    a class-level ``queryset``. Building one (its prefetches, subqueries and ordering) took 0.45 ms of every
    request; cloning it takes 3 us. The selectors depend on nothing but their arguments.

    Per thread, not per process: clones share the selector's ``Prefetch`` querysets, and Django's prefetching sets
    flags on those (``_defer_next_filter``, ``_sticky_filter``) between two statements, which concurrent requests of
    a threaded server must not interleave. A sync gunicorn worker is one thread, so it builds each once."""
    cache = getattr(_built, "querysets", None)
    if cache is None:
        cache = _built.querysets = {}
    key = (selector, tuple(sorted(kwargs.items())))
    queryset = cache.get(key)
    if queryset is None:
        queryset = cache[key] = selector(**kwargs)
    return queryset.all()


def query_params_get(*, request):
    """The request's query parameters, or a 400 keyed by ``query`` when there are more than Django parses.

    Django refuses to parse a query string with more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` parameters
    (TooManyFieldsSent): an HTML 400 page, or a 500 through DRF under DEBUG. The API answers JSON like any other
    client mistake.
    """
    try:
        return request.query_params
    except TooManyFieldsSent:
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        raise ValidationError({"query": [f"Too many query parameters: at most {limit} are allowed."]}) from None


class StrictQueryMixin:
    """Validates the query string before anything else runs and renders every error as JSON.

    Lists accept their FilterSet's filters plus ``ordering``, ``page``, ``page_size``, ``cursor`` and ``format``
    (json); the CSV and GeoJSON operations the same without ``format`` (their path says it); details and the index
    accept ``format`` only (json).
    """

    list_parameters = ("ordering", "page", "page_size", "cursor", "format")
    # Actions that list a collection (with filters, ordering and pages); only the JSON list takes ``format``.
    collection_actions = ("list", "csv", "geojson")

    def query_filterset_class(self):
        """The FilterSet whose filters this request accepts (lists only; a statistics view names its own)."""
        if getattr(self, "action", None) in self.collection_actions:
            return getattr(self, "filterset_class", None)
        return None

    def allowed_query_params(self) -> set[str]:
        action = getattr(self, "action", None)
        if action in self.collection_actions:
            filterset_class = self.query_filterset_class()
            filters = set(filterset_class.base_filters) if filterset_class else set()
            parameters = set(self.list_parameters) if action == "list" else set(self.list_parameters) - {"format"}
            return filters | parameters
        return {"format"}

    def format_hint(self, requested: str) -> str:
        """What to add to the 400 for ``?format=<requested>``: where that format is served instead, if anywhere."""
        return ""

    def initial(self, request, *args, **kwargs):
        # DRF checks the method only after initial(): a write with a query string would get a 400 about the query
        # instead of the 405 that tells the client the API is read-only.
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise MethodNotAllowed(request.method)
        query_params_check(
            params=query_params_get(request=request),
            allowed=self.allowed_query_params(),
            repeatable=filterset_repeatable(self.query_filterset_class()),
        )
        requested = request.query_params.get("format")
        formats = list(dict.fromkeys(renderer.format for renderer in self.get_renderers()))
        if requested is not None and requested not in formats:
            message = f"Unknown format '{requested}'. Allowed here: {', '.join(formats)}." + self.format_hint(requested)
            raise ValidationError({"format": [message]})
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Errors are JSON whatever the negotiated format: a CSV error body would be unreadable.
        if response.status_code >= 400 and not isinstance(getattr(response, "accepted_renderer", None), JSONRenderer):
            response.accepted_renderer = FastJSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
            response.renderer_context = self.get_renderer_context()
        return response


class ReadOnlyResourceViewSet(StrictQueryMixin, FastReadMixin, ReadOnlyModelViewSet):
    """Base of every resource: read-only (writes get 405), looked up by slug, paginated, filterable, orderable;
    lists and details are JSON, and the ``csv`` action (routed at ``/api/v1/<collection>.csv``) is the list as
    CSV, with the same filters, ordering and pages. A subclass that declares ``fast_records`` serves its JSON list
    and detail through it (deals/api/fast/)."""

    lookup_field = "slug"
    lookup_value_regex = SLUG_REGEX
    pagination_class = ListPagination
    filter_backends = [StrictFilterBackend, StrictOrderingFilter]
    schema = docs.ApiAutoSchema()
    # Subclasses declare these.
    detail_serializer_class = None
    csv_serializer_class = None
    ordering_fields: dict[str, str] = {}
    ordering_description = "slug"

    # Each action answers one media type, so a JSON operation stays JSON for generated clients.
    action_renderers = {"csv": CsvRenderer, "geojson": GeoJsonRenderer}

    def get_renderers(self):
        return [self.action_renderers.get(getattr(self, "action", None), FastJSONRenderer)()]

    def format_hint(self, requested: str) -> str:
        if getattr(self, "action", None) == "list" and requested == "csv":
            return f" CSV is its own operation: {reverse(f'api:{self.basename}-csv')} (same filters, order and pages)."
        return ""

    @action(detail=False, url_path="csv", url_name="csv")
    def csv(self, request, *args, **kwargs):
        """The list as CSV (``/api/v1/<collection>.csv``)."""
        return self.list(request, *args, **kwargs)

    def get_serializer_class(self):
        if self.action == "csv":
            return self.csv_serializer_class
        if self.action == "retrieve" and self.detail_serializer_class is not None:
            return self.detail_serializer_class
        return self.serializer_class

    def csv_columns(self) -> list[str]:
        """Column names of the CSV format, in order (the CSV serializer's fields)."""
        return list(self.csv_serializer_class.Meta.fields)


def resource_schema(
    *,
    noun: str,
    plural: str,
    serializer,
    detail_serializer=None,
    list_example: dict,
    detail_example: dict,
    list_description: str,
    publishable: bool = False,
):
    """The OpenAPI documentation of a resource's list and detail operations; ``publishable`` resources (deals,
    companies, facilities) list only published records, and their details also answer 410 and 301."""
    lifecycle, history = {}, {}
    detail_description = f"One {noun} by slug. JSON only; the only query parameter accepted is `format=json`."
    if publishable:
        lifecycle = {(301, "application/json"): MOVED_RESPONSE, (410, "application/json"): GONE_RESPONSE}
        history = {"history": extend_schema(tags=[plural])}  # the rest is documented in deals/api/changes.py
        detail_description += (
            f" Only a published {noun} is shown; a draft answers 404 like a slug that does not exist. A withdrawn "
            f"{noun} answers 410 with the reason and the date; a {noun} merged into another, or an old slug after a "
            "rename, answers 301 to the current URL."
        )
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {plural}",
            tags=[plural],
            description=list_description,
            parameters=[docs.FORMAT_PARAMETER],
            responses={
                200: OpenApiResponse(serializer(many=True), description=f"A page of {plural}."),
                (400, "application/json"): docs.VALIDATION_ERROR_RESPONSE,
                (404, "application/json"): docs.LIST_NOT_FOUND_RESPONSE,
            },
            examples=[examples.example(f"A page of {plural}", list_example)],
        ),
        csv=extend_schema(
            operation_id=f"v1_{plural}_csv",
            summary=f"List {plural} as CSV",
            tags=[plural],
            description=f"The {plural} list as CSV: the same filters, ordering and pages as `/api/v1/{plural}/` "
            "(follow the `Link` header), one flat row per record with every field (columns in the response "
            f"schema). {docs.CSV_DESCRIPTION}",
            responses={
                (200, "text/csv"): OpenApiResponse(
                    OpenApiTypes.STR, description=f"A page of {plural}, one CSV row each, after a header row."
                ),
                (400, "application/json"): docs.VALIDATION_ERROR_RESPONSE,
                (404, "application/json"): docs.LIST_NOT_FOUND_RESPONSE,
            },
        ),
        retrieve=extend_schema(
            summary=f"Get one {noun}",
            tags=[plural],
            description=detail_description,
            parameters=[docs.slug_parameter(noun)],
            responses={
                (200, "application/json"): OpenApiResponse(detail_serializer or serializer, description=f"The {noun}."),
                **lifecycle,
                (400, "application/json"): docs.VALIDATION_ERROR_RESPONSE,
                (404, "application/json"): docs.DETAIL_NOT_FOUND_RESPONSE,
            },
            examples=[examples.example(f"A {noun}", detail_example)],
        ),
        **history,
    )
