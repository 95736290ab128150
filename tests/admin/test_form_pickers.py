"""Pickers and suggestions on the record forms: country pickers, slugs suggested from the title."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from deals import models
from deals.admin.countries import CountriesPicker, CountryPicker
from tests.admin.conftest import inline_data


@pytest.mark.parametrize(
    ("model", "source"),
    [(models.Deal, "title"), (models.Company, "name"), (models.Facility, "name"), (models.Source, "title")],
)
def test_the_slug_is_suggested_from_the_title_or_name(model, source):
    assert admin.site._registry[model].prepopulated_fields == {"slug": [source]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "field", "widget"),
    [
        (models.Deal, "countries", CountriesPicker),
        (models.Company, "country", CountryPicker),
        (models.Facility, "country", CountryPicker),
    ],
)
def test_country_fields_use_the_picker_with_its_script(editor_client, dataset, model, field, widget):
    response = editor_client.get(reverse(f"admin:deals_{model._meta.model_name}_add"))
    form = response.context["adminform"].form
    assert type(form.fields[field].widget) is widget
    page = response.content.decode()
    assert f'name="{field}"' in page and "data-country-picker" in page
    assert "deals/admin/countries.js" in page and "admin/js/vendor/select2/select2.full" in page
    # Every country is still an option (the picker filters them as the editor types), named in English.
    assert '<option value="AU">Australia</option>' in page


@pytest.mark.django_db
def test_the_picked_countries_are_saved_as_codes(editor_client, dataset):
    deal = dataset["deal"]
    models.Deal.objects.filter(pk=deal.pk).update(publication_status=models.PublicationStatus.DRAFT)
    from tests.admin.test_evidence_forms import _deal_post

    response = editor_client.post(
        reverse("admin:deals_deal_change", args=[deal.pk]),
        _deal_post(deal, parties=[], evidence=[], countries=["AU", "US"]),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    deal.refresh_from_db()
    assert sorted(c.code for c in deal.countries) == ["AU", "US"]
    data = {"slug": "new-co", "name": "New Co", "kind": "company", "country": "ZZ", "aliases": ""}
    data.update(inline_data("facility_links", []))
    data.update(inline_data("evidence", []))
    response = editor_client.post(reverse("admin:deals_company_add"), data)
    assert "Select a valid choice" in response.context["adminform"].form.errors["country"][0]
