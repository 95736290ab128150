"""Views of the public read API: declarations only (queryset from a selector, serializers, filters, ordering).

Shared behaviour lives in :class:`ReadOnlyResourceViewSet`: strict query parameters, JSON errors, the CSV
operation beside each list (``/api/v1/<collection>.csv``, the ``csv`` action), and the OpenAPI error responses.
The facilities also have a GeoJSON operation (``/api/v1/facilities.geojson``, the ``geojson`` action).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.db.models import QuerySet
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import ReadOnlyModelViewSet

from deals import selectors
from deals.api import schema as docs
from deals.api.changes import RecordHistoryMixin
from deals.api.csv import (
    CommodityCsvSerializer,
    CompanyCsvSerializer,
    DealCsvSerializer,
    FacilityCsvSerializer,
    SourceCsvSerializer,
)
from deals.api.fast.commodities import commodity_records
from deals.api.fast.companies import company_records
from deals.api.fast.deals import deal_records
from deals.api.fast.facilities import facility_records
from deals.api.fast.sources import source_records
from deals.api.fast.views import FastReadMixin
from deals.api.geojson import GEOJSON_SCHEMA, GeoJsonRenderer, facility_feature_collection
from deals.api.pagination import ListPagination
from deals.api.publication import GONE_RESPONSE, MOVED_RESPONSE, PublicationLifecycleMixin
from deals.api.query import StrictFilterBackend, StrictOrderingFilter, filterset_repeatable, query_params_check
from deals.api.renderers import CsvRenderer
from deals.api.renderers_json import FastJSONRenderer
from deals.api.serializers import (
    ApiIndexSerializer,
    CommoditySerializer,
    CompanyDetailSerializer,
    CompanySerializer,
    DealDetailSerializer,
    DealSerializer,
    FacilityDetailSerializer,
    FacilitySerializer,
    SourceDetailSerializer,
    SourceSerializer,
)
from deals.citation import citation_text_get
from deals.filtersets import CommodityFilterSet, CompanyFilterSet, DealFilterSet, FacilityFilterSet, SourceFilterSet
from deals.licensing import DATASET_LICENSE

# Slugs are [-a-zA-Z0-9_]; anything else in the path is a JSON 404 from the URL resolver (see api_not_found),
# so no odd byte (e.g. NUL) ever reaches a database lookup.
SLUG_REGEX = r"[-a-zA-Z0-9_]+"


@functools.cache
def _selector_queryset(selector: Callable[..., QuerySet], **kwargs) -> QuerySet:
    """The selector's queryset, built once per process and never evaluated: ``get_queryset`` returns a clone of it
    (``.all()``), as DRF does with a class-level ``queryset``. Building one (its prefetches, subqueries and
    ordering) took 0.45 ms of every request; cloning it takes 3 us. The selectors depend on nothing but their
    arguments."""
    return selector(**kwargs)


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


def _resource_schema(
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
            examples=[docs.example(f"A page of {plural}", list_example)],
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
            examples=[docs.example(f"A {noun}", detail_example)],
        ),
        **history,
    )


@_resource_schema(
    noun="deal",
    publishable=True,
    serializer=DealSerializer,
    detail_serializer=DealDetailSerializer,
    plural="deals",
    list_example=docs.DEAL_EXAMPLE,
    detail_example=docs.DEAL_DETAIL_EXAMPLE,
    list_description="Published deals with their parties, facilities, commodities, stages, countries and provenance. "
    "Default order: newest announcement first (undated last), ties by slug.",
)
class DealViewSet(RecordHistoryMixin, PublicationLifecycleMixin, ReadOnlyResourceViewSet):
    """Deals: funding rounds, offtakes, MOUs, grants, acquisitions…"""

    serializer_class = DealSerializer
    detail_serializer_class = DealDetailSerializer
    fast_records = staticmethod(deal_records)
    csv_serializer_class = DealCsvSerializer
    filterset_class = DealFilterSet
    ordering_fields = {
        "announced_date": "announced_date",
        "amount_usd": "amount_usd",
        "title": "title",
        "slug": "slug",
        "evidence_count": "evidence_count",
        "updated": "updated",
    }
    ordering_description = "-announced_date (undated last), then slug"

    def get_queryset(self):
        return _selector_queryset(selectors.deal_list).all()


@_resource_schema(
    noun="company",
    publishable=True,
    serializer=CompanySerializer,
    detail_serializer=CompanyDetailSerializer,
    plural="companies",
    list_example=docs.COMPANY_EXAMPLE,
    detail_example=docs.COMPANY_DETAIL_EXAMPLE,
    list_description="Published companies, governments and agencies with counts of their published deals and "
    "facilities and of their evidence, and their provenance. The detail adds their deals and facilities with "
    "roles. Default order: name, slug.",
)
class CompanyViewSet(RecordHistoryMixin, PublicationLifecycleMixin, ReadOnlyResourceViewSet):
    """Companies, governments and agencies."""

    serializer_class = CompanySerializer
    detail_serializer_class = CompanyDetailSerializer
    fast_records = staticmethod(company_records)
    csv_serializer_class = CompanyCsvSerializer
    filterset_class = CompanyFilterSet
    ordering_fields = {
        "name": "name",
        "slug": "slug",
        "deal_count": "deal_count",
        "facility_count": "facility_count",
        "evidence_count": "evidence_count",
        "updated": "updated",
    }
    ordering_description = "name, then slug"

    def get_queryset(self):
        return _selector_queryset(selectors.company_list, detail=self.action == "retrieve").all()


@_resource_schema(
    noun="facility",
    publishable=True,
    serializer=FacilitySerializer,
    detail_serializer=FacilityDetailSerializer,
    plural="facilities",
    list_example=docs.FACILITY_EXAMPLE,
    detail_example=docs.FACILITY_DETAIL_EXAMPLE,
    list_description="Published mines, refineries, magnet and battery-materials plants with their companies (and "
    "roles), commodities, deals and provenance. Default order: name, slug.",
)
@extend_schema_view(
    geojson=extend_schema(
        operation_id="v1_facilities_geojson",
        summary="Facilities on a map (GeoJSON)",
        tags=["facilities"],
        description=docs.GEOJSON_DESCRIPTION,
        responses={
            (200, "application/geo+json"): OpenApiResponse(
                GEOJSON_SCHEMA, description="A page of facilities as a GeoJSON FeatureCollection."
            ),
            (400, "application/json"): docs.VALIDATION_ERROR_RESPONSE,
            (404, "application/json"): docs.LIST_NOT_FOUND_RESPONSE,
        },
        examples=[
            docs.example("A page of facilities on a map", docs.GEOJSON_EXAMPLE, media_type="application/geo+json")
        ],
    )
)
class FacilityViewSet(RecordHistoryMixin, PublicationLifecycleMixin, ReadOnlyResourceViewSet):
    """Facilities: mines, separation plants, magnet plants…"""

    serializer_class = FacilitySerializer
    detail_serializer_class = FacilityDetailSerializer
    fast_records = staticmethod(facility_records)
    csv_serializer_class = FacilityCsvSerializer
    filterset_class = FacilityFilterSet
    ordering_fields = {
        "name": "name",
        "slug": "slug",
        "planned_start": "planned_start",
        "capacity_amount": "capacity_amount",
        "evidence_count": "evidence_count",
        "updated": "updated",
    }
    ordering_description = "name, then slug"

    def get_queryset(self):
        return _selector_queryset(selectors.facility_list).all()

    def format_hint(self, requested: str) -> str:
        if getattr(self, "action", None) == "list" and requested == "geojson":
            return f" GeoJSON is its own operation: {reverse('api:facility-geojson')} (same filters, order and pages)."
        return super().format_hint(requested)

    @action(detail=False, url_path="geojson", url_name="geojson")
    def geojson(self, request, *args, **kwargs):
        """The list as a GeoJSON FeatureCollection (``/api/v1/facilities.geojson``): see deals/api/geojson.py."""
        # The features' properties are the JSON list's records (the fast read path, as the list itself).
        queryset = self.filter_queryset(self.get_queryset())
        properties = facility_records(rows=self.paginator.page_queryset(queryset, request, self), request=request)
        response = self.get_paginated_response(properties)
        response.data = facility_feature_collection(properties=properties, page=response.data)
        return response


@_resource_schema(
    noun="source",
    serializer=SourceSerializer,
    detail_serializer=SourceDetailSerializer,
    plural="sources",
    list_example=docs.SOURCE_EXAMPLE,
    detail_example=docs.SOURCE_DETAIL_EXAMPLE,
    list_description="The documents the published records are derived from: a source is listed once a published "
    "record cites it (metadata and digests; the detail adds the normalised text and every published deal, company "
    "and facility the source supports). Default order: slug.",
)
class SourceViewSet(ReadOnlyResourceViewSet):
    """Source documents."""

    serializer_class = SourceSerializer
    detail_serializer_class = SourceDetailSerializer
    fast_records = staticmethod(source_records)
    csv_serializer_class = SourceCsvSerializer
    filterset_class = SourceFilterSet
    ordering_fields = {
        "slug": "slug",
        "title": "title",
        "publisher": "publisher",
        "published_date": "published_date",
        "evidence_count": "evidence_count",
        "updated": "updated",
    }
    ordering_description = "slug"

    def get_queryset(self):
        return _selector_queryset(selectors.source_list, detail=self.action == "retrieve").all()


@_resource_schema(
    noun="commodity",
    serializer=CommoditySerializer,
    plural="commodities",
    list_example=docs.COMMODITY_EXAMPLE,
    detail_example=docs.COMMODITY_EXAMPLE,
    list_description="The commodity vocabulary (elements, groups, materials, products) with counts of deals and "
    "facilities. Default order: name, slug.",
)
class CommodityViewSet(ReadOnlyResourceViewSet):
    """Commodities."""

    serializer_class = CommoditySerializer
    fast_records = staticmethod(commodity_records)
    csv_serializer_class = CommodityCsvSerializer
    filterset_class = CommodityFilterSet
    ordering_fields = {
        "name": "name",
        "slug": "slug",
        "deal_count": "deal_count",
        "facility_count": "facility_count",
    }
    ordering_description = "name, then slug"

    def get_queryset(self):
        return _selector_queryset(selectors.commodity_list).all()


class ApiIndexView(StrictQueryMixin, APIView):
    """The API root: links to every collection and to the documentation."""

    renderer_classes = [FastJSONRenderer]
    schema = docs.ApiAutoSchema()

    @extend_schema(
        operation_id="api_index",
        summary="API index",
        tags=["index"],
        description="Links to the collections and the documentation, the dataset's licence and how to cite it. The "
        "only query parameter accepted is `format=json`.",
        responses={
            200: OpenApiResponse(ApiIndexSerializer, description="Links to the collections and the docs."),
            (400, "application/json"): docs.VALIDATION_ERROR_RESPONSE,
        },
        examples=[docs.example("The index", docs.INDEX_EXAMPLE)],
    )
    def get(self, request):
        links = {
            name: request.build_absolute_uri(reverse(f"api:{basename}-list"))
            for name, basename in (
                ("deals", "deal"),
                ("companies", "company"),
                ("facilities", "facility"),
                ("sources", "source"),
                ("commodities", "commodity"),
            )
        }
        for name, view_name in (
            ("releases", "api:release-list"),
            ("changes", "api:change-list"),
            ("deal_stats", "api:stats-deals"),
            ("facility_stats", "api:stats-facilities"),
            ("search", "api:search"),
        ):
            links[name] = request.build_absolute_uri(reverse(view_name))
        for name, view_name in (("schema", "schema"), ("docs", "swagger-ui"), ("redoc", "redoc")):
            links[name] = request.build_absolute_uri(reverse(view_name))
        links["license"] = DATASET_LICENSE
        links["citation"] = citation_text_get(url=request.build_absolute_uri("/"))
        return Response(ApiIndexSerializer(links).data)


class SchemaView(StrictQueryMixin, SpectacularAPIView):
    """The OpenAPI schema, strict like every other endpoint: the only query parameter is ``format`` (json or
    yaml; YAML by default). Anything else (``version``, ``lang``, unknown names) is a JSON 400, so a client cannot
    make the schema echo its input, and the response cache holds at most one schema per format."""


READ_METHODS = ("GET", "HEAD", "OPTIONS")


def _resolves_to_a_view(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.func is not api_fallback


@csrf_exempt
def api_fallback(request, rest: str = ""):
    """Every ``/api/…`` path no route matches (the last URL pattern): JSON, whatever DEBUG says.

    Because it matches everything under /api/, CommonMiddleware's APPEND_SLASH never redirects there (and never
    raises its DEBUG-only RuntimeError for a POST), so this view does it: a path that exists with a trailing slash is
    a 301 to it for reads, and 405 for writes (the API is read-only). Anything else is a JSON 404.
    """
    if not request.path_info.endswith("/") and _resolves_to_a_view(request.path_info + "/"):
        if request.method in READ_METHODS:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
        response = JsonResponse({"detail": f'Method "{request.method}" not allowed.'}, status=405)
        response["Allow"] = ", ".join(READ_METHODS)
        return response
    return JsonResponse({"detail": "Not found: no API resource at this path."}, status=404)


def api_not_found(request, exception=None):
    """404 handler: JSON under /api/, Django's usual page elsewhere (the admin)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found: no API resource at this path."}, status=404)
    return defaults.page_not_found(request, exception)


def api_server_error(request):
    """500 handler: JSON under /api/ (should never happen; every client mistake is a 4xx)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return defaults.server_error(request)
