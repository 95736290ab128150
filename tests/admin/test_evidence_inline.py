"""The evidence inline is compact (one table row per quote) and shows each saved quote where it stands."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from deals import models
from deals.admin.inlines import EvidenceInline


def _evidence_formset(response):
    return next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "evidence")


def test_the_evidence_inline_is_tabular_on_every_record_page():
    for model in (models.Deal, models.Company, models.Facility):
        inlines = [i for i in admin.site._registry[model].inlines if issubclass(i, EvidenceInline)]
        assert inlines == [EvidenceInline], model
    assert issubclass(EvidenceInline, admin.TabularInline)
    # Offsets are not columns of their own: they are shown with the quote's context.
    assert "start" not in EvidenceInline.fields and "end" not in EvidenceInline.fields


@pytest.mark.django_db
def test_a_saved_quote_is_shown_marked_in_its_context(editor_client, dataset):
    deal = dataset["deal"]
    evidence = deal.evidence.get()
    response = editor_client.get(reverse("admin:deals_deal_change", args=[deal.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="tabular inline-related' in page
    assert (
        '<div class="quote-context">Acme Magnets said on Monday it <mark>signed a $10 million offtake with Beta '
        "Metals</mark>. The “magnet plant” in Columbus will…"
        f'<span class="quote-offsets">characters {evidence.start}–{evidence.end}</span></div>'
    ) in page
    # The blank row for a new quote has no context yet.
    formset = _evidence_formset(response).formset
    assert page.count('class="quote-context"') == len(formset.initial_forms) == 1
    assert "deals/admin/editors.css" in page


@pytest.mark.django_db
def test_the_source_text_in_the_context_is_escaped(editor_client, dataset):
    source = dataset["source"]
    models.Source.objects.filter(pk=source.pk).update(text="<b>bold</b> Acme Magnets <i>said</i>")
    models.Evidence.objects.filter(company=dataset["acme"]).update(start=12, end=24, quote="Acme Magnets")
    response = editor_client.get(reverse("admin:deals_company_change", args=[dataset["acme"].pk]))
    page = response.content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt; <mark>Acme Magnets</mark> &lt;i&gt;said&lt;/i&gt;" in page
