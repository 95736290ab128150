"""Read back: a record's change page lists, field by field, the quotes that back each current value."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from deals import models
from deals.admin.readback import READBACK_FIELD
from deals.services.evidence import record_evidence_values_sync
from tests.factories import CompanyFactory, DealPartyFactory, EvidenceFactory, SourceFactory


def _row(page: str, name: str) -> str:
    """The read-back row of field ``name``: from its start to the next row or the end of the section."""
    match = re.search(
        rf'<div class="readback-row" data-field="{name}">(.*?)(?=<div class="readback-row"|</div><p)', page, re.S
    )
    assert match, f"no read-back row for {name}"
    return match.group(1)


def _change(record) -> str:
    return reverse(f"admin:deals_{record._meta.model_name}_change", args=[record.pk])


@pytest.mark.django_db
def test_each_stated_field_lists_the_quotes_that_back_its_value(editor_client, dataset):
    deal, source = dataset["deal"], dataset["source"]
    page = editor_client.get(_change(deal)).content.decode()
    amount = _row(page, "amount")
    assert "<strong>Amount</strong><br>10000000" in amount
    link = reverse("admin:deals_source_change", args=[source.pk])
    assert f'“signed a $10 million offtake with Beta Metals” — <a href="{link}">Acme signs offtake</a>' in amount
    # A stated value without a current quote says so; a list names the items no quote states, with role labels.
    assert "No current quote states this value." in _row(page, "title")
    assert "No current quote states: acme-magnets as Buyer or offtaker" in _row(page, "parties")
    assert "<br>Offtake or supply agreement</div>" in _row(page, "deal_type")
    # The deal states no terms (branch terms' fields), so they are listed as empty too, in the form's order.
    assert (
        "Empty, nothing to back: Unit price, Unit price currency, Unit price unit, Term length, Term unit, "
        "Share of output (percent), Share of output: of what, Instrument, Summary, Stages, Facilities"
    ) in page


@pytest.mark.django_db
def test_a_quote_of_an_old_value_is_shown_as_a_claim(editor_client, dataset):
    deal = dataset["deal"]
    models.Deal.objects.filter(pk=deal.pk).update(amount=20000000)
    amount = _row(editor_client.get(_change(deal)).content.decode(), "amount")
    assert "No current quote states this value." in amount
    assert "Claims another value, 10000000:" in amount and "signed a $10 million offtake" in amount


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["acme", "facility"])
def test_companies_and_facilities_read_back_too(editor_client, dataset, name):
    record = dataset[name]
    page = editor_client.get(_change(record)).content.decode()
    assert "Quotes by field" in page
    if name == "acme":
        assert "“Acme Magnets” — <a" in _row(page, "name")


@pytest.mark.django_db
def test_the_add_page_has_no_read_back(editor_client, dataset):
    for model in (models.Deal, models.Company, models.Facility):
        page = editor_client.get(reverse(f"admin:deals_{model._meta.model_name}_add")).content.decode()
        assert "Quotes by field" not in page and READBACK_FIELD not in page


@pytest.mark.django_db
def test_the_read_back_costs_the_same_queries_whatever_the_quotes_and_parties(dataset, django_assert_num_queries):
    deal_admin = admin.site._registry[models.Deal]
    deal = dataset["deal"]
    # Evidence with their sources, party links, their companies, stages, commodities, facilities.
    record = models.Deal.objects.get(pk=deal.pk)
    with django_assert_num_queries(6):
        deal_admin.quotes_by_field(record)
    for i in range(4):
        DealPartyFactory(deal=deal, company=CompanyFactory(), role="investor")
        source = SourceFactory(text=f"Investor {i} joins the round. More text follows here.")
        EvidenceFactory(
            source=source, deal=deal, start=0, end=8 + len(str(i)), quote=f"Investor {i}", fields=["parties"]
        )
    record_evidence_values_sync(record=deal)
    record = models.Deal.objects.get(pk=deal.pk)
    with django_assert_num_queries(6):
        html = deal_admin.quotes_by_field(record)
    assert html.count("<li>“Investor") == 4
