"""Quoting by selection (deals.services.quoting) and suggested passages (deals.selectors.quoting)."""

import pytest
from django.core.exceptions import ValidationError

from deals import models
from deals.selectors.quoting import source_fact_suggestions
from deals.services.quoting import evidence_create_from_selection, selection_check
from tests.factories import CommodityFactory, CompanyFactory, DealFactory, EvidenceFactory, SourceFactory

TEXT = (
    "Orion Rare Earths gets a U.S. equity stake\n\n"
    "Orion Rare Earths said on Tuesday that the Department of Defense will buy $400 million of its preferred "
    "stock. The agreement sets a price floor of $110 per kilogram for NdPr oxide for ten years. "
    "The company\u2019s mine \U0001f9f2 in Nevada produces 1,000 tonnes a year. "
    "Analysts were pleased."
)


def _span(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


@pytest.mark.django_db
def test_selection_creates_evidence_with_exact_offsets_and_value_snapshots():
    source = SourceFactory(text=TEXT)
    deal = DealFactory(amount=400_000_000, currency="USD")
    start, end = _span(TEXT, "buy $400 million of its preferred stock.")
    # The editor's selection took the spaces around the passage with it: they are trimmed, not quoted.
    evidence = evidence_create_from_selection(
        source=source, start=str(start - 1), end=str(end + 1), target="deal", record_id=str(deal.pk),
        fields=["currency", "amount"],
    )  # fmt: skip
    assert (evidence.start, evidence.end) == (start, end)
    assert evidence.quote == TEXT[start:end] == source.text[evidence.start : evidence.end]
    assert evidence.deal == deal and evidence.source == source
    assert evidence.fields == ["amount", "currency"]  # the record's own order
    assert evidence.values == {"amount": "400000000", "currency": "USD"}


@pytest.mark.django_db
def test_offsets_count_characters_like_python_even_after_an_astral_character():
    source = SourceFactory(text=TEXT)
    company = CompanyFactory()
    start, end = _span(TEXT, "in Nevada produces 1,000 tonnes a year")
    evidence = evidence_create_from_selection(
        source=source, start=start, end=end, target="company", record_id=company.pk, fields=[]
    )
    assert evidence.quote == "in Nevada produces 1,000 tonnes a year"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("5", str(len(TEXT) + 3), "past the end of the source text"),
        ("10", "10", "The selection is empty"),
        ("abc", "10", "is not a number"),
        ("-1", "10", "is not a number"),
        ("42", "44", "only white space"),
    ],
)
def test_bad_offsets_are_refused_with_a_message_and_nothing_is_written(start, end, message):
    source = SourceFactory(text=TEXT)
    deal = DealFactory()
    assert TEXT[42:44].isspace()
    with pytest.raises(ValidationError, match=message):
        evidence_create_from_selection(
            source=source, start=start, end=end, target="deal", record_id=deal.pk, fields=["amount"]
        )
    assert not models.Evidence.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("target", "record", "fields", "message"),
    [
        ("deal", "exists", ["amount", "name"], "Not fields of deal: name"),
        ("company", "exists", ["amount"], "Not fields of company: amount"),
        ("source", "exists", [], "is not something a quote can support"),
        ("deal", "gone", ["amount"], "no longer exists"),
        ("deal", "", ["amount"], "Choose the deal"),
        ("deal", "7x", ["amount"], "Choose the deal"),
    ],
)
def test_unknown_fields_targets_and_records_are_refused(target, record, fields, message):
    source = SourceFactory(text=TEXT)
    deal = DealFactory()
    record_id = {"exists": deal.pk, "gone": deal.pk + 1000}.get(record, record)
    if target == "company":
        record_id = CompanyFactory().pk
    with pytest.raises(ValidationError, match=message):
        evidence_create_from_selection(
            source=source, start=0, end=17, target=target, record_id=record_id, fields=fields
        )
    assert not models.Evidence.objects.exists()


@pytest.mark.django_db
def test_the_same_passage_twice_for_one_record_is_refused():
    source = SourceFactory(text=TEXT)
    deal = DealFactory()
    evidence_create_from_selection(source=source, start=0, end=17, target="deal", record_id=deal.pk, fields=[])
    with pytest.raises(ValidationError, match="already has evidence for this deal at these offsets"):
        evidence_create_from_selection(source=source, start=0, end=17, target="deal", record_id=deal.pk, fields=[])
    assert models.Evidence.objects.count() == 1


@pytest.mark.django_db
def test_occurrence_of_a_repeated_passage_is_the_selected_one():
    source = SourceFactory(text="Beta will supply oxide. Beta will supply oxide.")
    assert selection_check(source=source, start=0, end=22).occurrence == 1
    assert selection_check(source=source, start=24, end=46).occurrence == 2
    assert selection_check(source=source, start=0, end=4).occurrence == 1
    assert selection_check(source=source, start=29, end=40).occurrence == 2  # "will supply", the second


@pytest.mark.django_db
def test_suggestions_are_the_unquoted_sentences_that_state_facts(django_assert_num_queries):
    source = SourceFactory(text=TEXT)
    CompanyFactory(name="Orion Rare Earths", aliases=["Orion"])
    CommodityFactory(name="NdPr oxide")
    start, end = _span(TEXT, "Analysts were pleased.")
    with django_assert_num_queries(3):
        suggestions = source_fact_suggestions(source=source)
    by_text = {s.text: s for s in suggestions}
    assert list(by_text) == [
        "Orion Rare Earths gets a U.S. equity stake",
        "Orion Rare Earths said on Tuesday that the Department of Defense will buy $400 million of its preferred "
        "stock.",
        "The agreement sets a price floor of $110 per kilogram for NdPr oxide for ten years.",
        "The company\u2019s mine \U0001f9f2 in Nevada produces 1,000 tonnes a year.",
    ]
    assert "Analysts were pleased." not in by_text  # states nothing
    floor = by_text["The agreement sets a price floor of $110 per kilogram for NdPr oxide for ten years."]
    assert floor.reasons == ("money: $110", "duration: ten years", "commodity: NdPr oxide")
    assert TEXT[floor.start : floor.end] == floor.text
    mine = by_text["The company\u2019s mine \U0001f9f2 in Nevada produces 1,000 tonnes a year."]
    assert "quantity: 1,000 tonnes" in mine.reasons
    assert "money: $400 million" in by_text[list(by_text)[1]].reasons
    assert "company: Orion Rare Earths" in by_text[list(by_text)[1]].reasons

    # Once a quote overlaps a sentence it is no longer suggested.
    start, end = _span(TEXT, "a price floor of $110 per kilogram")
    EvidenceFactory(source=source, start=start, end=end, quote=TEXT[start:end])
    assert floor.text not in {s.text for s in source_fact_suggestions(source=source)}
