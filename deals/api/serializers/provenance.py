"""Provenance: the verbatim quotes behind a record, and per-field provenance on the detail views; and the roles
that link a record to the companies, deals and facilities it names."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deals.api.serializers.brief import (
    SourceBriefSerializer,
)
from deals.api.serializers.fields import (
    BlankAsNullCharField,
    BlankAsNullChoiceField,
    CountrySerializer,
    PublicModelSerializer,
    related_url_field,
)
from deals.coverage import record_coverage
from deals.models import (
    DealParty,
    Evidence,
    FacilityCompany,
)


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


class FieldProvenanceMixin(serializers.Serializer):
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
    url = related_url_field("company", "company")

    class Meta:
        model = DealParty
        fields = ["slug", "name", "url", "role"]


class FacilityCompanyRoleSerializer(PublicModelSerializer):
    """A company involved in a facility: the company in brief and its role."""

    slug = serializers.CharField(source="company.slug", read_only=True, help_text="The company's slug.")
    name = serializers.CharField(source="company.name", read_only=True, help_text="The company's name.")
    url = related_url_field("company", "company")

    class Meta:
        model = FacilityCompany
        fields = ["slug", "name", "url", "role"]


class CompanyDealRoleSerializer(PublicModelSerializer):
    """A deal a company is party to: the deal in brief and the company's role in it."""

    slug = serializers.CharField(source="deal.slug", read_only=True, help_text="The deal's slug.")
    title = serializers.CharField(source="deal.title", read_only=True, help_text="The deal's title.")
    url = related_url_field("deal", "deal")

    class Meta:
        model = DealParty
        fields = ["slug", "title", "url", "role"]


class CompanyFacilityRoleSerializer(PublicModelSerializer):
    """A facility a company is involved in: the facility in brief and the company's role there."""

    slug = serializers.CharField(source="facility.slug", read_only=True, help_text="The facility's slug.")
    name = serializers.CharField(source="facility.name", read_only=True, help_text="The facility's name.")
    url = related_url_field("facility", "facility")

    class Meta:
        model = FacilityCompany
        fields = ["slug", "name", "url", "role"]
