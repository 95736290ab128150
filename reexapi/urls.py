"""Top-level URL configuration: the admin, the public API v1 and its OpenAPI schema and documentation."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("deals.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"),
        name="redoc",
    ),
]

# JSON 404/500 under /api/ (e.g. a path that is not a valid slug); Django's pages elsewhere.
handler404 = "deals.api.views.api_not_found"
handler500 = "deals.api.views.api_server_error"
