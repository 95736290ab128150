"""Routes of the public API v1 (mounted at /api/v1/ by reexapi/urls.py); URL names are ``api:<basename>-…``."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from deals.api import releases, stats, views
from deals.api.changes import ChangeFeedView

app_name = "api"

router = SimpleRouter()
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
]
