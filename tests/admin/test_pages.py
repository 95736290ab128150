"""Every admin page an editor uses loads for every registered model, with a bounded number of queries."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deals import models
from tests.factories import (
    CommodityFactory,
    CompanyFactory,
    DealFactory,
    DealPartyFactory,
    EvidenceFactory,
    FacilityCompanyFactory,
    FacilityFactory,
    SourceFactory,
)

# Dataset releases are read-only and made by a command, not by editors: tests/admin/test_releases.py.
MODELS = [m for m in admin.site._registry if m._meta.app_label == "deals" and m is not models.DatasetRelease]


def _url(model, name, *args):
    return reverse(f"admin:deals_{model._meta.model_name}_{name}", args=args)


def test_every_dataset_model_is_registered():
    assert models.DatasetRelease in admin.site._registry
    assert {m.__name__ for m in MODELS} == {
        "Commodity",
        "SupplyChainStage",
        "Source",
        "Company",
        "Facility",
        "FacilityCompany",
        "Deal",
        "DealParty",
        "Evidence",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_editor_pages_load(editor_client, dataset, model):
    obj = model.objects.order_by("pk").first()
    assert obj is not None
    pages = [
        _url(model, "changelist"),
        _url(model, "changelist") + "?q=acme",
        _url(model, "change", obj.pk),
        _url(model, "history", obj.pk),
    ]
    if model is not models.SupplyChainStage:
        pages.append(_url(model, "add"))
        pages.append(_url(model, "export"))
    if hasattr(model, "history"):
        record = obj.history.latest()
        pages.append(_url(model, "simple_history", obj.pk, record.history_id))
    for url in pages:
        response = editor_client.get(url)
        assert response.status_code == 200, url


@pytest.mark.django_db
def test_changelist_search_finds_by_related_name(editor_client, dataset):
    response = editor_client.get(_url(models.Deal, "changelist") + "?q=Beta+Metals")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [dataset["deal"]]
    response = editor_client.get(_url(models.Deal, "changelist") + "?q=no-such-thing")
    assert list(response.context["cl"].result_list) == []


@pytest.mark.django_db
def test_changelist_counts_are_annotated(editor_client, dataset):
    response = editor_client.get(_url(models.Company, "changelist"))
    rows = {c.slug: c for c in response.context["cl"].result_list}
    assert rows["acme-magnets"].deal_total == 1
    assert rows["acme-magnets"].evidence_total == 1
    response = editor_client.get(_url(models.Deal, "changelist"))
    deal = response.context["cl"].result_list[0]
    assert (deal.party_total, deal.evidence_total) == (2, 1)


@pytest.mark.django_db
def test_import_page_shown_only_where_importable(editor_client, dataset):
    assert editor_client.get(_url(models.Evidence, "import")).status_code == 200
    assert editor_client.get(_url(models.Deal, "import")).status_code == 200
    assert editor_client.get(_url(models.Source, "import")).status_code == 403


def _add_rows(model, dataset, n: int) -> None:
    """``n`` more rows of ``model``, each with every related record its changelist shows or counts."""
    for i in range(n):
        if model is models.Commodity:
            commodity = CommodityFactory(parent=dataset["commodity"])
            DealFactory().commodities.add(commodity)
            FacilityFactory().commodities.add(commodity)
        elif model is models.SupplyChainStage:
            stage = models.SupplyChainStage.objects.create(
                slug=f"extra-stage-{i}", name=f"Extra stage {i}", segment="midstream", position=100 + i
            )
            DealFactory().stages.add(stage)
        elif model is models.Source:
            EvidenceFactory(source=SourceFactory())
        elif model is models.Company:
            company = CompanyFactory(parent=dataset["acme"])
            DealPartyFactory(company=company)
            EvidenceFactory(deal=None, company=company)
        elif model is models.Facility:
            facility = FacilityFactory()
            FacilityCompanyFactory(facility=facility)
            EvidenceFactory(deal=None, facility=facility)
        elif model is models.FacilityCompany:
            FacilityCompanyFactory()
        elif model is models.DealParty:
            DealPartyFactory()
        elif model is models.Deal:
            deal = DealFactory()
            DealPartyFactory(deal=deal)
            DealPartyFactory(deal=deal)
            EvidenceFactory(deal=deal)
        elif model is models.Evidence:
            EvidenceFactory(deal=None, company=CompanyFactory())
            EvidenceFactory(deal=None, facility=FacilityFactory())
            EvidenceFactory()
        else:  # pragma: no cover - a model registered later needs its own rows here
            raise AssertionError(f"no rows for {model.__name__}")


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_query_count_does_not_grow_with_rows(editor_client, dataset, model, django_assert_max_num_queries):
    url = _url(model, "changelist")
    editor_client.get(url)  # warm per-process caches (content types, session)
    with CaptureQueriesContext(connection) as few_rows:
        response = editor_client.get(url)
    assert response.status_code == 200
    assert len(few_rows) <= 14
    rows_before = response.context["cl"].result_count
    _add_rows(model, dataset, 5)
    with django_assert_max_num_queries(len(few_rows)):
        response = editor_client.get(url)
    assert response.status_code == 200
    # The page really lists more rows of the model under test, so a per-row query would have shown.
    assert response.context["cl"].result_count >= rows_before + 5
