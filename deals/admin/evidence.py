"""The evidence admin, with a filter by what each quote supports."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from deals import models, resources
from deals.admin.base import DatasetAdmin
from deals.admin.inlines import _admin_link
from deals.forms import (
    EvidenceAdminForm,
)
from deals.services.evidence import record_evidence_values_sync


class EvidenceTargetFilter(admin.SimpleListFilter):
    """Which kind of record the evidence supports."""

    title = "supports"
    parameter_name = "target"

    def lookups(self, request, model_admin):
        return [(name, name) for name in models.Evidence.TARGETS]

    def queryset(self, request, queryset):
        if self.value() in models.Evidence.TARGETS:
            return queryset.filter(**{f"{self.value()}__isnull": False})
        return queryset


@admin.register(models.Evidence)
class EvidenceAdmin(DatasetAdmin):
    """Evidence rows; the quote is pasted and located in the source, offsets are read-only."""

    resource_classes = [resources.EvidenceResource]
    form = EvidenceAdminForm
    list_display = ["short_quote", "source", "supports", "field_list", "start"]
    list_filter = [EvidenceTargetFilter, "source__kind"]
    search_fields = ["quote", "note", "source__slug", "source__title", "deal__title", "company__name", "facility__name"]
    autocomplete_fields = ["source", "deal", "company", "facility"]
    list_select_related = ["source", "deal", "company", "facility"]
    fieldsets = [
        (None, {"fields": ["source", "quote", "occurrence", "fields", "note"]}),
        (
            "Supports (exactly one)",
            {"fields": ["deal", "company", "facility"]},
        ),
        ("Offsets (found from the quote)", {"fields": ["start", "end"]}),
    ]
    readonly_fields = ["start", "end"]

    class Media:
        css = {"all": ["deals/admin/editors.css"]}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A newly ticked field states the record's current value; the ones ticked before keep theirs.
        record_evidence_values_sync(record=obj.target)

    @admin.display(description="quote", ordering="quote")
    def short_quote(self, obj):
        return obj.quote if len(obj.quote) <= 90 else obj.quote[:87] + "…"

    @admin.display(description="supports")
    def supports(self, obj):
        return format_html("{}: {}", obj.target_label, _admin_link(obj.target))

    @admin.display(description="fields")
    def field_list(self, obj):
        return ", ".join(obj.fields or [])
