"""The per-field provenance of a detail: each field's value beside its quotes and the claims of other values."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from deals import models
from tests.factories import EvidenceFactory

TORNGAT = "torngat-metals-vac-dysprosium-terbium-mou"


@pytest.fixture
def loaded(db):
    call_command("load_dataset", stdout=StringIO())


def _field(body, name):
    return next(entry for entry in body["field_provenance"] if entry["field"] == name)


@pytest.mark.django_db
def test_a_changed_value_shows_its_new_quote_beside_the_claim_of_the_old_one(client, loaded):
    deal = models.Deal.objects.get(slug=TORNGAT)
    old = deal.evidence.get()
    models.Deal.objects.filter(pk=deal.pk).update(deal_type=models.Deal.Type.OFFTAKE)
    deal.refresh_from_db()
    passage = "cross-Atlantic cooperation deepened"
    start = old.source.text.index(passage)
    EvidenceFactory(source=old.source, deal=deal, start=start, end=start + len(passage), fields=["deal_type"])

    body = client.get(reverse("api:deal-detail", kwargs={"slug": TORNGAT})).json()
    quote = {"source": old.source.slug, "quote": passage, "start": start, "end": start + len(passage)}
    old_quote = {"source": old.source.slug, "quote": old.quote, "start": old.start, "end": old.end}
    assert _field(body, "deal_type") == {
        "field": "deal_type",
        "label": "Deal type",
        "value": "offtake",
        "supported": True,
        "quotes": [quote],
        "claims": [{"value": "mou", "quotes": [old_quote]}],
    }
    # Unchanged fields keep their quote, relations list their items, and empty fields are left out.
    assert _field(body, "title")["quotes"] == [old_quote] and _field(body, "title")["claims"] == []
    assert _field(body, "parties")["value"] == [["torngat-metals", "partner"], ["vac", "partner"]]
    assert _field(body, "announced_date")["value"] == "2025-08-01"
    assert "amount" not in {entry["field"] for entry in body["field_provenance"]}
    # The list stays lean: the per-field view is on the detail only.
    listed = client.get(reverse("api:deal-list")).json()["results"][0]
    assert "field_provenance" not in listed


@pytest.mark.django_db
def test_an_unsupported_value_is_flagged(client, loaded):
    models.Company.objects.filter(slug="vac").update(locality="Hanau")
    body = client.get(reverse("api:company-detail", kwargs={"slug": "vac"})).json()
    assert _field(body, "locality") == {
        "field": "locality",
        "label": "Locality",
        "value": "Hanau",
        "supported": False,
        "quotes": [],
        "claims": [],
    }


@pytest.mark.django_db
def test_facility_relations_are_shown_with_roles(client, loaded):
    body = client.get(reverse("api:facility-detail", kwargs={"slug": "js-link-columbus-ndfeb-magnet-plant"})).json()
    companies = _field(body, "companies")
    assert companies["value"] == [["js-link", "developer"]] and companies["supported"]
    assert _field(body, "planned_start")["value"] == "2027-01-01"
    assert _field(body, "capacity_amount")["value"] == "3000"
