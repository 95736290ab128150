"""django-filter FilterSets of the public API: one ``<Model>FilterSet`` per model.

Conventions, documented in the OpenAPI schema through each filter's ``help_text``:

- Every choice, slug and country filter accepts **several values**, either repeated (``?status=signed&status=closed``)
  or comma-separated (``?status=signed,closed``); a record matches when it matches **any** of them.
- Different filters combine with AND.
- Related records are filtered by slug; an unknown slug is a 404 and a bad choice a 400, each keyed by the parameter.
- ``q`` is the full-text search described in :mod:`deals.selectors`.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pycountry
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django_countries import countries
from django_filters import rest_framework as filters
from django_filters.fields import ModelMultipleChoiceField
from drf_spectacular.utils import extend_schema_field

from deals.api.updated_since import updated_since_filter
from deals.models import (
    Commodity,
    Company,
    Deal,
    DealParty,
    Facility,
    FacilityCompany,
    PublicationStatus,
    Source,
    SupplyChainStage,
)
from deals.range_filters import period_filter, quantity_filter, whole_filter
from deals.selectors import records_search, search_terms, source_public
from deals.selectors.records import commodity_with_narrower, party_kinds_matching

# Filters name related records by slug; only published ones count, so a draft's slug is as unknown as a typo.
_PUBLISHED = PublicationStatus.PUBLISHED

DATE_HELP = "Format YYYY-MM-DD; inclusive."
MULTI_HELP = "Several values: repeat the parameter or separate them with commas; any of them matches."


class MultiValueWidget(forms.SelectMultiple):
    """Reads a parameter given several times and/or as a comma-separated list; drops empty items and repeats.

    ``upper`` folds the values to upper case (ISO country codes are case-insensitive for clients).
    """

    def __init__(self, *args, upper: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.upper = upper

    def value_from_datadict(self, data, files, name):
        raw = data.getlist(name) if hasattr(data, "getlist") else [data.get(name, "")]
        values: dict[str, None] = {}
        for item in raw:
            for value in str(item).split(","):
                value = value.strip()
                if value:
                    values.setdefault(value.upper() if self.upper else value, None)
        return list(values)

    def value_omitted_from_data(self, data, files, name):
        return name not in data


def _allowed(choices) -> str:
    return ", ".join(str(value) for value, _ in choices)


def choice_filter(*, field_name: str, choices, noun: str, help_text: str, lookup_expr: str = "exact", **kwargs):
    """A several-values choice filter whose error names the bad value and lists the allowed ones."""
    return filters.MultipleChoiceFilter(
        **kwargs,
        field_name=field_name,
        lookup_expr=lookup_expr,
        choices=choices,
        distinct=False,
        widget=MultiValueWidget(),
        help_text=f"{help_text} {MULTI_HELP}",
        error_messages={"invalid_choice": f"'%(value)s' is not a valid {noun}. Allowed: {_allowed(choices)}."},
    )


def country_filter(*, field_name: str, help_text: str, lookup_expr: str = "exact", **kwargs):
    """Several ISO 3166-1 alpha-2 codes (case-insensitive); the error names the bad code."""
    return filters.MultipleChoiceFilter(
        **kwargs,
        field_name=field_name,
        lookup_expr=lookup_expr,
        choices=list(countries),
        distinct=False,
        widget=MultiValueWidget(upper=True),
        help_text=f"{help_text} ISO 3166-1 alpha-2 code, e.g. US. {MULTI_HELP}",
        error_messages={
            "invalid_choice": "'%(value)s' is not an ISO 3166-1 alpha-2 country code. Allowed: two-letter codes "
            "such as US, CN, KR, JP, DE, AU."
        },
    )


UNKNOWN_SLUG_CODE = "unknown_slug"
REGION_CODE_PATTERN = r"^[A-Za-z]{2}-[A-Za-z0-9]{1,3}$"
_REGION_CODE_RE = re.compile(REGION_CODE_PATTERN)


class RegionCodeListField(forms.Field):
    """Several ISO 3166-2 codes, folded to upper case. A value not shaped like one is a 400; a well-shaped code
    that is not in pycountry's list (the one ``Facility.clean()`` checks against) names no region, a 404 like an
    unknown slug. 5,000 codes are too many for an enum in the schema, so the schema states their pattern."""

    widget = MultiValueWidget(upper=True)

    def clean(self, value):
        for code in value or []:
            if not _REGION_CODE_RE.match(code):
                raise ValidationError(
                    "'%(code)s' is not an ISO 3166-2 region code: two letters, a hyphen and one to three letters "
                    "or digits, e.g. US-GA.",
                    code="invalid",
                    params={"code": code[:50]},
                )
            if pycountry.subdivisions.get(code=code) is None:
                raise ValidationError(
                    "Unknown ISO 3166-2 region code '%(code)s' (e.g. US-GA, CA-QC).",
                    code=UNKNOWN_SLUG_CODE,
                    params={"code": code},
                )
        return list(value or [])


class RegionCodeFilter(filters.MultipleChoiceFilter):
    """Records whose region code is any of the given ISO 3166-2 codes; the schema gives their pattern (and the
    filter's help text, which an explicit schema would otherwise drop)."""

    field_class = RegionCodeListField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, distinct=False, **kwargs)
        item = {"type": "string", "pattern": REGION_CODE_PATTERN}
        extend_schema_field({**item, "description": self.extra.get("help_text", "")})(self)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


CURRENCY_PATTERN = r"^[A-Za-z]{3}$"
_CURRENCY_RE = re.compile(CURRENCY_PATTERN)


class CurrencyListField(forms.Field):
    """Several ISO 4217 currency codes, folded to upper case (the shape ``CURRENCY_VALIDATOR`` stores)."""

    widget = MultiValueWidget(upper=True)

    def clean(self, value):
        for code in value or []:
            if not _CURRENCY_RE.match(code):
                raise ValidationError(
                    "'%(code)s' is not an ISO 4217 currency code: three letters, e.g. USD.",
                    code="invalid",
                    params={"code": code[:50]},
                )
        return list(value or [])


class CurrencyFilter(filters.MultipleChoiceFilter):
    """Records whose currency is any of the given ISO 4217 codes; the schema gives their pattern."""

    field_class = CurrencyListField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, distinct=False, **kwargs)
        item = {"type": "string", "pattern": CURRENCY_PATTERN}
        extend_schema_field({**item, "description": self.extra.get("help_text", "")})(self)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class SlugListField(ModelMultipleChoiceField):
    """Slugs of existing records; with ``list_allowed`` (small vocabularies) the error lists every valid slug."""

    def __init__(self, *args, list_allowed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.list_allowed = list_allowed

    def _check_values(self, value):
        try:
            return super()._check_values(value)
        except ValidationError as error:
            if error.code != "invalid_choice":
                raise
            # A well-formed request naming a record that does not exist: the API answers 404, not 400
            # (deals.api.query.StrictFilterBackend), because no schema can list the valid slugs.
            message = error.messages[0]
            if self.list_allowed:
                allowed = ", ".join(self.queryset.order_by("slug").values_list("slug", flat=True))
                message = f"{message} Allowed: {allowed}."
            # The message quotes the client's value, which may hold a "%": pass it as a parameter, since
            # django-filter %-formats every message (a bare "%" in it was a TypeError, a 500).
            raise ValidationError("%(message)s", code=UNKNOWN_SLUG_CODE, params={"message": message}) from None


class SlugFilter(filters.ModelMultipleChoiceFilter):
    """Several related records by slug; matches through a ``pk IN (subquery)`` so no row is repeated and no
    ``DISTINCT`` is needed on the (possibly large) filtered table."""

    field_class = SlugListField

    def __init__(self, *, field_name: str, queryset: QuerySet, noun: str, where: str, help_text: str, **kwargs):
        super().__init__(
            field_name=field_name,
            lookup_expr="in",
            queryset=queryset,
            to_field_name="slug",
            distinct=False,
            widget=MultiValueWidget(),
            help_text=f"{help_text} {MULTI_HELP}",
            error_messages={
                "invalid_choice": f"Unknown {noun} slug '%(value)s'. Use the slug of an existing {noun} ({where}).",
                "invalid_list": "Enter a list of slugs.",
            },
            **kwargs,
        )

    def filter(self, qs, value):
        if not value:
            return qs
        model = qs.model
        matching = model.objects.filter(**{f"{self.field_name}__in": value}).values("pk")
        return qs.filter(pk__in=matching)


class CommodityFilter(SlugFilter):
    """Commodities by slug, each with every narrower commodity below it in the tree (``rolled_up``), or only the
    commodities named (``commodity_exact``)."""

    def __init__(self, *, rolled_up: bool, records: str, **kwargs):
        self.rolled_up = rolled_up
        if rolled_up:
            help_text = (
                f"{records} this commodity (slug) or any narrower one below it in the commodity tree: "
                "permanent-magnets also finds NdFeB magnets, rare-earth-elements finds dysprosium. "
                "`commodity_exact` matches only the commodities named."
            )
        else:
            help_text = f"{records} exactly this commodity (slug), without the narrower ones (see `commodity`)."
        super().__init__(
            field_name="commodities",
            queryset=Commodity.objects.all(),
            noun="commodity",
            where="listed at /api/v1/commodities/",
            help_text=help_text,
            **kwargs,
        )

    def filter(self, qs, value):
        if value and self.rolled_up:
            value = commodity_with_narrower(commodities=value)
        return super().filter(qs, value)


class SearchFilter(filters.CharFilter):
    """Full-text search over the model's searched fields (see :func:`deals.selectors.records_search`).

    ``q`` is free text of at most 200 characters (checked with every parameter in deals.api.query), with no rule on
    its words: an OpenAPI pattern is an ECMA-262 regular expression, whose ``\\w`` is ASCII-only, so "at least one
    letter" or "at most N words" in the Unicode sense of deals.selectors cannot be published, and a rule the schema
    does not state breaks the contract. A ``q`` without any letter or digit has no terms, so it is no filter, like
    an empty one; the length limit bounds the number of terms (at most 100).
    """

    def __init__(self, *, searched: str):
        super().__init__(
            field_name="q",
            lookup_expr="search",
            help_text=(
                f"Full-text search over {searched}. Every term (a run of letters and digits) must match, "
                "case-insensitively, a whole word of those texts after both are stemmed (Porter), so `magnets` "
                "finds what `magnet` finds; no prefixes, no stop words. Results are ordered by relevance (names "
                "and titles first, then summaries and descriptions, then quotes), ties by slug, unless `ordering` "
                "is given. A value without any letter or digit (e.g. `!`) has no terms and is no filter, like an "
                "empty one."
            ),
        )

    def filter(self, qs, value):
        if not value or not search_terms(q=value):
            return qs
        return records_search(queryset=qs, q=value)


# Strict, ASCII-only shapes: Python's own parsers also accept "2025-1-1", "1e3", "1_000", " 100 " or full-width
# digits, none of which is the documented format.
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
USD_PATTERN = r"^[0-9]{1,16}(\.[0-9]{1,2})?$"
_USD_RE = re.compile(USD_PATTERN[1:-1])
DATE_MESSAGE = "Enter a date as YYYY-MM-DD, e.g. 2025-09-01."
USD_MESSAGE = (
    "Enter a plain decimal number of US dollars: up to 16 digits, optionally a point and 1 or 2 decimals, "
    "e.g. 50000000 or 1250000.50."
)


class StrictDateField(forms.DateField):
    """A date written exactly YYYY-MM-DD (and a real date); an empty value means no filter."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
            raise forms.ValidationError(DATE_MESSAGE, code="invalid")
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(DATE_MESSAGE, code="invalid") from None


class UsdAmountField(forms.DecimalField):
    """A non-negative amount of US dollars written as plain ASCII digits with at most 2 decimals."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not isinstance(value, str) or not _USD_RE.fullmatch(value):
            raise forms.ValidationError(USD_MESSAGE, code="invalid")
        return Decimal(value)

    def validate(self, value):
        # The pattern already bounds digits and sign; DecimalField's checks would only add other messages.
        forms.Field.validate(self, value)


class StrictDateFilter(filters.DateFilter):
    field_class = StrictDateField


class FreeValuesField(forms.MultipleChoiceField):
    """Several free-text values (no fixed choices), read like every several-values filter."""

    def valid_value(self, value):
        return True


class FreeValuesFilter(filters.MultipleChoiceFilter):
    """Several free-text values, repeated or comma-separated; a record matches any of them."""

    field_class = FreeValuesField

    def __init__(self, **kwargs):
        super().__init__(distinct=False, widget=MultiValueWidget(), **kwargs)


class UsdAmountFilter(filters.NumberFilter):
    field_class = UsdAmountField


def date_filter(*, field_name: str, lookup_expr: str, help_text: str):
    """A date bound, written exactly YYYY-MM-DD; any other shape is a 400 stating the format."""
    return StrictDateFilter(field_name=field_name, lookup_expr=lookup_expr, help_text=f"{help_text} {DATE_HELP}")


def usd_filter(*, lookup_expr: str, help_text: str):
    """A bound on the USD value: plain ASCII digits, optionally a point and 1 or 2 decimals; one clear message
    for anything else (exponents, underscores, signs, spaces, non-ASCII digits, NaN, too many digits)."""
    return UsdAmountFilter(
        field_name="amount_usd",
        lookup_expr=lookup_expr,
        help_text=f"{help_text} A plain decimal number of US dollars (up to 16 digits, optionally a point and 1 or "
        "2 decimals), e.g. 50000000; inclusive.",
    )


class DealFilterSet(filters.FilterSet):
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


class CompanyFilterSet(filters.FilterSet):
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


class FacilityFilterSet(filters.FilterSet):
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


class SourceFilterSet(filters.FilterSet):
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


class CommodityFilterSet(filters.FilterSet):
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
