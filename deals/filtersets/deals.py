"""``DealFilterSet``: the deals list's filters."""

from __future__ import annotations

from django.db.models import Q

from deals.api.updated_since import updated_since_filter
from deals.filtersets.base import (
    MULTI_HELP,
    AskedFiltersFilterSet,
    CommodityFilter,
    CurrencyFilter,
    SearchFilter,
    SlugFilter,
    choice_filter,
    country_filter,
    date_filter,
    usd_filter,
)
from deals.models import (
    Company,
    Deal,
    DealParty,
    PublicationStatus,
    SupplyChainStage,
)
from deals.range_filters import quantity_filter, whole_filter
from deals.selectors import source_public
from deals.selectors.records import party_kinds_matching

_PUBLISHED = PublicationStatus.PUBLISHED


class DealFilterSet(AskedFiltersFilterSet):
    """Filters of ``/api/v1/deals/``; ``company`` and ``role`` together mean that company in that role."""

    type = choice_filter(field_name="deal_type", choices=Deal.Type.choices, noun="deal type", help_text="Kind of deal.")
    status = choice_filter(
        field_name="status", choices=Deal.Status.choices, noun="deal status", help_text="Commitment status."
    )
    commodity = CommodityFilter(rolled_up=True, records="Deals concerning")
    commodity_exact = CommodityFilter(rolled_up=False, records="Deals concerning")
    country = country_filter(field_name="countries", lookup_expr="contains", help_text="Deals concerning this country.")
    company = SlugFilter(
        field_name="party_links__company",
        queryset=Company.objects.public(),
        noun="company",
        where="listed at /api/v1/companies/",
        help_text="Deals with this company (slug) as a party, in any role unless `role` is given, in which case "
        "the company must hold one of those roles.",
        method="filter_party",
    )
    party_country = country_filter(
        field_name="party_links__company__country",
        help_text="Deals with at least one party (in any role) whose country of headquarters is one of these. "
        "A company's country is only set where a source states it.",
        method="filter_party_country",
    )
    role = choice_filter(
        field_name="party_links__role",
        choices=DealParty.Role.choices,
        noun="party role",
        help_text="Deals with a party in this role; combined with `company`, that company in that role.",
        method="filter_party",
    )
    party_kind = choice_filter(
        field_name="party_links__company__kind",
        choices=Company.Kind.choices,
        noun="party kind",
        help_text="Deals with at least one party of this kind, whatever its role. `government` means any "
        "government party: a national or regional government or a government department or agency (such as the "
        "U.S. Department of Defense as a grantor); every other kind means itself.",
        method="filter_party_kind",
    )
    stage = SlugFilter(
        field_name="stages",
        queryset=SupplyChainStage.objects.all(),
        noun="supply-chain stage",
        where="see a deal's stages",
        list_allowed=True,
        help_text="Deals concerning this supply-chain stage (slug, e.g. separation-refining).",
    )
    announced_after = date_filter(
        field_name="announced_date", lookup_expr="gte", help_text="Deals announced on or after this date."
    )
    announced_before = date_filter(
        field_name="announced_date", lookup_expr="lte", help_text="Deals announced on or before this date."
    )
    value_usd_min = usd_filter(lookup_expr="gte", help_text="Deals worth at least this much (amount_usd).")
    value_usd_max = usd_filter(lookup_expr="lte", help_text="Deals worth at most this much (amount_usd).")
    instrument = choice_filter(
        field_name="instrument",
        choices=Deal.Instrument.choices,
        noun="instrument",
        help_text="Deals using this instrument (equity, convertible preferred stock, loan, grant, price floor, "
        "offtake); deals whose sources state none never match.",
    )
    unit_price_min = quantity_filter(
        field_name="unit_price",
        lookup_expr="gte",
        help_text="Deals with a stated unit price of at least this much, in the deal's own currency and unit: "
        "combine with `unit_price_currency` and `unit_price_unit`. `0` lists every deal with a unit price.",
    )
    unit_price_max = quantity_filter(
        field_name="unit_price",
        lookup_expr="lte",
        help_text="Deals with a stated unit price of at most this much, in the deal's own currency and unit: "
        "combine with `unit_price_currency` and `unit_price_unit`.",
    )
    unit_price_currency = CurrencyFilter(
        field_name="unit_price_currency",
        help_text=f"Deals whose unit price is stated in this ISO 4217 currency (case-insensitive), e.g. USD. "
        f"{MULTI_HELP}",
    )
    unit_price_unit = choice_filter(
        field_name="unit_price_unit",
        choices=Deal.PriceUnit.choices,
        noun="price unit",
        help_text="Deals whose unit price is per this unit, e.g. kg.",
    )
    term_months_min = whole_filter(
        field_name="term_length",
        lookup_expr="gte",
        help_text="Deals with a stated term of at least this many months; a term stated in years counts 12 months "
        "a year.",
        method="filter_term_months_min",
    )
    term_months_max = whole_filter(
        field_name="term_length",
        lookup_expr="lte",
        help_text="Deals with a stated term of at most this many months; a term stated in years counts 12 months "
        "a year.",
        method="filter_term_months_max",
    )
    term_unit = choice_filter(
        field_name="term_unit",
        choices=Deal.TermUnit.choices,
        noun="term unit",
        help_text="Deals whose term is stated in this unit (months or years).",
    )
    output_share_min = quantity_filter(
        field_name="output_share_percent",
        lookup_expr="gte",
        help_text="Deals covering at least this percentage of an output (output_share_percent).",
    )
    output_share_max = quantity_filter(
        field_name="output_share_percent",
        lookup_expr="lte",
        help_text="Deals covering at most this percentage of an output (output_share_percent).",
    )
    source = SlugFilter(
        field_name="evidence__source",
        queryset=source_public(),
        noun="source",
        where="listed at /api/v1/sources/",
        help_text="Deals supported by evidence from this source (slug).",
    )
    q = SearchFilter(searched="deal titles and summaries, the quotes of their evidence and their commodities' names")
    updated_since = updated_since_filter()

    class Meta:
        model = Deal
        fields: list[str] = []

    def filter_party(self, queryset, name, value):
        # Applied in filter_queryset so that company and role refer to the same party row.
        return queryset

    # Terms are stored as stated (10 years, not 120 months). Rather than annotate each row with its months, a bound
    # in months becomes one per unit: years * 12 >= m exactly when years >= ceil(m / 12), and years * 12 <= m
    # exactly when years <= floor(m / 12); both stay plain comparisons of the column.
    def filter_term_months_min(self, queryset, name, value):
        months, years = Deal.TermUnit.MONTHS, Deal.TermUnit.YEARS
        return queryset.filter(
            Q(term_unit=months, term_length__gte=value) | Q(term_unit=years, term_length__gte=-(-value // 12))
        )

    def filter_term_months_max(self, queryset, name, value):
        months, years = Deal.TermUnit.MONTHS, Deal.TermUnit.YEARS
        return queryset.filter(
            Q(term_unit=months, term_length__lte=value) | Q(term_unit=years, term_length__lte=value // 12)
        )

    def filter_party_country(self, queryset, name, value):
        # A subquery, not a join: a deal with several parties from these countries is still listed once.
        links = DealParty.objects.filter(company__country__in=value, company__publication_status=_PUBLISHED)
        return queryset.filter(pk__in=links.values("deal_id"))

    def filter_party_kind(self, queryset, name, value):
        links = DealParty.objects.filter(
            company__kind__in=party_kinds_matching(kinds=value), company__publication_status=_PUBLISHED
        )
        return queryset.filter(pk__in=links.values("deal_id"))

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        companies, roles = data.get("company"), data.get("role")
        if companies or roles:
            links = DealParty.objects.all()
            if companies:
                links = links.filter(company__in=companies)
            if roles:
                links = links.filter(role__in=roles)
            queryset = queryset.filter(pk__in=links.values("deal_id"))
        return super().filter_queryset(queryset)
