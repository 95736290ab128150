"""Admins of the vocabularies: commodities and supply-chain stages."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from import_export.admin import ExportActionMixin
from import_export.formats.base_formats import CSV, JSON

from deals import models, resources
from deals.admin.base import CountedChangelistMixin, DatasetAdmin, SafeExportMixin, count_column


@admin.register(models.Commodity)
class CommodityAdmin(DatasetAdmin):
    resource_classes = [resources.CommodityResource]
    list_display = ["name", "slug", "kind", "symbol", "parent", "deal_count", "facility_count"]
    list_filter = ["kind"]
    search_fields = ["name", "slug", "symbol"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["parent"]

    counts = {
        "deal_total": Count("deals", distinct=True),
        "facility_total": Count("facilities", distinct=True),
    }
    deal_count = count_column("deal_total", "deals")
    facility_count = count_column("facility_total", "facilities")


@admin.register(models.SupplyChainStage)
class SupplyChainStageAdmin(CountedChangelistMixin, SafeExportMixin, ExportActionMixin, admin.ModelAdmin):
    """A fixed vocabulary seeded by a migration: editors can read and export it, not change it."""

    resource_classes = [resources.SupplyChainStageResource]
    formats = [CSV, JSON]
    list_display = ["position", "name", "slug", "segment", "deal_count"]
    list_display_links = ["name"]
    list_filter = ["segment"]
    search_fields = ["name", "slug"]
    show_change_form_export = False

    counts = {
        "deal_total": Count("deals", distinct=True),
    }
    deal_count = count_column("deal_total", "deals")

    def has_export_permission(self, request):
        return self.has_view_permission(request)
