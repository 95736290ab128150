"""The company admin."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from deals import models, resources
from deals.admin.base import DatasetAdmin, count_column
from deals.admin.coverage import EvidenceCoverageAdminMixin
from deals.admin.inlines import CompanyFacilityInline, EvidenceInline
from deals.admin.publication import PublicationAdminMixin
from deals.admin.quoting import StartedFromSourceAdminMixin
from deals.admin.readback import QuotesByFieldAdminMixin
from deals.forms import (
    CompanyAdminForm,
)


@admin.register(models.Company)
class CompanyAdmin(
    StartedFromSourceAdminMixin,
    QuotesByFieldAdminMixin,
    EvidenceCoverageAdminMixin,
    PublicationAdminMixin,
    DatasetAdmin,
):
    resource_classes = [resources.CompanyResource]
    form = CompanyAdminForm
    list_display = ["name", "slug", "kind", "country", "locality", "deal_count", "evidence_count"]
    list_filter = ["kind", "country"]
    search_fields = ["name", "slug", "locality"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CompanyFacilityInline, EvidenceInline]

    counts = {
        "deal_total": Count("deal_links__deal", distinct=True),
        "evidence_total": Count("evidence", distinct=True),
    }
    deal_count = count_column("deal_total", "deals")
    evidence_count = count_column("evidence_total", "evidence")
