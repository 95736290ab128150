"""Statistics of the public API: ``/api/v1/stats/deals/`` and ``/api/v1/stats/facilities/``.

Each takes ``group_by`` (a dimension) and exactly the filters of its list (the same FilterSet, so the same names,
values, 400s and 404s) and answers counts and sums per group, the totals over the distinct records, and whether a
record can count in several groups (``overlapping``). The figures come from :mod:`deals.selectors.stats`.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from deals.api import schema as docs
from deals.api import schema_examples as examples
from deals.api.query import StrictFilterBackend
from deals.api.renderers_json import FastJSONRenderer
from deals.api.views import StrictQueryMixin
from deals.filtersets import DealFilterSet, FacilityFilterSet
from deals.models import Deal, Facility
from deals.selectors.stats import (
    DEAL_DIMENSIONS,
    DEAL_OVERLAPPING,
    FACILITY_DIMENSIONS,
    FACILITY_OVERLAPPING,
    deal_stats_summary,
    facility_stats,
    facility_stats_totals,
)

GROUP_BY = "group_by"
_KEY_HELP = (
    "The group: a commodity or supply-chain stage slug, an ISO 3166-1 alpha-2 country code, a choice value (deal "
    "type, status, instrument, party or facility kind) or a year."
)


def _usd(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=24, decimal_places=2, read_only=True, help_text=help_text)


def _count(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(read_only=True, min_value=0, help_text=help_text)


# --- deals ---------------------------------------------------------------------------------------------------


class DealStatsFiguresSerializer(serializers.Serializer):
    """Count and summed USD value of a set of distinct deals."""

    deal_count = _count("Number of deals.")
    value_usd_sum = _usd(
        "Sum of the deals' stated USD values (amount_usd), whatever their qualifier (exact, approximate, up to, at "
        "least); deals without one add nothing (see deals_without_value)."
    )
    deals_without_value = _count("Deals with no stated USD value: the sum leaves them out.")


class DealStatsGroupSerializer(DealStatsFiguresSerializer):
    """One group of deals: its key and label and the figures of its deals."""

    key = serializers.CharField(read_only=True, help_text=_KEY_HELP)
    label = serializers.CharField(read_only=True, help_text="Human-readable name of the group.")

    class Meta:
        fields = ["key", "label", "deal_count", "value_usd_sum", "deals_without_value"]

    def get_fields(self):
        fields = super().get_fields()
        return {name: fields[name] for name in self.Meta.fields}


class DealStatsTotalsSerializer(DealStatsFiguresSerializer):
    """The figures over the distinct deals (each deal once), and those of the deals in no group."""

    not_grouped = DealStatsFiguresSerializer(
        read_only=True,
        help_text="The deals that fall in no group of this dimension (e.g. deals naming no commodity, undated "
        "deals for announced_year).",
    )


class DealStatsSerializer(serializers.Serializer):
    """Deals counted and summed per group of one dimension."""

    group_by = serializers.ChoiceField(choices=DEAL_DIMENSIONS, read_only=True, help_text="The dimension.")
    overlapping = serializers.BooleanField(
        read_only=True,
        help_text="Whether a deal can count in several groups of this dimension (two commodities, two countries, "
        "two parties…): if so, the groups' figures add up to more than the totals.",
    )
    totals = DealStatsTotalsSerializer(read_only=True, help_text="Figures over the distinct deals matched.")
    groups = DealStatsGroupSerializer(
        many=True,
        read_only=True,
        help_text="The groups with at least one deal: largest summed value first, then most deals, then key.",
    )


# --- facilities ----------------------------------------------------------------------------------------------


class CapacitySumSerializer(serializers.Serializer):
    """Summed stated capacity in one unit and period: capacities in different units are never added together."""

    unit = serializers.CharField(read_only=True, help_text="Unit of the capacity as stated, e.g. tonnes.")
    period = serializers.CharField(
        read_only=True, allow_null=True, help_text="Period of the capacity (year, month or day); null if not stated."
    )
    capacity_sum = serializers.DecimalField(
        max_digits=24,
        decimal_places=3,
        read_only=True,
        help_text="Sum of the stated capacities in this unit and period, whatever their qualifier.",
    )
    facility_count = _count("Number of facilities whose capacity is stated in this unit and period.")


class FacilityStatsFiguresSerializer(serializers.Serializer):
    """Count and summed capacities of a set of distinct facilities."""

    facility_count = _count("Number of facilities.")
    capacity = CapacitySumSerializer(
        many=True, read_only=True, help_text="Summed stated capacity, one entry per unit and period."
    )
    facilities_without_capacity = _count("Facilities with no stated capacity: the sums leave them out.")


class FacilityStatsGroupSerializer(FacilityStatsFiguresSerializer):
    """One group of facilities: its key and label and the figures of its facilities."""

    key = serializers.CharField(read_only=True, help_text=_KEY_HELP)
    label = serializers.CharField(read_only=True, help_text="Human-readable name of the group.")

    class Meta:
        fields = ["key", "label", "facility_count", "capacity", "facilities_without_capacity"]

    def get_fields(self):
        fields = super().get_fields()
        return {name: fields[name] for name in self.Meta.fields}


class FacilityNotGroupedSerializer(serializers.Serializer):
    """The facilities in no group of the dimension."""

    facility_count = _count("Facilities in no group (no commodity, or no stated country).")


class FacilityStatsTotalsSerializer(FacilityStatsFiguresSerializer):
    """The figures over the distinct facilities (each facility once), and how many fall in no group."""

    not_grouped = FacilityNotGroupedSerializer(read_only=True, help_text="The facilities in no group.")


class FacilityStatsSerializer(serializers.Serializer):
    """Facilities counted per group of one dimension, with their capacities summed per unit."""

    group_by = serializers.ChoiceField(choices=FACILITY_DIMENSIONS, read_only=True, help_text="The dimension.")
    overlapping = serializers.BooleanField(
        read_only=True,
        help_text="Whether a facility can count in several groups of this dimension (several commodities).",
    )
    totals = FacilityStatsTotalsSerializer(read_only=True, help_text="Figures over the distinct facilities matched.")
    groups = FacilityStatsGroupSerializer(
        many=True, read_only=True, help_text="The groups with at least one facility: most facilities first, then key."
    )


# --- views ---------------------------------------------------------------------------------------------------


class StatsAutoSchema(docs.ApiAutoSchema):
    """Documents the list's filters on a statistics operation (drf-spectacular adds them to lists only)."""

    def get_filter_backends(self):
        return getattr(self.view, "filter_backends", [])


class StatsView(StrictQueryMixin, APIView):
    """Base of the statistics views: ``group_by`` plus the list's filters, JSON only."""

    renderer_classes = [FastJSONRenderer]
    filter_backends = [StrictFilterBackend]
    schema = StatsAutoSchema()
    # Subclasses declare these.
    filterset_class = None
    model = None
    dimensions: tuple[str, ...] = ()
    overlapping: frozenset[str] = frozenset()

    def query_filterset_class(self):
        return self.filterset_class

    def allowed_query_params(self) -> set[str]:
        return set(self.filterset_class.base_filters) | {GROUP_BY, "format"}

    def get_queryset(self):
        return self.model.objects.public()

    def _group_by(self, request) -> tuple[str | None, list[str]]:
        value = request.query_params.get(GROUP_BY)
        allowed = ", ".join(self.dimensions)
        if not value:
            return None, [f"Required: the dimension to group by, one of {allowed}."]
        if value not in self.dimensions:
            return None, [f"'{value}' is not a dimension. Allowed: {allowed}."]
        return value, []

    def filtered(self, request) -> tuple[object, str]:
        """The filtered records and the dimension; every problem with either is reported in one response."""
        group_by, group_errors = self._group_by(request)
        try:
            queryset = StrictFilterBackend().filter_queryset(request, self.get_queryset(), self)
        except APIException as error:
            if group_errors:  # a 400 together with the filters' problems (even an unknown slug's 404)
                raise ValidationError({GROUP_BY: group_errors, **error.detail}) from None
            raise
        if group_errors:
            raise ValidationError({GROUP_BY: group_errors})
        return queryset, group_by


def _group_by_parameter(dimensions: tuple[str, ...], description: str) -> OpenApiParameter:
    return OpenApiParameter(name=GROUP_BY, type=str, enum=list(dimensions), required=True, description=description)


JSON_FORMAT_PARAMETER = OpenApiParameter(
    name="format", type=str, enum=["json"], required=False, description="Response format: json (the only one)."
)


def _stats_schema(*, noun: str, serializer, parameter: OpenApiParameter, description: str, example: dict):
    return extend_schema(
        operation_id=f"stats_{noun}",
        summary=f"Statistics of {noun}",
        tags=["stats"],
        description=description,
        parameters=[parameter, JSON_FORMAT_PARAMETER],
        responses={
            (200, "application/json"): OpenApiResponse(serializer, description=f"The {noun} per group."),
            (400, "application/json"): docs.VALIDATION_ERROR_RESPONSE,
            (404, "application/json"): docs.LIST_NOT_FOUND_RESPONSE,
        },
        examples=[examples.example(f"{noun.capitalize()} per group", example)],
    )


DEAL_STATS_EXAMPLE = {
    "group_by": "commodity",
    "overlapping": True,
    "totals": {
        "deal_count": 3,
        "value_usd_sum": "233000000.00",
        "deals_without_value": 1,
        "not_grouped": {"deal_count": 0, "value_usd_sum": "0.00", "deals_without_value": 0},
    },
    "groups": [
        {
            "key": "permanent-magnets",
            "label": "Permanent magnets",
            "deal_count": 2,
            "value_usd_sum": "223000000.00",
            "deals_without_value": 1,
        },
        {
            "key": "ndfeb-magnets",
            "label": "NdFeB magnets",
            "deal_count": 1,
            "value_usd_sum": "223000000.00",
            "deals_without_value": 0,
        },
        {
            "key": "dysprosium",
            "label": "Dysprosium",
            "deal_count": 1,
            "value_usd_sum": "10000000.00",
            "deals_without_value": 0,
        },
    ],
}
FACILITY_STATS_EXAMPLE = {
    "group_by": "kind",
    "overlapping": False,
    "totals": {
        "facility_count": 3,
        "capacity": [
            {"unit": "GWh", "period": "year", "capacity_sum": "20.000", "facility_count": 1},
            {"unit": "tonnes", "period": "year", "capacity_sum": "3000.000", "facility_count": 1},
        ],
        "facilities_without_capacity": 1,
        "not_grouped": {"facility_count": 0},
    },
    "groups": [
        {
            "key": "magnet",
            "label": "Magnet plant",
            "facility_count": 2,
            "capacity": [{"unit": "tonnes", "period": "year", "capacity_sum": "3000.000", "facility_count": 1}],
            "facilities_without_capacity": 1,
        },
        {
            "key": "battery_materials",
            "label": "Battery-materials plant",
            "facility_count": 1,
            "capacity": [{"unit": "GWh", "period": "year", "capacity_sum": "20.000", "facility_count": 1}],
            "facilities_without_capacity": 0,
        },
    ],
}


DEAL_STATS_SCHEMA = _stats_schema(
    noun="deals",
    serializer=DealStatsSerializer,
    parameter=_group_by_parameter(
        DEAL_DIMENSIONS,
        "The dimension to group by: commodity (rolled up the commodity tree: a deal concerning NdFeB magnets "
        "counts in ndfeb-magnets, permanent-magnets and any broader commodity), commodity_exact (only the "
        "commodities a deal names), country (the countries the deal concerns), party_country (the countries of its "
        "parties), deal_type, status, stage (supply-chain stage), announced_year, party_kind (the kinds of its "
        "parties; the government group also counts government departments and agencies, like the party_kind "
        "filter), instrument (equity, loan, price floor…; deals whose sources state none are in not_grouped).",
    ),
    description="Published deals counted and their stated USD values (amount_usd) summed per group of one "
    "dimension, over the deals the filters select: the filters are exactly those of the deals list. Each group "
    "says how many of its deals have no stated value, so a sum is never mistaken for a total. Where a deal can "
    "count in several groups (`overlapping`), it counts in each, and the groups add up to more than the totals, "
    "which count each deal once. JSON only.",
    example=DEAL_STATS_EXAMPLE,
)
FACILITY_STATS_SCHEMA = _stats_schema(
    noun="facilities",
    serializer=FacilityStatsSerializer,
    parameter=_group_by_parameter(
        FACILITY_DIMENSIONS,
        "The dimension to group by: kind, status, country, commodity (rolled up the commodity tree, like the "
        "commodity filter) or commodity_exact (only the commodities a facility names).",
    ),
    description="Published facilities counted, and their stated capacities summed per unit and period, per group "
    "of one dimension, over the facilities the filters select: the filters are exactly those of the facilities "
    "list. Capacities in different units or periods are separate sums (tonnes per year are never added to GWh). "
    "Each group says how many of its facilities state no capacity. JSON only.",
    example=FACILITY_STATS_EXAMPLE,
)


class DealStatsView(StatsView):
    """Deals per commodity, country, party country, type, status, stage, year, party kind or instrument."""

    filterset_class = DealFilterSet
    model = Deal
    dimensions = DEAL_DIMENSIONS
    overlapping = DEAL_OVERLAPPING

    @DEAL_STATS_SCHEMA
    def get(self, request):
        queryset, group_by = self.filtered(request)
        data = {
            "group_by": group_by,
            "overlapping": group_by in self.overlapping,
            **deal_stats_summary(queryset=queryset, group_by=group_by),
        }
        return Response(DealStatsSerializer(data).data)


class FacilityStatsView(StatsView):
    """Facilities per kind, status, country or commodity, with capacities summed per unit."""

    filterset_class = FacilityFilterSet
    model = Facility
    dimensions = FACILITY_DIMENSIONS
    overlapping = FACILITY_OVERLAPPING

    @FACILITY_STATS_SCHEMA
    def get(self, request):
        queryset, group_by = self.filtered(request)
        data = {
            "group_by": group_by,
            "overlapping": group_by in self.overlapping,
            "totals": facility_stats_totals(queryset=queryset, group_by=group_by),
            "groups": facility_stats(queryset=queryset, group_by=group_by),
        }
        return Response(FacilityStatsSerializer(data).data)
