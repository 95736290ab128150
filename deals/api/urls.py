"""Routes of the public API v1 (mounted at /api/v1/ by reexapi/urls.py); URL names are ``api:<basename>-…``.

Beside each collection's list (``deals/``) is its CSV operation (``deals.csv``, name ``api:deal-csv``), and beside
the facilities the GeoJSON one (``facilities.geojson``, ``api:facility-geojson``): each operation answers one
media type, so the JSON operations stay JSON for generated clients.
"""

from django.urls import path, re_path
from rest_framework.routers import DynamicRoute, SimpleRouter

from deals.api import releases, search, stats, views
from deals.api.changes import ChangeFeedView

app_name = "api"


class ApiRouter(SimpleRouter):
    """SimpleRouter whose list-level actions are other formats of the list: ``@action(detail=False,
    url_path="csv")`` is routed at ``<prefix>.csv`` (a file name a download keeps), not ``<prefix>/csv/``, which
    would shadow a record whose slug is ``csv``."""

    routes = [
        route
        if not (isinstance(route, DynamicRoute) and not route.detail)
        else DynamicRoute(url=r"^{prefix}\.{url_path}$", name="{basename}-{url_name}", detail=False, initkwargs={})
        for route in SimpleRouter.routes
    ]


router = ApiRouter()
router.register("deals", views.DealViewSet, basename="deal")
router.register("companies", views.CompanyViewSet, basename="company")
router.register("facilities", views.FacilityViewSet, basename="facility")
router.register("sources", views.SourceViewSet, basename="source")
router.register("commodities", views.CommodityViewSet, basename="commodity")

_VERSION = rf"(?P<version>{releases.VERSION_REGEX})"
_NAME = rf"(?P<name>{releases.FILE_NAME_REGEX})"

urlpatterns = [
    path("", views.ApiIndexView.as_view(), name="index"),
    path("changes/", ChangeFeedView.as_view(), name="change-list"),
    *router.urls,
    path("releases/", releases.ReleaseListView.as_view(), name="release-list"),
    path("releases/index.json", releases.ReleaseIndexView.as_view(), name="release-index"),
    path("releases/latest/", releases.ReleaseLatestView.as_view(), name="release-latest"),
    re_path(rf"^releases/latest/{_NAME}$", releases.ReleaseLatestFileView.as_view(), name="release-latest-file"),
    re_path(rf"^releases/{_VERSION}/$", releases.ReleaseDetailView.as_view(), name="release-detail"),
    re_path(rf"^releases/{_VERSION}/{_NAME}$", releases.ReleaseFileView.as_view(), name="release-file"),
    path("stats/deals/", stats.DealStatsView.as_view(), name="stats-deals"),
    path("stats/facilities/", stats.FacilityStatsView.as_view(), name="stats-facilities"),
    path("search/", search.SearchView.as_view(), name="search"),
]
