"""The CSV operations (``/api/v1/<collection>.csv``): one flat row per record, lossless enough for analysis.

Each row has every scalar field of the record under its model name, relations as slugs joined with ``;``
(``company-slug:role`` for the links that carry a role), the counts of the JSON list, and for deals, companies and
facilities the supporting quotes in one ``quotes`` column: one line per quote, ``<source-slug>: <quote>``.

The fields a CSV leaves out are listed in :data:`CSV_OMITTED` with the reason, and tests/api/test_csv.py checks
every model field against the columns, so a new field cannot be forgotten: it is a column or it is listed here.
"""

from __future__ import annotations

import re

from rest_framework import serializers

from deals.api.serializers.fields import count_field, detail_url_field
from deals.models import Commodity, Company, Deal, Facility, Source
from deals.models.company import COMPANY_DESCRIPTIVE_FIELDS
from deals.models.deal import DEAL_DESCRIPTIVE_FIELDS
from deals.models.facility import FACILITY_DESCRIPTIVE_FIELDS

LIST_SEPARATOR = ";"
# Quotes come from normalised texts (deals.text), which keep line breaks between paragraphs: one quote per line
# needs those breaks written as a space (deals.text.quote_locate finds the passage all the same).
QUOTE_SEPARATOR = "\n"
_LINE_BREAKS_RE = re.compile(r"\s*\n\s*")

# Bookkeeping that no CSV (and no JSON list) shows: the database id and the creation time. The lifecycle columns
# are the same for every row: the CSV lists published records only (a withdrawn record's URL answers 410).
_BOOKKEEPING = {"id": "database key, not public", "created": "bookkeeping, not public"}
_LIFECYCLE = {
    name: "lifecycle bookkeeping: the CSV lists published records only"
    for name in ("publication_status", "published_at", "withdrawn_at", "withdrawn_reason", "merged_into")
}
CSV_OMITTED: dict[type, dict[str, str]] = {
    Deal: {**_BOOKKEEPING, **_LIFECYCLE},
    Company: {**_BOOKKEEPING, **_LIFECYCLE},
    Facility: {**_BOOKKEEPING, **_LIFECYCLE},
    Source: {
        **_BOOKKEEPING,
        "text": "the full normalised text is the detail's (/api/v1/sources/<slug>/), too long for a cell",
        "original_filename": "the name of the file as received, bookkeeping",
        "checks": "the loader's quotes for the source's own metadata, bookkeeping",
    },
    Commodity: dict(_BOOKKEEPING),
}
# Model fields whose column has another name.
CSV_RENAMED: dict[type, dict[str, str]] = {Source: {"url": "document_url"}}


def _joined(values) -> str:
    return LIST_SEPARATOR.join(values)


def quotes_joined(evidence) -> str:
    """The ``quotes`` cell: one line per quote, ``<source-slug>: <quote>`` (line breaks inside a quote as spaces)."""
    return QUOTE_SEPARATOR.join(f"{e.source.slug}: {_LINE_BREAKS_RE.sub(' ', e.quote)}" for e in evidence)


_QUOTES_HELP = (
    "The quotes that support the record, one per line: '<source-slug>: <quote>' (a line break inside a quote is "
    "written as a space)."
)
_SOURCES_HELP = "Slugs of the supporting sources, semicolon-joined."


class _EvidencedCsvMixin(serializers.Serializer):
    """The ``source_slugs`` and ``quotes`` columns of the records that have evidence."""

    source_slugs = serializers.SerializerMethodField(help_text=_SOURCES_HELP)
    quotes = serializers.SerializerMethodField(help_text=_QUOTES_HELP)

    def get_source_slugs(self, record) -> str:
        return _joined(dict.fromkeys(e.source.slug for e in record.evidence.all()))

    def get_quotes(self, record) -> str:
        return quotes_joined(record.evidence.all())


class DealCsvSerializer(_EvidencedCsvMixin, serializers.ModelSerializer):
    """A deal as one flat CSV row."""

    url = detail_url_field("deal")
    countries = serializers.SerializerMethodField(help_text="ISO codes, semicolon-joined.")
    commodities = serializers.SerializerMethodField(help_text="Commodity slugs, semicolon-joined.")
    stages = serializers.SerializerMethodField(help_text="Stage slugs, semicolon-joined.")
    parties = serializers.SerializerMethodField(help_text="'company-slug:role' pairs, semicolon-joined.")
    facilities = serializers.SerializerMethodField(help_text="Facility slugs, semicolon-joined.")
    evidence_count = count_field("Number of evidence quotes.")

    class Meta:
        model = Deal
        fields = [
            "slug",
            "title",
            *DEAL_DESCRIPTIVE_FIELDS,
            "commodities",
            "stages",
            "parties",
            "facilities",
            "source_slugs",
            "evidence_count",
            "updated",
            "url",
            "quotes",
        ]

    def get_countries(self, deal) -> str:
        return _joined(country.code for country in deal.countries)

    def get_commodities(self, deal) -> str:
        return _joined(c.slug for c in deal.commodities.all())

    def get_stages(self, deal) -> str:
        return _joined(s.slug for s in deal.stages.all())

    def get_parties(self, deal) -> str:
        return _joined(f"{link.company.slug}:{link.role}" for link in deal.party_links.all())

    def get_facilities(self, deal) -> str:
        return _joined(f.slug for f in deal.facilities.all())


class CompanyCsvSerializer(_EvidencedCsvMixin, serializers.ModelSerializer):
    """A company as one flat CSV row."""

    url = detail_url_field("company")
    country = serializers.CharField(source="country.code", read_only=True, help_text="ISO code.")
    aliases = serializers.SerializerMethodField(help_text="Aliases, semicolon-joined.")
    parent = serializers.CharField(source="parent_public.slug", read_only=True, default="", help_text="Parent's slug.")
    deal_count = count_field("Number of deals.")
    facility_count = count_field("Number of facility roles.")
    evidence_count = count_field("Number of evidence quotes.")

    class Meta:
        model = Company
        fields = [
            "slug",
            "name",
            *COMPANY_DESCRIPTIVE_FIELDS,
            "deal_count",
            "facility_count",
            "source_slugs",
            "evidence_count",
            "updated",
            "url",
            "quotes",
        ]

    def get_aliases(self, company) -> str:
        return _joined(company.aliases)


class FacilityCsvSerializer(_EvidencedCsvMixin, serializers.ModelSerializer):
    """A facility as one flat CSV row: location, capacity, dates, jobs and investment with their qualifiers."""

    url = detail_url_field("facility")
    country = serializers.CharField(source="country.code", read_only=True, help_text="ISO code.")
    companies = serializers.SerializerMethodField(help_text="'company-slug:role' pairs, semicolon-joined.")
    commodities = serializers.SerializerMethodField(help_text="Commodity slugs, semicolon-joined.")
    deals = serializers.SerializerMethodField(help_text="Slugs of the deals concerning the facility, semicolon-joined.")
    evidence_count = count_field("Number of evidence quotes.")

    class Meta:
        model = Facility
        fields = [
            "slug",
            "name",
            *FACILITY_DESCRIPTIVE_FIELDS,
            "companies",
            "commodities",
            "deals",
            "source_slugs",
            "evidence_count",
            "updated",
            "url",
            "quotes",
        ]

    def get_companies(self, facility) -> str:
        return _joined(f"{link.company.slug}:{link.role}" for link in facility.company_links.all())

    def get_commodities(self, facility) -> str:
        return _joined(c.slug for c in facility.commodities.all())

    def get_deals(self, facility) -> str:
        return _joined(d.slug for d in facility.deals.all())


class SourceCsvSerializer(serializers.ModelSerializer):
    """A source as one flat CSV row (metadata and digests; the text is the detail's)."""

    url = detail_url_field("source")
    document_url = serializers.URLField(source="url", read_only=True, help_text="Where it is published.")
    evidence_count = count_field("Number of evidence quotes.")

    class Meta:
        model = Source
        fields = [
            "slug",
            "title",
            "publisher",
            "author",
            "published_date",
            "published_date_precision",
            "kind",
            "document_url",
            "raw_sha256",
            "text_sha256",
            "redistribution_licensed",
            "evidence_count",
            "updated",
            "url",
        ]


class CommodityCsvSerializer(serializers.ModelSerializer):
    """A commodity as one flat CSV row."""

    url = detail_url_field("commodity")
    parent = serializers.CharField(source="parent.slug", read_only=True, default="", help_text="Parent's slug.")
    deal_count = count_field("Number of deals.")
    facility_count = count_field("Number of facilities.")

    class Meta:
        model = Commodity
        fields = [
            "slug",
            "name",
            "kind",
            "symbol",
            "parent",
            "description",
            "deal_count",
            "facility_count",
            "updated",
            "url",
        ]
