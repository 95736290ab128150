"""The resources' viewsets: declarations only (queryset from a selector, serializers, filters, ordering).

The facilities also have a GeoJSON operation (``/api/v1/facilities.geojson``, the ``geojson`` action)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action

from deals import selectors
from deals.api import schema as docs
from deals.api import schema_examples as examples
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
from deals.api.geojson import GEOJSON_SCHEMA, facility_feature_collection
from deals.api.publication import PublicationLifecycleMixin
from deals.api.serializers import (
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
from deals.api.views.base import (
    ReadOnlyResourceViewSet,
    resource_schema,
    selector_queryset,
)
from deals.filtersets import CommodityFilterSet, CompanyFilterSet, DealFilterSet, FacilityFilterSet, SourceFilterSet
from deals.selectors.search import deal_search_page


@resource_schema(
    noun="deal",
    publishable=True,
    serializer=DealSerializer,
    detail_serializer=DealDetailSerializer,
    plural="deals",
    list_example=examples.DEAL_EXAMPLE,
    detail_example=examples.DEAL_DETAIL_EXAMPLE,
    list_description="Published deals with their parties, facilities, commodities, stages, countries and provenance. "
    "Default order: newest announcement first (undated last), ties by slug.",
)
class DealViewSet(RecordHistoryMixin, PublicationLifecycleMixin, ReadOnlyResourceViewSet):
    """Deals: funding rounds, offtakes, MOUs, grants, acquisitions…"""

    serializer_class = DealSerializer
    detail_serializer_class = DealDetailSerializer
    fast_records = staticmethod(deal_records)
    fast_search = staticmethod(deal_search_page)
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
        return selector_queryset(selectors.deal_list)


@resource_schema(
    noun="company",
    publishable=True,
    serializer=CompanySerializer,
    detail_serializer=CompanyDetailSerializer,
    plural="companies",
    list_example=examples.COMPANY_EXAMPLE,
    detail_example=examples.COMPANY_DETAIL_EXAMPLE,
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
        return selector_queryset(selectors.company_list, detail=self.action == "retrieve")


@resource_schema(
    noun="facility",
    publishable=True,
    serializer=FacilitySerializer,
    detail_serializer=FacilityDetailSerializer,
    plural="facilities",
    list_example=examples.FACILITY_EXAMPLE,
    detail_example=examples.FACILITY_DETAIL_EXAMPLE,
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
            examples.example(
                "A page of facilities on a map", examples.GEOJSON_EXAMPLE, media_type="application/geo+json"
            )
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
        return selector_queryset(selectors.facility_list)

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


@resource_schema(
    noun="source",
    serializer=SourceSerializer,
    detail_serializer=SourceDetailSerializer,
    plural="sources",
    list_example=examples.SOURCE_EXAMPLE,
    detail_example=examples.SOURCE_DETAIL_EXAMPLE,
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
        return selector_queryset(selectors.source_list, detail=self.action == "retrieve")


@resource_schema(
    noun="commodity",
    serializer=CommoditySerializer,
    plural="commodities",
    list_example=examples.COMMODITY_EXAMPLE,
    detail_example=examples.COMMODITY_EXAMPLE,
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
        return selector_queryset(selectors.commodity_list)
