"""The API root (its links, the licence) and the error body of the schema."""

from __future__ import annotations

from rest_framework import serializers


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
