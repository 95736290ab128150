"""Deal terms in the JSON API (deals/models/deal_terms.py): stated as the source states them, null when not stated
(never ""), each backed by its quote in the per-field provenance."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from deals.coverage import record_coverage_gaps
from deals.models import Deal
from tests.factories import DealFactory, DealPartyFactory, EvidenceFactory, SourceFactory

TERMS = (
    "unit_price",
    "unit_price_currency",
    "unit_price_unit",
    "term_length",
    "term_unit",
    "output_share_percent",
    "output_share_of",
    "instrument",
)
GRANT = "us-department-of-defense-2m-grant-to-reelement-technologies"


def _detail(client, slug: str) -> dict:
    response = client.get(reverse("api:deal-detail", kwargs={"slug": slug}))
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_stated_terms_are_sent_as_stated(client):
    DealFactory(slug="floor", terms=True)
    body = _detail(client, "floor")
    assert {name: body[name] for name in TERMS} == {
        "unit_price": "110.0000",
        "unit_price_currency": "USD",
        "unit_price_unit": "kg",
        "term_length": 10,
        "term_unit": "years",
        "output_share_percent": "100.00",
        "output_share_of": "magnets produced at the plant",
        "instrument": "price_floor",
    }


@pytest.mark.django_db
def test_terms_not_stated_are_null_never_empty_strings(client):
    DealFactory(slug="plain")
    body = _detail(client, "plain")
    assert {name: body[name] for name in TERMS} == dict.fromkeys(TERMS)
    (listed,) = client.get("/api/v1/deals/").json()["results"]
    assert {name: listed[name] for name in TERMS} == dict.fromkeys(TERMS)


@pytest.mark.django_db
def test_lender_and_borrower_roles_and_the_loan_type_are_sent(client):
    deal = DealFactory(slug="loan", deal_type=Deal.Type.LOAN, instrument=Deal.Instrument.LOAN)
    DealPartyFactory(deal=deal, company__slug="bank", role="lender")
    DealPartyFactory(deal=deal, company__slug="miner", role="borrower")
    body = _detail(client, "loan")
    assert (body["deal_type"], body["instrument"]) == ("loan", "loan")
    assert sorted((p["slug"], p["role"]) for p in body["parties"]) == [("bank", "lender"), ("miner", "borrower")]


@pytest.mark.django_db
def test_each_stated_term_needs_a_quote_and_shows_it(client):
    text = "The agency set a price floor of $110 per kilogram for ten years, covering 100% of the magnets."
    source = SourceFactory(slug="floor-news", text=text)
    deal = DealFactory(slug="floor", terms=True, publication_status="draft")
    gaps = record_coverage_gaps(record=deal)
    for label in ("Unit price", "Unit price currency", "Term length", "Instrument", "Share of output (percent)"):
        assert any(gap.startswith(label) for gap in gaps), (label, gaps)

    quote = "a price floor of $110 per kilogram for ten years, covering 100% of the magnets"
    start = text.index(quote)
    EvidenceFactory(source=source, deal=deal, start=start, end=start + len(quote), quote=quote, fields=list(TERMS))
    assert not [gap for gap in record_coverage_gaps(record=deal) if gap.split(":")[0] in _labels()]
    Deal.objects.filter(pk=deal.pk).update(publication_status="published")

    provenance = {entry["field"]: entry for entry in _detail(client, "floor")["field_provenance"]}
    for name in TERMS:
        assert provenance[name]["supported"] is True, name
        assert provenance[name]["quotes"][0]["quote"] == quote
    assert provenance["unit_price"]["value"] == "110"
    assert provenance["term_unit"]["value"] == "years"


def _labels() -> set[str]:
    return {str(Deal._meta.get_field(name).verbose_name).capitalize() for name in TERMS} | {
        "Share of output (percent)",
        "Share of output: of what",
    }


@pytest.mark.django_db
def test_seed_grant_states_its_instrument_with_the_articles_quote(client):
    call_command("load_dataset", stdout=StringIO())
    body = _detail(client, GRANT)
    assert body["instrument"] == "grant"
    (entry,) = [e for e in body["field_provenance"] if e["field"] == "instrument"]
    assert entry["supported"] is True
    assert "a $2 million U.S. Department of Defense grant" in entry["quotes"][0]["quote"]
    # Nothing else in the seed states a price, a term or a share of output.
    assert not Deal.objects.exclude(unit_price=None).exists()
    assert not Deal.objects.exclude(term_length=None).exists()
    assert not Deal.objects.exclude(output_share_percent=None).exists()
    assert sorted(Deal.objects.exclude(instrument="").values_list("instrument", flat=True)) == ["grant", "offtake"]


@pytest.mark.django_db
def test_a_decimal_unit_price_keeps_its_places(client):
    DealFactory(slug="tungsten", terms=True, unit_price=Decimal("0.1250"), unit_price_unit="mtu")
    assert _detail(client, "tungsten")["unit_price"] == "0.1250"
