"""Top-level URL configuration: the landing page, the admin, the public API v1 and its OpenAPI schema and docs."""

from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from deals.api.views import SchemaView, api_fallback
from deals.web.landing import landing


def favicon(request):
    """Browsers ask every site for /favicon.ico (the admin declares none): the sidecar's icon, not a 404."""
    return HttpResponsePermanentRedirect(static("drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png"))


urlpatterns = [
    # The landing page for people: the dataset, its licence and citation, the latest release, charts (deals/web/).
    path("", landing, name="landing"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", include("deals.api.urls")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script from ?script= instead of inline, so the page works under a
    # Content-Security-Policy without 'unsafe-inline' scripts; and, unlike SpectacularSwaggerView, it does not send
    # COOP unsafe-none (meant for OAuth2 login popups; this API has no authentication), so the docs get same-origin.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"),
        name="redoc",
    ),
    # Last: any other /api/ path is JSON (404, or the trailing-slash redirect / 405), even with DEBUG on.
    re_path(r"^api/(?P<rest>.*)$", api_fallback, name="api-fallback"),
]

# JSON 404/500 under /api/ (e.g. a path that is not a valid slug); Django's pages elsewhere. A database failure
# is a 503 with Retry-After instead of a 500 (deals/outages.py).
handler404 = "deals.api.views.api_not_found"
handler500 = "deals.outages.server_error"
