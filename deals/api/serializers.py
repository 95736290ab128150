"""Read-only serializers of the public API: explicit field lists, related records as ``<Model>BriefSerializer``.

The querysets come from :mod:`deals.selectors` with everything prefetched, so serializing a page issues no
query. ``url`` is always the absolute URL of the record's API detail; a source's own web address is
``document_url``.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from django.urls import get_script_prefix, get_urlconf
from django.urls import reverse as django_reverse
from django_countries import countries
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deals.coverage import record_coverage
from deals.models import (
    Commodity,
    Company,
    Deal,
    DealParty,
    Evidence,
    Facility,
    FacilityCompany,
    Source,
    SupplyChainStage,
)
from deals.models.deal_terms import DEAL_TERM_FIELDS
from deals.selectors import source_records
from deals.selectors.rights import source_text_public

_SLUG_PLACEHOLDER = "__slug__"


@functools.lru_cache(maxsize=128)
def _detail_path_template(view_name: str, urlconf: str | None, script_prefix: str) -> str:
    """The detail path of ``view_name`` with a placeholder for the slug. A page of 50 deals links ~300 records,
    and resolving each through ``reverse`` was a sixth of the response time; the URLconf and script prefix are
    part of the cache key, so a different configuration never sees another's paths."""
    return django_reverse(view_name, kwargs={"slug": _SLUG_PLACEHOLDER}, urlconf=urlconf)


class _SlugLinkMixin:
    """Links by slug with Django's ``reverse``: DRF's own would carry a ``?format=`` of the request over into
    every link (so CSV rows would link to CSV details, which do not exist)."""

    def get_url(self, obj, view_name, request, format):
        if obj is None or not getattr(obj, "slug", None):
            return None
        template = _detail_path_template(view_name, get_urlconf(), get_script_prefix())
        # Slugs are [-a-zA-Z0-9_]+ (SlugField), so they need no URL quoting.
        path = template.replace(_SLUG_PLACEHOLDER, obj.slug)
        if request is None:
            return path
        # The scheme and host are the same for every link of a response: validate and build them once.
        base = getattr(request, "_reexapi_absolute_base", None)
        if base is None:
            base = request.build_absolute_uri("/")[:-1]
            request._reexapi_absolute_base = base
        return base + path


class SlugIdentityLink(_SlugLinkMixin, serializers.HyperlinkedIdentityField):
    """The absolute API URL of the serialized record itself."""


class SlugRelatedLink(_SlugLinkMixin, serializers.HyperlinkedRelatedField):
    """The absolute API URL of a related record."""


def _detail_url(view_name: str) -> SlugIdentityLink:
    return SlugIdentityLink(
        view_name=f"api:{view_name}-detail", lookup_field="slug", help_text="Absolute URL of this record in the API."
    )


def _related_url(view_name: str, source: str) -> SlugRelatedLink:
    return SlugRelatedLink(
        view_name=f"api:{view_name}-detail",
        lookup_field="slug",
        source=source,
        read_only=True,
        help_text="Absolute URL of the related record in the API.",
    )


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice the model stores as an empty string when the sources do not state it; the API says null."""

    def to_representation(self, value):
        if value in ("", None):
            return None
        return super().to_representation(value)


class BlankAsNullCharField(serializers.CharField):
    """A code or unit the model stores as an empty string when not stated (a currency, a capacity unit); the API
    says null."""

    def to_representation(self, value):
        if value in ("", None):
            return None
        return super().to_representation(value)


class PublicModelSerializer(serializers.ModelSerializer):
    """Base of the JSON serializers: every field is always sent (``required`` in the schema, so generated clients
    get plain, non-optional attributes), and "not stated" is null, never "".

    - a choice field the model allows blank (e.g. ``value_qualifier``) is sent as null when blank;
    - the fields named in ``Meta.blank_as_null`` (codes and units stored as "" when unknown) likewise;
    - free text (titles, descriptions, localities) stays a string, "" when empty.
    """

    serializer_choice_field = BlankAsNullChoiceField

    def build_field(self, field_name, info, model_class, nested_depth):
        field_class, field_kwargs = super().build_field(field_name, info, model_class, nested_depth)
        if not field_kwargs.get("read_only"):
            field_kwargs["required"] = True
            field_kwargs.pop("default", None)
        blank_as_null = field_name in getattr(self.Meta, "blank_as_null", ())
        if field_kwargs.get("allow_blank") and (issubclass(field_class, serializers.ChoiceField) or blank_as_null):
            field_kwargs["allow_blank"] = False
            field_kwargs["allow_null"] = True
            if not issubclass(field_class, serializers.ChoiceField):
                field_class = BlankAsNullCharField
        return field_class, field_kwargs


class OptionalUrlField(serializers.URLField):
    """A URL that the model stores as an empty string when unknown; the API says null instead of ""."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


# --- brief objects -------------------------------------------------------------------------------------------


class CommodityBriefSerializer(PublicModelSerializer):
    """A commodity in brief."""

    url = _detail_url("commodity")

    class Meta:
        model = Commodity
        fields = ["slug", "name", "url"]


class SupplyChainStageBriefSerializer(PublicModelSerializer):
    """A supply-chain stage (a fixed vocabulary; it has no endpoint of its own)."""

    class Meta:
        model = SupplyChainStage
        fields = ["slug", "name", "segment"]


class CompanyBriefSerializer(PublicModelSerializer):
    """A company, government or agency in brief."""

    url = _detail_url("company")

    class Meta:
        model = Company
        fields = ["slug", "name", "url"]


class FacilityBriefSerializer(PublicModelSerializer):
    """A facility in brief."""

    url = _detail_url("facility")

    class Meta:
        model = Facility
        fields = ["slug", "name", "url"]


class DealBriefSerializer(PublicModelSerializer):
    """A deal in brief."""

    url = _detail_url("deal")

    class Meta:
        model = Deal
        fields = ["slug", "title", "url"]


class SourceBriefSerializer(PublicModelSerializer):
    """A source document in brief."""

    url = _detail_url("source")
    document_url = OptionalUrlField(source="url", help_text="Where the document is published; null when unknown.")

    class Meta:
        model = Source
        fields = ["slug", "title", "publisher", "published_date", "url", "document_url"]


class CountrySerializer(serializers.Serializer):
    """A country: ISO 3166-1 alpha-2 code and English name."""

    code = serializers.ChoiceField(
        choices=list(countries), read_only=True, help_text="ISO 3166-1 alpha-2 code, e.g. US."
    )
    name = serializers.CharField(read_only=True, help_text="English short name, e.g. United States of America.")

    def to_representation(self, instance):
        return {"code": instance.code, "name": str(instance.name)}


class ProvenanceSerializer(PublicModelSerializer):
    """One verbatim quote from a source supporting the record, with its offsets in the source's text."""

    source = SourceBriefSerializer(read_only=True, help_text="The source the quote comes from.")
    # Declared rather than derived: the derived bound is the database's integer range, which would make the
    # schema differ between SQLite and PostgreSQL.
    start = serializers.IntegerField(
        read_only=True, min_value=0, help_text="Offset of the quote's first character in the source's text."
    )
    end = serializers.IntegerField(
        read_only=True, min_value=0, help_text="Offset just past the quote's last character (exclusive)."
    )
    fields = serializers.ListField(
        child=serializers.CharField(help_text="A field name."),
        read_only=True,
        help_text="Names of the record's fields this quote supports, e.g. ['amount', 'parties'].",
    )

    class Meta:
        model = Evidence
        fields = ["source", "quote", "start", "end", "fields"]


class FieldQuoteSerializer(serializers.Serializer):
    """A quote in the per-field provenance: where it stands in which source (the full quote is in ``provenance``)."""

    source = serializers.CharField(source="source.slug", read_only=True, help_text="Slug of the quote's source.")
    quote = serializers.CharField(read_only=True, help_text="The verbatim passage.")
    start = serializers.IntegerField(
        read_only=True, min_value=0, help_text="Offset of the quote's first character in the source's text."
    )
    end = serializers.IntegerField(
        read_only=True, min_value=0, help_text="Offset just past the quote's last character (exclusive)."
    )


_VALUE_HELP = (
    "The value in canonical JSON: text or a choice as stored, a date as YYYY-MM-DD, a decimal as a string without "
    "trailing zeros, a number, a country code, a related record's slug, or for lists (parties, facilities, "
    "commodities, stages, countries, aliases, companies) a sorted list of those ([slug, role] pairs for parties "
    'and companies); an empty field is null (a choice, code, country, date or figure), "" (free text) or [] (a '
    "list), as in the record itself."
)


class FieldClaimSerializer(serializers.Serializer):
    """An old value of a field, with the quotes that state it: a claim, shown beside the current value."""

    value = serializers.JSONField(read_only=True, help_text="The value these quotes state. " + _VALUE_HELP)
    quotes = FieldQuoteSerializer(many=True, read_only=True, help_text="The quotes that state this value.")


class FieldProvenanceSerializer(serializers.Serializer):
    """One field of a record: its current value, the quotes that state it, and the claims of other values."""

    field = serializers.CharField(source="name", read_only=True, help_text="The field's name in this API.")
    label = serializers.CharField(read_only=True, help_text="The field's label, as editors see it.")
    value = serializers.JSONField(read_only=True, help_text="The current value. " + _VALUE_HELP)
    supported = serializers.BooleanField(
        read_only=True, help_text="Whether current quotes state all of the current value (always true when empty)."
    )
    quotes = FieldQuoteSerializer(
        many=True, read_only=True, help_text="The quotes that state the current value (for lists: some of its items)."
    )
    claims = FieldClaimSerializer(
        many=True,
        read_only=True,
        help_text="Other values that quotes state (an earlier value, or a source that disagrees), each with its "
        "quotes.",
    )


class _FieldProvenanceMixin(serializers.Serializer):
    """Adds ``field_provenance``: per field, the current value beside its quotes and the claims of other values."""

    field_provenance = serializers.SerializerMethodField(
        help_text="Per field that has a value or a quote: the current value, the quotes that state it, and claims "
        "of other values, so that disagreeing sources can be read side by side."
    )

    @extend_schema_field(FieldProvenanceSerializer(many=True))
    def get_field_provenance(self, record):
        # public=True: a reference to an unpublished record (a draft parent) is null here, as in the record.
        shown = [
            cov for cov in record_coverage(record=record, public=True) if not cov.empty or cov.quotes or cov.claims
        ]
        data = FieldProvenanceSerializer(shown, many=True).data
        # The values follow the record's own fields: a choice, code or country not stated is null there, so here.
        nullable = {
            name
            for name, field in self.fields.items()
            if isinstance(field, (BlankAsNullChoiceField, BlankAsNullCharField, CountrySerializer))
        }
        for item in data:
            if item["field"] in nullable:
                for entry in (item, *item["claims"]):
                    if entry["value"] == "":
                        entry["value"] = None
        return data


class DealPartySerializer(PublicModelSerializer):
    """A party to a deal: the company in brief and its role."""

    slug = serializers.CharField(source="company.slug", read_only=True, help_text="The company's slug.")
    name = serializers.CharField(source="company.name", read_only=True, help_text="The company's name.")
    url = _related_url("company", "company")

    class Meta:
        model = DealParty
        fields = ["slug", "name", "url", "role"]


class FacilityCompanyRoleSerializer(PublicModelSerializer):
    """A company involved in a facility: the company in brief and its role."""

    slug = serializers.CharField(source="company.slug", read_only=True, help_text="The company's slug.")
    name = serializers.CharField(source="company.name", read_only=True, help_text="The company's name.")
    url = _related_url("company", "company")

    class Meta:
        model = FacilityCompany
        fields = ["slug", "name", "url", "role"]


class CompanyDealRoleSerializer(PublicModelSerializer):
    """A deal a company is party to: the deal in brief and the company's role in it."""

    slug = serializers.CharField(source="deal.slug", read_only=True, help_text="The deal's slug.")
    title = serializers.CharField(source="deal.title", read_only=True, help_text="The deal's title.")
    url = _related_url("deal", "deal")

    class Meta:
        model = DealParty
        fields = ["slug", "title", "url", "role"]


class CompanyFacilityRoleSerializer(PublicModelSerializer):
    """A facility a company is involved in: the facility in brief and the company's role there."""

    slug = serializers.CharField(source="facility.slug", read_only=True, help_text="The facility's slug.")
    name = serializers.CharField(source="facility.name", read_only=True, help_text="The facility's name.")
    url = _related_url("facility", "facility")

    class Meta:
        model = FacilityCompany
        fields = ["slug", "name", "url", "role"]


def _count(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(read_only=True, help_text=help_text)


# --- resources -----------------------------------------------------------------------------------------------


class DealSerializer(PublicModelSerializer):
    """A deal with its parties, facilities, commodities, stages, countries and provenance."""

    url = _detail_url("deal")
    countries = CountrySerializer(many=True, read_only=True, help_text="Countries the deal concerns.")
    commodities = CommodityBriefSerializer(many=True, read_only=True, help_text="Commodities the deal concerns.")
    stages = SupplyChainStageBriefSerializer(
        many=True, read_only=True, help_text="Supply-chain stages the deal concerns."
    )
    parties = DealPartySerializer(
        source="party_links", many=True, read_only=True, help_text="Parties, each with its role."
    )
    facilities = FacilityBriefSerializer(many=True, read_only=True, help_text="Facilities the deal concerns.")
    # Declared rather than derived, like Facility.jobs: the derived bound is the database's integer range.
    term_length = serializers.IntegerField(
        read_only=True, allow_null=True, min_value=1, help_text=Deal._meta.get_field("term_length").help_text
    )
    evidence_count = _count("Number of evidence quotes supporting the deal.")
    provenance = ProvenanceSerializer(
        source="evidence", many=True, read_only=True, help_text="The quotes that support the deal."
    )

    class Meta:
        model = Deal
        fields = [
            "slug",
            "url",
            "title",
            "deal_type",
            "status",
            "announced_date",
            "announced_date_precision",
            "amount",
            "currency",
            "amount_usd",
            "value_qualifier",
            *DEAL_TERM_FIELDS,
            "summary",
            "countries",
            "commodities",
            "stages",
            "parties",
            "facilities",
            "evidence_count",
            "provenance",
            "updated",
        ]
        # The terms' texts and codes are parts of a stated figure: null, like the figure, when it is not stated.
        blank_as_null = ("currency", "unit_price_currency", "output_share_of")
        # The model's clean() and constraints keep these positive (deals/models/deal_terms.py); stated here so the
        # schema's decimal pattern has no minus sign.
        extra_kwargs = {
            "unit_price": {"min_value": Decimal("0")},
            "output_share_percent": {"min_value": Decimal("0"), "max_value": Decimal("100")},
        }


class DealDetailSerializer(_FieldProvenanceMixin, DealSerializer):
    """A deal with, per field, its value beside the quotes that state it and the claims of other values."""

    class Meta(DealSerializer.Meta):
        fields = [*DealSerializer.Meta.fields, "field_provenance"]


class CompanySerializer(PublicModelSerializer):
    """A company, government or agency with counts of its deals, facilities and evidence, and provenance."""

    url = _detail_url("company")
    country = CountrySerializer(read_only=True, allow_null=True, help_text="Country of headquarters, if stated.")
    parent = CompanyBriefSerializer(
        source="parent_public", read_only=True, allow_null=True, help_text="Parent organisation, if any."
    )
    aliases = serializers.ListField(
        child=serializers.CharField(help_text="An alias."), read_only=True, help_text="Other names the sources use."
    )
    website = OptionalUrlField(help_text="Official website; null unless a source states it.")
    deal_count = _count("Number of deals the company is a party to.")
    facility_count = _count("Number of facility roles the company holds.")
    facilities = CompanyFacilityRoleSerializer(
        source="facility_links",
        many=True,
        read_only=True,
        help_text="Published facilities the company is involved in, one entry per role, ordered by facility slug.",
    )
    evidence_count = _count("Number of evidence quotes supporting the company record.")
    provenance = ProvenanceSerializer(
        source="evidence", many=True, read_only=True, help_text="The quotes that support the company record."
    )

    class Meta:
        model = Company
        fields = [
            "slug",
            "url",
            "name",
            "kind",
            "country",
            "locality",
            "aliases",
            "parent",
            "description",
            "website",
            "deal_count",
            "facility_count",
            "facilities",
            "evidence_count",
            "provenance",
            "updated",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not instance.country:
            data["country"] = None
        return data


class CompanyDetailSerializer(_FieldProvenanceMixin, CompanySerializer):
    """A company with its deals (and roles) and facilities (and roles)."""

    deals = CompanyDealRoleSerializer(
        source="deal_links", many=True, read_only=True, help_text="Deals the company is party to, with its role."
    )

    class Meta(CompanySerializer.Meta):
        fields = [*CompanySerializer.Meta.fields, "deals", "field_provenance"]


class FacilitySerializer(PublicModelSerializer):
    """A facility with its location, capacity, companies (with roles), commodities, deals and provenance."""

    url = _detail_url("facility")
    country = CountrySerializer(read_only=True, allow_null=True, help_text="Country of the facility, if stated.")
    companies = FacilityCompanyRoleSerializer(
        source="company_links", many=True, read_only=True, help_text="Companies involved, each with its role."
    )
    commodities = CommodityBriefSerializer(
        many=True, read_only=True, help_text="What the facility mines, processes or makes."
    )
    deals = DealBriefSerializer(many=True, read_only=True, help_text="Deals concerning the facility.")
    jobs = serializers.IntegerField(
        read_only=True, allow_null=True, min_value=0, help_text="Number of jobs stated for the facility."
    )
    evidence_count = _count("Number of evidence quotes supporting the facility record.")
    provenance = ProvenanceSerializer(
        source="evidence", many=True, read_only=True, help_text="The quotes that support the facility record."
    )

    class Meta:
        model = Facility
        fields = [
            "slug",
            "url",
            "name",
            "kind",
            "status",
            "country",
            "region",
            "region_code",
            "locality",
            "latitude",
            "longitude",
            "location_precision",
            "capacity_amount",
            "capacity_unit",
            "capacity_period",
            "capacity_qualifier",
            "planned_start",
            "planned_start_precision",
            "jobs",
            "jobs_qualifier",
            "investment_amount",
            "investment_currency",
            "investment_amount_usd",
            "investment_qualifier",
            "description",
            "companies",
            "commodities",
            "deals",
            "evidence_count",
            "provenance",
            "updated",
        ]
        blank_as_null = ("region_code", "capacity_unit", "investment_currency")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not instance.country:
            data["country"] = None
        return data


class FacilityDetailSerializer(_FieldProvenanceMixin, FacilitySerializer):
    """A facility with, per field, its value beside the quotes that state it and the claims of other values."""

    class Meta(FacilitySerializer.Meta):
        fields = [*FacilitySerializer.Meta.fields, "field_provenance"]


class SourceSerializer(PublicModelSerializer):
    """A source document's metadata (without its text) and how many quotes were taken from it."""

    url = _detail_url("source")
    document_url = OptionalUrlField(
        source="url", help_text="Where the document is published; null when unknown (never guessed)."
    )
    evidence_count = _count("Number of evidence quotes taken from this source.")
    redistribution_licensed = serializers.BooleanField(
        read_only=True,
        help_text="Whether the publisher allows the full text to be redistributed: true, the detail's `text` is the "
        "normalised text; false (the default), `text` is null. The digests and the quotes with their offsets are "
        "published either way.",
    )

    class Meta:
        model = Source
        fields = [
            "slug",
            "url",
            "title",
            "publisher",
            "author",
            "published_date",
            "published_date_precision",
            "document_url",
            "kind",
            "raw_sha256",
            "text_sha256",
            "redistribution_licensed",
            "evidence_count",
            "updated",
        ]


class PublicSourceTextField(serializers.CharField):
    """The source's normalised text where it may be redistributed, else null (:mod:`deals.selectors.rights`)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return source_text_public(source=value)


class SourceDetailSerializer(SourceSerializer):
    """A source with its normalised text (null unless licensed for redistribution) and every record derived from it."""

    text = PublicSourceTextField(
        help_text="The normalised text (mojibake repaired, white space normalised) that the quotes' offsets index "
        "into, where the publisher allows redistribution (`redistribution_licensed` is true); null otherwise. The "
        "key is always present. Either way `text_sha256` is the SHA-256 of the UTF-8 text and every quote's "
        "`start`/`end` are offsets into it: with your own copy of the document, `manage.py verify_source_text` "
        "checks them (docs/provenance.md)."
    )

    deals = serializers.SerializerMethodField(help_text="Deals this source's quotes support, by slug.")
    companies = serializers.SerializerMethodField(help_text="Companies this source's quotes support, by slug.")
    facilities = serializers.SerializerMethodField(help_text="Facilities this source's quotes support, by slug.")

    class Meta(SourceSerializer.Meta):
        fields = [*SourceSerializer.Meta.fields, "text", "deals", "companies", "facilities"]

    def _records(self, instance):
        cache = getattr(self, "_records_cache", None)
        if cache is None or cache[0] is not instance:
            cache = (instance, source_records(source=instance))
            self._records_cache = cache
        return cache[1]

    @extend_schema_field(DealBriefSerializer(many=True))
    def get_deals(self, instance):
        return DealBriefSerializer(self._records(instance).deals, many=True, context=self.context).data

    @extend_schema_field(CompanyBriefSerializer(many=True))
    def get_companies(self, instance):
        return CompanyBriefSerializer(self._records(instance).companies, many=True, context=self.context).data

    @extend_schema_field(FacilityBriefSerializer(many=True))
    def get_facilities(self, instance):
        return FacilityBriefSerializer(self._records(instance).facilities, many=True, context=self.context).data


class CommoditySerializer(PublicModelSerializer):
    """A commodity with its parent and how many deals and facilities concern it."""

    url = _detail_url("commodity")
    parent = CommodityBriefSerializer(read_only=True, allow_null=True, help_text="Broader commodity, if any.")
    deal_count = _count("Number of deals concerning this commodity.")
    facility_count = _count("Number of facilities concerning this commodity.")

    class Meta:
        model = Commodity
        fields = ["slug", "url", "name", "kind", "symbol", "parent", "description", "deal_count", "facility_count"]


# --- index and errors ----------------------------------------------------------------------------------------


class LicenseSerializer(serializers.Serializer):
    """A licence: its SPDX identifier, name and URL (deals/licensing.py)."""

    id = serializers.CharField(help_text="SPDX licence identifier, e.g. CC-BY-4.0.")
    name = serializers.CharField(help_text="The licence's full name.")
    url = serializers.URLField(help_text="Where the licence's text is published.")


class ApiIndexSerializer(serializers.Serializer):
    """Links to every collection of the API and to its documentation, the dataset's licence and how to cite it."""

    deals = serializers.URLField(help_text="Deals collection.")
    companies = serializers.URLField(help_text="Companies, governments and agencies collection.")
    facilities = serializers.URLField(help_text="Facilities collection.")
    sources = serializers.URLField(help_text="Source documents collection.")
    commodities = serializers.URLField(help_text="Commodities collection.")
    releases = serializers.URLField(help_text="Dataset releases (bulk downloads with checksums), newest first.")
    changes = serializers.URLField(help_text="The change feed: every change to a published record, in order.")
    deal_stats = serializers.URLField(help_text="Deal statistics: count and summed USD value per group.")
    facility_stats = serializers.URLField(help_text="Facility statistics: count and summed capacity per group.")
    search = serializers.URLField(help_text="One search across deals, companies, facilities and commodities.")
    schema = serializers.URLField(help_text="OpenAPI 3 schema (YAML; add ?format=json for JSON).")
    docs = serializers.URLField(help_text="Swagger UI.")
    redoc = serializers.URLField(help_text="ReDoc.")
    license = LicenseSerializer(
        help_text="The dataset's licence (records, evidence quotes, editors' text): CC BY 4.0. Source articles are "
        "not covered; a source's full text is published only where it is licensed for redistribution."
    )
    citation = serializers.CharField(
        help_text="How to cite the dataset (from CITATION.cff): authors, title, licence and the landing page's URL."
    )


class ErrorDetailSerializer(serializers.Serializer):
    """The body of a 404, 405 or 406: one message."""

    detail = serializers.CharField(help_text="What went wrong.")
