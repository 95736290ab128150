"""The facility admin, and the facility–company link admin."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from deals import models, resources
from deals.admin.base import DatasetAdmin, count_column
from deals.admin.coverage import EvidenceCoverageAdminMixin
from deals.admin.inlines import EvidenceInline, FacilityCompanyInline
from deals.admin.publication import PublicationAdminMixin
from deals.admin.quoting import StartedFromSourceAdminMixin
from deals.admin.readback import QuotesByFieldAdminMixin


@admin.register(models.Facility)
class FacilityAdmin(
    StartedFromSourceAdminMixin,
    QuotesByFieldAdminMixin,
    EvidenceCoverageAdminMixin,
    PublicationAdminMixin,
    DatasetAdmin,
):
    resource_classes = [resources.FacilityResource]
    list_display = ["name", "slug", "kind", "status", "country", "planned_start", "company_count", "evidence_count"]
    list_filter = ["kind", "status", "country"]
    search_fields = ["name", "slug", "locality", "region"]
    date_hierarchy = "planned_start"
    autocomplete_fields = ["commodities"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [FacilityCompanyInline, EvidenceInline]
    fieldsets = [
        (None, {"fields": ["slug", "name", "kind", "status", "commodities", "description"]}),
        (
            "Location",
            {
                "fields": [
                    "country",
                    ("region", "region_code"),
                    "locality",
                    ("latitude", "longitude"),
                    "location_precision",
                ]
            },
        ),
        (
            "Capacity and plans",
            {
                "fields": [
                    ("capacity_amount", "capacity_unit", "capacity_period", "capacity_qualifier"),
                    ("planned_start", "planned_start_precision"),
                    ("jobs", "jobs_qualifier"),
                    ("investment_amount", "investment_currency", "investment_amount_usd", "investment_qualifier"),
                ]
            },
        ),
    ]

    counts = {
        "company_total": Count("company_links__company", distinct=True),
        "evidence_total": Count("evidence", distinct=True),
    }
    company_count = count_column("company_total", "companies")
    evidence_count = count_column("evidence_total", "evidence")


@admin.register(models.FacilityCompany)
class FacilityCompanyAdmin(DatasetAdmin):
    resource_classes = [resources.FacilityCompanyResource]
    list_display = ["facility", "company", "role"]
    list_filter = ["role"]
    search_fields = ["facility__name", "facility__slug", "company__name", "company__slug"]
    autocomplete_fields = ["facility", "company"]
    list_select_related = ["facility", "company"]
