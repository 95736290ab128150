"""Inlines shared by the record admins: evidence, deal parties and facility companies."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from deals import models
from deals.admin.base import SafeAutocompleteMixin
from deals.admin.quoting import evidence_prefill_formset
from deals.forms import (
    DealPartyInlineFormSet,
    EvidenceAdminForm,
    EvidenceInlineFormSet,
)


def _admin_link(obj) -> str:
    if obj is None:
        return "–"
    url = reverse(f"admin:deals_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj)


class EvidenceInline(SafeAutocompleteMixin, admin.TabularInline):
    """Evidence for the record being edited, one compact row per quote: pick the source, paste the quote, tick the
    fields it states. Offsets are found on save; under a saved quote its form shows it where it stands in the source
    (:class:`deals.forms.QuoteTextarea`)."""

    model = models.Evidence
    form = EvidenceAdminForm
    formset = EvidenceInlineFormSet
    fields = ["source", "quote", "occurrence", "fields", "note"]
    autocomplete_fields = ["source"]
    extra = 1
    classes = ["evidence-inline"]

    class Media:
        css = {"all": ["deals/admin/editors.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source")

    def get_formset(self, request, obj=None, **kwargs):
        # Quoting hook (deals/admin/quoting.py): an add page started from a source prefills the rows.
        formset = super().get_formset(request, obj, **kwargs)
        return evidence_prefill_formset(formset=formset, request=request, obj=obj, record_model=self.parent_model)


class DealPartyInline(SafeAutocompleteMixin, admin.TabularInline):
    """A deal's parties, each with its role; the same company may appear once per role. A new deal with the type
    and parties of an existing one is refused unless the editor confirms it is a different deal."""

    model = models.DealParty
    formset = DealPartyInlineFormSet
    fields = ["company", "role"]
    autocomplete_fields = ["company"]
    extra = 2

    def get_queryset(self, request):
        # The row's title (DealParty.__str__) names the company and the deal.
        return super().get_queryset(request).select_related("company", "deal")


class FacilityCompanyInline(SafeAutocompleteMixin, admin.TabularInline):
    """The companies at a facility, each with its role (on the facility page)."""

    model = models.FacilityCompany
    fields = ["company", "role"]
    autocomplete_fields = ["company"]
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("company")


class CompanyFacilityInline(FacilityCompanyInline):
    """The facilities a company is involved in (on the company page)."""

    fields = ["facility", "role"]
    autocomplete_fields = ["facility"]
    verbose_name = "facility"
    verbose_name_plural = "facilities"

    def get_queryset(self, request):
        return admin.TabularInline.get_queryset(self, request).select_related("facility")
