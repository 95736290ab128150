"""The building blocks of the FilterSets: multi-value widgets and fields, strict dates and amounts, slug,
country, region, currency, choice and search filters, each answering a clear 400 (or a 404 for an unknown slug)."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pycountry
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django_countries import countries
from django_filters import rest_framework as filters
from django_filters.fields import ModelMultipleChoiceField
from drf_spectacular.utils import extend_schema_field

from deals.models import (
    Commodity,
    PublicationStatus,
)
from deals.selectors import records_search, search_terms
from deals.selectors.records import commodity_with_narrower

# Filters name related records by slug; only published ones count, so a draft's slug is as unknown as a typo.
_PUBLISHED = PublicationStatus.PUBLISHED

DATE_HELP = "Format YYYY-MM-DD; inclusive."
MULTI_HELP = "Several values: repeat the parameter or separate them with commas; any of them matches."


class AskedFiltersFilterSet(filters.FilterSet):
    """A FilterSet that builds only the filters the request names.

    django-filter deep-copies every filter of the class, and its form every field, on each request: about 10 ms on
    a deal list asking for one filter, most of it copying the two country filters' 250 choices, for filters that
    then return the queryset unchanged because they were not asked for. A filter is asked for by its own name (no
    filter here reads a parameter of another name, which deals.api.query.StrictFilterBackend relies on too), and
    an absent one is a no-op, so leaving the others out changes no answer and no error. The class's
    ``base_filters`` stay whole: the schema and the backend read them."""

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            # An instance attribute shadowing the class's: what django-filter's __init__ deep-copies.
            self.base_filters = {name: f for name, f in type(self).base_filters.items() if name in data}
        super().__init__(data, *args, **kwargs)


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
                "and titles first, then summaries and descriptions, then quotes), ties by creation order, unless "
                "`ordering` is given. A value without any letter or digit (e.g. `!`) has no terms and is no filter, "
                "like an empty one."
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
