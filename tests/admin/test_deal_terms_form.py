"""The deal admin's "Terms" fields: a half-stated term is an error on the field at fault, in the editor's words,
and nothing is saved; a stated term with its quote is saved."""

import pytest
from django.core.exceptions import NON_FIELD_ERRORS

from deals import models
from tests.admin.test_evidence_forms import _deal_change, _deal_post

HALF_STATED = [
    ({"unit_price": "110"}, "unit_price_currency", "Enter the currency of the unit price, e.g. USD."),
    ({"unit_price": "110", "unit_price_currency": "USD"}, "unit_price_unit", "Choose what the unit price is per"),
    ({"unit_price_currency": "USD", "unit_price_unit": "kg"}, "unit_price", "Enter the unit price, or clear"),
    ({"unit_price": "0", "unit_price_currency": "USD", "unit_price_unit": "kg"}, "unit_price", "more than zero"),
    ({"unit_price": "110", "unit_price_currency": "usd", "unit_price_unit": "kg"}, "unit_price_currency", "ISO 4217"),
    ({"term_length": "10"}, "term_unit", "Choose whether the term is in months or years."),
    ({"term_unit": "years"}, "term_length", "Enter the length of the term, or clear its unit."),
    ({"term_length": "0", "term_unit": "years"}, "term_length", "The term must be at least 1."),
    ({"output_share_percent": "100"}, "output_share_of", "Say what the percentage is a share of"),
    ({"output_share_percent": "120", "output_share_of": "magnets"}, "output_share_percent", "at most 100 percent"),
    ({"output_share_of": "magnets"}, "output_share_percent", "Enter the percentage, or clear"),
    ({"instrument": "bond"}, "instrument", "Select a valid choice."),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("overrides", "field", "text"), HALF_STATED, ids=[f for _, f, _ in HALF_STATED])
def test_half_stated_terms_are_errors_on_their_fields(editor_client, dataset, overrides, field, text):
    deal = dataset["deal"]
    response = editor_client.post(_deal_change(deal), _deal_post(deal, parties=[], evidence=[], **overrides))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert text in " ".join(errors.get(field, [])), errors
    # The field error comes alone: no constraint message at the top of the form.
    assert NON_FIELD_ERRORS not in errors, errors
    deal.refresh_from_db()
    assert (deal.unit_price, deal.term_length, deal.output_share_percent, deal.instrument) == (None, None, None, "")


@pytest.mark.django_db
def test_the_terms_fieldset_lists_every_term(editor_client, dataset):
    response = editor_client.get(_deal_change(dataset["deal"]))
    fieldsets = {fs.name: fs for fs in response.context["adminform"]}
    names = [name for line in fieldsets["Terms"] for field in line for name in [field.field.name]]
    assert names == [
        "instrument",
        "unit_price",
        "unit_price_currency",
        "unit_price_unit",
        "term_length",
        "term_unit",
        "output_share_percent",
        "output_share_of",
    ]


@pytest.mark.django_db
def test_a_stated_instrument_with_its_quote_is_saved_and_backed(editor_client, dataset):
    deal = dataset["deal"]
    data = _deal_post(deal, parties=[], evidence=[], instrument="offtake")
    # The deal's quote "signed a $10 million offtake with Beta Metals" states the instrument too.
    data["evidence-0-fields"] = "amount, instrument"
    response = editor_client.post(_deal_change(deal), data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    deal.refresh_from_db()
    assert deal.instrument == models.Deal.Instrument.OFFTAKE
    evidence = deal.evidence.get()
    assert evidence.fields == ["amount", "instrument"]
    assert evidence.values["instrument"] == "offtake"


@pytest.mark.django_db
def test_a_stated_term_without_a_quote_is_refused_on_a_published_deal(editor_client, dataset):
    # The publication rule (every stated field of a published record has a quote) covers the new fields.
    deal = dataset["deal"]
    data = _deal_post(deal, parties=[], evidence=[], term_length="10", term_unit="years")
    response = editor_client.post(_deal_change(deal), data)
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.term_length is None
    errors = response.context["adminform"].form.errors
    assert errors["term_length"] == [
        "Term length: no current quote supports the value 10. Add a quote that states the new value and tick the "
        "field on it, or keep the old value."
    ]
    assert "no current quote supports the value 'years'" in errors["term_unit"][0]
