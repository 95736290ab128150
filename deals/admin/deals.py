"""The deal admin, and the deal–party link admin."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from deals import models, resources
from deals.admin.base import DatasetAdmin, count_column
from deals.admin.coverage import EvidenceCoverageAdminMixin
from deals.admin.inlines import DealPartyInline, EvidenceInline
from deals.admin.publication import PublicationAdminMixin
from deals.admin.quoting import StartedFromSourceAdminMixin
from deals.admin.readback import QuotesByFieldAdminMixin
from deals.forms import DealAdminForm


@admin.register(models.Deal)
class DealAdmin(
    StartedFromSourceAdminMixin,
    QuotesByFieldAdminMixin,
    EvidenceCoverageAdminMixin,
    PublicationAdminMixin,
    DatasetAdmin,
):
    resource_classes = [resources.DealResource]
    form = DealAdminForm
    list_display = [
        "title",
        "slug",
        "deal_type",
        "status",
        "announced_date",
        "value",
        "party_count",
        "evidence_count",
    ]
    list_filter = ["deal_type", "status", "announced_date_precision", "stages", "commodities"]
    search_fields = ["title", "slug", "summary", "party_links__company__name"]
    date_hierarchy = "announced_date"
    autocomplete_fields = ["stages", "commodities", "facilities"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [DealPartyInline, EvidenceInline]
    fieldsets = [
        (None, {"fields": ["slug", "title", ("deal_type", "status"), "summary"]}),
        ("When", {"fields": [("announced_date", "announced_date_precision")]}),
        ("Value", {"fields": [("amount", "currency", "value_qualifier"), "amount_usd"]}),
        (
            "Terms",
            {
                "fields": [
                    "instrument",
                    ("unit_price", "unit_price_currency", "unit_price_unit"),
                    ("term_length", "term_unit"),
                    ("output_share_percent", "output_share_of"),
                ]
            },
        ),
        ("Scope", {"fields": ["stages", "commodities", "facilities", "countries"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # only a new deal is checked against the existing ones
            fieldsets = [*fieldsets, ("Duplicates", {"fields": ["confirm_different_deal"]})]
        return fieldsets

    counts = {
        "party_total": Count("party_links", distinct=True),
        "evidence_total": Count("evidence", distinct=True),
    }
    party_count = count_column("party_total", "parties")
    evidence_count = count_column("evidence_total", "evidence")

    @admin.display(description="value", ordering="amount_usd")
    def value(self, obj):
        if obj.amount is None:
            return "–"
        return f"{obj.get_value_qualifier_display() + ' ' if obj.value_qualifier not in ('', 'exact') else ''}" + (
            f"{obj.amount:,.0f} {obj.currency}"
        )


@admin.register(models.DealParty)
class DealPartyAdmin(DatasetAdmin):
    resource_classes = [resources.DealPartyResource]
    list_display = ["deal", "company", "role"]
    list_filter = ["role"]
    search_fields = ["deal__title", "deal__slug", "company__name", "company__slug"]
    autocomplete_fields = ["deal", "company"]
    list_select_related = ["deal", "company"]
