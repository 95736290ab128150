"""The stored search documents (deals/search_index.py) follow the admin's writes: the change form, its evidence
inline, imports through the admin and through the import-export resources, and the publication services; so do the
deals' search levels on PostgreSQL (deals/search_levels.py), and a deals list asked for only ``q`` ranks as the
general list does (``assert_current``)."""

from __future__ import annotations

import pytest
from tablib import Dataset

from deals import models
from deals.resources import CommodityResource, EvidenceResource
from deals.services.publication import record_withdraw
from tests.admin.conftest import SOURCE_TEXT
from tests.admin.test_evidence_forms import _deal_change, _deal_post
from tests.admin.test_import_export import CSV_FORMAT, _confirm, _evidence_csv, _preview
from tests.test_search_index import found
from tests.test_search_levels import assert_current


@pytest.mark.django_db
def test_admin_change_form_updates_the_deal_document(editor_client, dataset):
    deal = dataset["deal"]
    assert found(models.Deal, "zirconium") == []
    # A draft: a published deal's new values need quotes first (deals.provenance), which is not under test here.
    models.Deal.objects.filter(pk=deal.pk).update(publication_status=models.PublicationStatus.DRAFT, published_at=None)
    data = _deal_post(deal, parties=[], evidence=[], summary="Beta sells zirconium to Acme.")
    response = editor_client.post(_deal_change(deal), data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert found(models.Deal, "zirconium") == [deal.slug]
    assert found(models.Deal, "acme zirconium") == [deal.slug]  # one term in the title, one in the summary
    assert_current("zirconium", "acme zirconium", "beta")


@pytest.mark.django_db
def test_admin_evidence_inline_adds_a_searchable_quote(editor_client, dataset):
    deal = dataset["deal"]
    quote = "The \u201cmagnet plant\u201d in Columbus will make 3,000 tonnes per year."
    start = SOURCE_TEXT.index(quote)
    row = {"deal": deal.pk, "source": dataset["source"].pk, "quote": quote, "start": start, "end": start + len(quote)}
    response = editor_client.post(_deal_change(deal), _deal_post(deal, parties=[], evidence=[{**row, "fields": ""}]))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert found(models.Deal, "tonnes") == [deal.slug]
    assert_current("tonnes", "magnet plant", "columbus")


@pytest.mark.django_db
def test_admin_import_of_evidence_updates_record_and_source_documents(editor_client, dataset):
    rows = [
        {
            "source": "acme-offtake",
            "deal": "acme-beta-offtake",
            "quote": "Beta Metals will supply oxide.",
            "occurrence": "1",
        }
    ]
    assert found(models.Deal, "oxide") == []
    preview = _preview(editor_client, models.Evidence, _evidence_csv(rows), CSV_FORMAT, "batch.csv")
    assert found(models.Deal, "oxide") == []  # the preview is rolled back, documents too
    assert_current("oxide", "beta oxide")
    assert _confirm(editor_client, models.Evidence, preview).status_code == 302
    assert found(models.Deal, "oxide") == ["acme-beta-offtake"]
    assert found(models.Source, "oxide") == ["acme-offtake"]
    assert_current("oxide", "beta oxide", "supply")


@pytest.mark.django_db
def test_resource_import_renames_a_commodity_in_its_deals_documents(dataset):
    deal = dataset["deal"]
    assert found(models.Deal, "neodymium") == []
    rows = Dataset(headers=["slug", "name", "kind", "symbol", "parent", "description"])
    rows.append(["ndfeb", "Neodymium magnets", "product", "", "", ""])
    result = CommodityResource().import_data(rows, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors(), result.invalid_rows
    assert found(models.Commodity, "neodymium") == ["ndfeb"]
    assert found(models.Deal, "neodymium") == [deal.slug]
    assert_current("neodymium", "magnets")


@pytest.mark.django_db
def test_resource_import_of_evidence(dataset):
    rows = Dataset(headers=["id", "source", "deal", "company", "facility", "quote", "occurrence"])
    rows.append(["", "acme-offtake", "", "", "columbus-plant", "Beta Metals will supply oxide.", "2"])
    result = EvidenceResource().import_data(rows, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert found(models.Facility, "oxide") == ["columbus-plant"]


@pytest.mark.django_db
def test_publication_services_change_what_a_source_is_found_by(dataset):
    deal = dataset["deal"]
    assert found(models.Source, "million") == ["acme-offtake"]  # the deal's quote
    record_withdraw(record=deal, reason="Duplicate of another record.")
    assert found(models.Source, "million") == []
    assert found(models.Source, "columbus") == ["acme-offtake"]  # the facility's quote, still published
    assert_current("million", "offtake")
    # Back to published by a bare UPDATE (record_publish would want every field quoted): the trigger follows.
    models.Deal.objects.filter(pk=deal.pk).update(
        publication_status=models.PublicationStatus.PUBLISHED, withdrawn_at=None, withdrawn_reason=""
    )
    assert found(models.Source, "million") == ["acme-offtake"]
    assert_current("million", "offtake")
