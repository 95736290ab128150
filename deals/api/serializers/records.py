"""The resources: deals, companies, facilities, sources and commodities, list and detail."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deals.api.serializers.brief import (
    CommodityBriefSerializer,
    CompanyBriefSerializer,
    DealBriefSerializer,
    FacilityBriefSerializer,
    SupplyChainStageBriefSerializer,
)
from deals.api.serializers.fields import (
    CountrySerializer,
    OptionalUrlField,
    PublicModelSerializer,
    count_field,
    detail_url_field,
)
from deals.api.serializers.provenance import (
    CompanyDealRoleSerializer,
    CompanyFacilityRoleSerializer,
    DealPartySerializer,
    FacilityCompanyRoleSerializer,
    FieldProvenanceMixin,
    ProvenanceSerializer,
)
from deals.models import (
    Commodity,
    Company,
    Deal,
    Facility,
    Source,
)
from deals.models.company import COMPANY_DESCRIPTIVE_FIELDS
from deals.models.deal import DEAL_DESCRIPTIVE_FIELDS
from deals.models.facility import FACILITY_DESCRIPTIVE_FIELDS
from deals.selectors import source_records
from deals.selectors.rights import source_text_public


class DealSerializer(PublicModelSerializer):
    """A deal with its parties, facilities, commodities, stages, countries and provenance."""

    url = detail_url_field("deal")
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
    evidence_count = count_field("Number of evidence quotes supporting the deal.")
    provenance = ProvenanceSerializer(
        source="evidence", many=True, read_only=True, help_text="The quotes that support the deal."
    )

    class Meta:
        model = Deal
        fields = [
            "slug",
            "url",
            "title",
            *DEAL_DESCRIPTIVE_FIELDS,
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


class DealDetailSerializer(FieldProvenanceMixin, DealSerializer):
    """A deal with, per field, its value beside the quotes that state it and the claims of other values."""

    class Meta(DealSerializer.Meta):
        fields = [*DealSerializer.Meta.fields, "field_provenance"]


class CompanySerializer(PublicModelSerializer):
    """A company, government or agency with counts of its deals, facilities and evidence, and provenance."""

    url = detail_url_field("company")
    country = CountrySerializer(read_only=True, allow_null=True, help_text="Country of headquarters, if stated.")
    parent = CompanyBriefSerializer(
        source="parent_public", read_only=True, allow_null=True, help_text="Parent organisation, if any."
    )
    aliases = serializers.ListField(
        child=serializers.CharField(help_text="An alias."), read_only=True, help_text="Other names the sources use."
    )
    website = OptionalUrlField(help_text="Official website; null unless a source states it.")
    deal_count = count_field("Number of deals the company is a party to.")
    facility_count = count_field("Number of facility roles the company holds.")
    facilities = CompanyFacilityRoleSerializer(
        source="facility_links",
        many=True,
        read_only=True,
        help_text="Published facilities the company is involved in, one entry per role, ordered by facility slug.",
    )
    evidence_count = count_field("Number of evidence quotes supporting the company record.")
    provenance = ProvenanceSerializer(
        source="evidence", many=True, read_only=True, help_text="The quotes that support the company record."
    )

    class Meta:
        model = Company
        fields = [
            "slug",
            "url",
            "name",
            *COMPANY_DESCRIPTIVE_FIELDS,
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


class CompanyDetailSerializer(FieldProvenanceMixin, CompanySerializer):
    """A company with its deals (and roles) and facilities (and roles)."""

    deals = CompanyDealRoleSerializer(
        source="deal_links", many=True, read_only=True, help_text="Deals the company is party to, with its role."
    )

    class Meta(CompanySerializer.Meta):
        fields = [*CompanySerializer.Meta.fields, "deals", "field_provenance"]


class FacilitySerializer(PublicModelSerializer):
    """A facility with its location, capacity, companies (with roles), commodities, deals and provenance."""

    url = detail_url_field("facility")
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
    evidence_count = count_field("Number of evidence quotes supporting the facility record.")
    provenance = ProvenanceSerializer(
        source="evidence", many=True, read_only=True, help_text="The quotes that support the facility record."
    )

    class Meta:
        model = Facility
        fields = [
            "slug",
            "url",
            "name",
            *FACILITY_DESCRIPTIVE_FIELDS,
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


class FacilityDetailSerializer(FieldProvenanceMixin, FacilitySerializer):
    """A facility with, per field, its value beside the quotes that state it and the claims of other values."""

    class Meta(FacilitySerializer.Meta):
        fields = [*FacilitySerializer.Meta.fields, "field_provenance"]


class SourceSerializer(PublicModelSerializer):
    """A source document's metadata (without its text) and how many quotes were taken from it."""

    url = detail_url_field("source")
    document_url = OptionalUrlField(
        source="url", help_text="Where the document is published; null when unknown (never guessed)."
    )
    evidence_count = count_field("Number of evidence quotes taken from this source.")
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

    url = detail_url_field("commodity")
    parent = CommodityBriefSerializer(read_only=True, allow_null=True, help_text="Broader commodity, if any.")
    deal_count = count_field("Number of deals concerning this commodity.")
    facility_count = count_field("Number of facilities concerning this commodity.")

    class Meta:
        model = Commodity
        fields = ["slug", "url", "name", "kind", "symbol", "parent", "description", "deal_count", "facility_count"]
