"""Routes of the public API v1 (mounted at /api/v1/ by reexapi/urls.py); URL names are ``api:<basename>-…``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from deals.api import views
from deals.api.changes import ChangeFeedView

app_name = "api"

router = SimpleRouter()
router.register("deals", views.DealViewSet, basename="deal")
router.register("companies", views.CompanyViewSet, basename="company")
router.register("facilities", views.FacilityViewSet, basename="facility")
router.register("sources", views.SourceViewSet, basename="source")
router.register("commodities", views.CommodityViewSet, basename="commodity")

urlpatterns = [
    path("", views.ApiIndexView.as_view(), name="index"),
    path("changes/", ChangeFeedView.as_view(), name="change-list"),
    *router.urls,
]
