"""Per-field coverage (deals.coverage): a changed value retires the quotes of the old one, on any write path."""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from deals import models
from deals.coverage import record_coverage, record_coverage_gaps
from deals.provenance import provenance_verify
from tests.factories import CompanyFactory, DealFactory, DealPartyFactory, EvidenceFactory, SourceFactory

TORNGAT = "torngat-metals-vac-dysprosium-terbium-mou"


@pytest.fixture
def loaded(db):
    call_command("load_dataset", stdout=StringIO())


def _coverage(record, name):
    return next(c for c in record_coverage(record=record) if c.name == name)


@pytest.mark.django_db
def test_a_shell_save_that_changes_a_value_turns_its_quote_into_a_claim(loaded):
    deal = models.Deal.objects.get(slug=TORNGAT)
    quote = deal.evidence.get()
    assert _coverage(deal, "deal_type").quotes == [quote]

    deal.deal_type = models.Deal.Type.OFFTAKE
    deal.status = models.Deal.Status.SIGNED
    deal.save()

    deal = models.Deal.objects.get(slug=TORNGAT)
    coverage = _coverage(deal, "deal_type")
    assert coverage.value == "offtake" and coverage.quotes == []
    assert [(c.value, c.quotes) for c in coverage.claims] == [("mou", [quote])]
    assert record_coverage_gaps(record=deal) == [
        "Deal type: no current quote supports the value 'offtake' (the quotes that name it state another value).",
        "Status: no current quote supports the value 'signed' (the quotes that name it state another value).",
    ]
    # The quote itself is untouched: it still lists the fields and keeps the value it states.
    quote.refresh_from_db()
    assert "deal_type" in quote.fields and quote.values["deal_type"] == "mou"
    faults = [str(f) for f in provenance_verify()]
    assert faults == [f"deal {TORNGAT!r}: {gap}" for gap in record_coverage_gaps(record=deal)]
    with pytest.raises(CommandError, match="2 provenance fault"):
        call_command("verify_provenance", stdout=StringIO(), stderr=StringIO())

    # Changing it back makes the quote current again: nothing was lost.
    models.Deal.objects.filter(pk=deal.pk).update(deal_type="mou", status="non_binding")
    assert record_coverage_gaps(record=models.Deal.objects.get(pk=deal.pk)) == []


@pytest.mark.django_db
def test_a_new_quote_of_the_new_value_supports_it_beside_the_claim(loaded):
    deal = models.Deal.objects.get(slug=TORNGAT)
    old = deal.evidence.get()
    models.Deal.objects.filter(pk=deal.pk).update(announced_date="2025-09-01")
    deal.refresh_from_db()
    source = old.source
    text = "Meanwhile, cross-Atlantic cooperation deepened"
    start = source.text.index(text)
    new = EvidenceFactory(source=source, deal=deal, start=start, end=start + len(text), fields=["announced_date"])
    deal = models.Deal.objects.get(pk=deal.pk)
    coverage = _coverage(deal, "announced_date")
    assert coverage.value == "2025-09-01" and coverage.quotes == [new]
    assert [(c.value, c.quotes) for c in coverage.claims] == [("2025-08-01", [old])]
    assert record_coverage_gaps(record=deal) == []


@pytest.mark.django_db
def test_relations_are_covered_item_by_item():
    deal = DealFactory(countries=[])
    DealPartyFactory(deal=deal, company=CompanyFactory(slug="buyer-co"), role="buyer")
    evidence = EvidenceFactory(deal=deal, fields=["title", "deal_type", "status", "parties"])
    models.Deal.objects.filter(pk=deal.pk).update(
        announced_date=None, announced_date_precision="", amount=None, currency="", amount_usd=None, value_qualifier=""
    )
    deal = models.Deal.objects.get(pk=deal.pk)
    assert record_coverage_gaps(record=deal) == []
    assert evidence.values["parties"] == [["buyer-co", "buyer"]]

    # A second party that no quote states is a gap naming that party only; the first stays supported.
    DealPartyFactory(deal=deal, company=CompanyFactory(slug="seller-co"), role="supplier")
    assert record_coverage_gaps(record=deal) == ["Parties: no current quote supports seller-co as supplier."]

    # A removed party turns the quote that stated it into a claim of the old list.
    models.DealParty.objects.filter(deal=deal).delete()
    DealPartyFactory(deal=deal, company=models.Company.objects.get(slug="seller-co"), role="supplier")
    coverage = _coverage(deal, "parties")
    assert coverage.quotes == [] and [c.value for c in coverage.claims] == [[["buyer-co", "buyer"]]]
    assert record_coverage_gaps(record=deal) == ["Parties: no current quote supports seller-co as supplier."]


@pytest.mark.django_db
def test_empty_and_not_stated_fields_need_no_quote():
    company = CompanyFactory(kind=models.Company.Kind.UNKNOWN, country="")
    EvidenceFactory(company=company, deal=None, fields=["name"])
    assert record_coverage_gaps(record=company) == []


@pytest.mark.django_db
def test_a_ticked_field_without_a_snapshot_supports_nothing():
    company = CompanyFactory(country="")
    evidence = EvidenceFactory(company=company, deal=None, fields=["name", "kind"])
    models.Evidence.objects.filter(pk=evidence.pk).update(values={"name": company.name})
    assert record_coverage_gaps(record=company) == ["Kind: no current quote supports the value 'company'."]


@pytest.mark.django_db
def test_model_clean_refuses_values_for_fields_the_quote_does_not_list():
    evidence = EvidenceFactory(fields=["title"])
    evidence.values = {"title": "Deal", "amount": "5"}
    with pytest.raises(ValidationError) as info:
        evidence.full_clean()
    assert info.value.message_dict == {"values": ["Values given for fields the quote does not support: amount."]}
    evidence.values = ["title"]
    with pytest.raises(ValidationError) as info:
        evidence.full_clean()
    assert "values" in info.value.message_dict


@pytest.mark.django_db
def test_query_free_on_prefetched_records(loaded, django_assert_num_queries):
    from deals.selectors import deal_list

    deals = list(deal_list())
    source = SourceFactory()
    assert source.pk
    with django_assert_num_queries(0):
        for deal in deals:
            record_coverage_gaps(record=deal)


def test_an_unsaved_record_has_every_filled_field_as_a_gap():
    deal = models.Deal(title="Draft", deal_type=models.Deal.Type.MOU, status=models.Deal.Status.UNKNOWN)
    assert record_coverage_gaps(record=deal) == [
        "Title: no current quote supports the value 'Draft'.",
        "Deal type: no current quote supports the value 'mou'.",
    ]
