"""The API root, the schema view, and the JSON answers for what no view serves (404, 405, 500)."""

from __future__ import annotations

from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from deals.api import schema as docs
from deals.api import schema_examples as examples
from deals.api.renderers_json import FastJSONRenderer
from deals.api.serializers import (
    ApiIndexSerializer,
)
from deals.api.views.base import (
    StrictQueryMixin,
)
from deals.citation import citation_text_get
from deals.licensing import DATASET_LICENSE


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
        examples=[examples.example("The index", examples.INDEX_EXAMPLE)],
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
