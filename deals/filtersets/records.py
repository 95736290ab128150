"""The FilterSets of the other resources: companies, facilities, sources and commodities."""

from __future__ import annotations

from django.db.models import Q
from django_filters import rest_framework as filters

from deals.api.updated_since import updated_since_filter
from deals.filtersets.base import (
    MULTI_HELP,
    AskedFiltersFilterSet,
    CommodityFilter,
    FreeValuesFilter,
    RegionCodeFilter,
    SearchFilter,
    SlugFilter,
    choice_filter,
    country_filter,
    date_filter,
)
from deals.models import (
    Commodity,
    Company,
    Facility,
    FacilityCompany,
    PublicationStatus,
    Source,
)
from deals.range_filters import period_filter, quantity_filter, whole_filter

_PUBLISHED = PublicationStatus.PUBLISHED


class CompanyFilterSet(AskedFiltersFilterSet):
    """Filters of ``/api/v1/companies/``."""

    kind = choice_filter(
        field_name="kind",
        choices=Company.Kind.choices,
        noun="company kind",
        help_text="Company, state-owned enterprise, government, agency and so on.",
    )
    country = country_filter(field_name="country", help_text="Country of headquarters.")
    q = SearchFilter(searched="company names, aliases and descriptions and the quotes of their evidence")
    updated_since = updated_since_filter()

    class Meta:
        model = Company
        fields: list[str] = []


class FacilityFilterSet(AskedFiltersFilterSet):
    """Filters of ``/api/v1/facilities/``."""

    kind = choice_filter(
        field_name="kind", choices=Facility.Kind.choices, noun="facility kind", help_text="What the facility does."
    )
    status = choice_filter(
        field_name="status",
        choices=Facility.Status.choices,
        noun="facility status",
        help_text="Development status, as last reported.",
    )
    country = country_filter(field_name="country", help_text="Country of the facility.")
    region_code = RegionCodeFilter(
        field_name="region_code",
        help_text="ISO 3166-2 region code (case-insensitive), e.g. US-GA; only facilities whose region is stated "
        f"have one. {MULTI_HELP}",
    )
    commodity = CommodityFilter(rolled_up=True, records="Facilities that mine, process or make")
    commodity_exact = CommodityFilter(rolled_up=False, records="Facilities that mine, process or make")
    company = SlugFilter(
        field_name="company_links__company",
        queryset=Company.objects.public(),
        noun="company",
        where="listed at /api/v1/companies/",
        help_text="Facilities this company (slug) is involved in, in any role unless `company_role` is given, in "
        "which case the company must hold one of those roles.",
        method="filter_company",
    )
    company_role = choice_filter(
        field_name="company_links__role",
        choices=FacilityCompany.Role.choices,
        noun="company role",
        help_text="Facilities with a company in this role; combined with `company`, that company in that role.",
        method="filter_company",
    )
    planned_start_after = period_filter(
        field_name="planned_start",
        end=False,
        help_text="Facilities planned to start production on or after this period (the stored planned_start is "
        "the first day of the stated period: 'in 2027' is 2027-01-01).",
    )
    planned_start_before = period_filter(
        field_name="planned_start",
        end=True,
        help_text="Facilities planned to start production on or before this period (compared with the stored "
        "planned_start, the first day of the stated period).",
    )
    capacity_min = quantity_filter(
        field_name="capacity_amount",
        lookup_expr="gte",
        help_text="Facilities with a stated capacity of at least this much, in the facility's own unit and "
        "period: combine with `capacity_unit` so that tonnes are not compared with GWh.",
    )
    capacity_max = quantity_filter(
        field_name="capacity_amount",
        lookup_expr="lte",
        help_text="Facilities with a stated capacity of at most this much, in the facility's own unit and period: "
        "combine with `capacity_unit`.",
    )
    capacity_unit = FreeValuesFilter(
        field_name="capacity_unit",
        help_text=f"Facilities whose capacity is stated in this unit (case-insensitive), e.g. tonnes. {MULTI_HELP}",
        method="filter_capacity_unit",
    )
    jobs_min = whole_filter(
        field_name="jobs", lookup_expr="gte", help_text="Facilities with at least this many jobs stated."
    )
    jobs_max = whole_filter(
        field_name="jobs", lookup_expr="lte", help_text="Facilities with at most this many jobs stated."
    )
    q = SearchFilter(
        searched="facility names and descriptions, the quotes of their evidence and their commodities' names"
    )
    updated_since = updated_since_filter()

    class Meta:
        model = Facility
        fields: list[str] = []

    def filter_company(self, queryset, name, value):
        # Applied in filter_queryset so that company and company_role refer to the same link.
        return queryset

    def filter_capacity_unit(self, queryset, name, value):
        matches = Q()
        for unit in value:
            matches |= Q(capacity_unit__iexact=unit)
        return queryset.filter(matches)

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        companies, roles = data.get("company"), data.get("company_role")
        if companies or roles:
            links = FacilityCompany.objects.filter(company__publication_status=_PUBLISHED)
            if companies:
                links = links.filter(company__in=companies)
            if roles:
                links = links.filter(role__in=roles)
            queryset = queryset.filter(pk__in=links.values("facility_id"))
        return super().filter_queryset(queryset)


class SourceFilterSet(AskedFiltersFilterSet):
    """Filters of ``/api/v1/sources/``."""

    publisher = filters.CharFilter(
        field_name="publisher",
        lookup_expr="iexact",
        help_text="Sources from this publisher (exact name, case-insensitive), e.g. Reuters.",
    )
    published_after = date_filter(
        field_name="published_date", lookup_expr="gte", help_text="Sources published on or after this date."
    )
    published_before = date_filter(
        field_name="published_date", lookup_expr="lte", help_text="Sources published on or before this date."
    )
    q = SearchFilter(searched="source titles and publishers and the quotes taken from them")
    updated_since = updated_since_filter()

    class Meta:
        model = Source
        fields: list[str] = []


class CommodityFilterSet(AskedFiltersFilterSet):
    """Filters of ``/api/v1/commodities/``."""

    kind = choice_filter(
        field_name="kind",
        choices=Commodity.Kind.choices,
        noun="commodity kind",
        help_text="Element, group of elements, material or product.",
    )
    q = SearchFilter(searched="commodity names, symbols and descriptions")
    updated_since = updated_since_filter()

    class Meta:
        model = Commodity
        fields: list[str] = []
