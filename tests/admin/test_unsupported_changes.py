"""No unsupported change goes public: a changed field of a stored record needs a current quote (deals.coverage)."""

import pytest

from deals import models
from deals.coverage import record_coverage
from tests.admin.test_evidence_forms import _deal_change, _deal_post


def _quote(dataset, quote: str, fields):
    return {"deal": dataset["deal"].pk, "source": dataset["source"].pk, "quote": quote, "fields": fields}


@pytest.mark.django_db
def test_a_changed_field_without_a_current_quote_is_refused_on_that_field(editor_client, dataset):
    deal = dataset["deal"]
    before = (deal.deal_type, deal.history.count(), models.Evidence.objects.count())
    response = editor_client.post(
        _deal_change(deal), _deal_post(deal, parties=[], evidence=[], deal_type="partnership", title="Renamed")
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["deal_type"] == [
        "Deal type: no current quote supports the value 'partnership'. Add a quote that states the new value and "
        "tick the field on it, or keep the old value."
    ]
    assert form.errors["title"][0].startswith("Title: no current quote supports the value 'Renamed'.")
    deal.refresh_from_db()
    assert (deal.deal_type, deal.history.count(), models.Evidence.objects.count()) == before
    assert deal.title == "Acme and Beta offtake"


@pytest.mark.django_db
def test_a_change_backed_by_a_new_quote_saves_and_the_old_quote_becomes_a_claim(editor_client, dataset):
    deal = dataset["deal"]
    old = deal.evidence.get()
    assert old.values == {"amount": "10000000"}
    # (Synthetic data: the new quote stands for a source that states the corrected amount.)
    new_quote = _quote(dataset, "Acme Magnets said on Monday", ["amount", "amount_usd"])
    response = editor_client.post(
        _deal_change(deal),
        _deal_post(deal, parties=[], evidence=[new_quote], amount="12000000", amount_usd="12000000"),
    )
    assert response.status_code == 302
    deal = models.Deal.objects.get(pk=deal.pk)
    assert deal.amount == 12_000_000
    new = deal.evidence.exclude(pk=old.pk).get()
    assert new.values == {"amount": "12000000", "amount_usd": "12000000"}
    old.refresh_from_db()
    assert old.fields == ["amount"] and old.values == {"amount": "10000000"}  # kept, as a claim of the old amount
    amount = next(c for c in record_coverage(record=deal) if c.name == "amount")
    assert amount.quotes == [new] and [(c.value, c.quotes) for c in amount.claims] == [("10000000", [old])]


@pytest.mark.django_db
def test_a_new_party_needs_a_quote_that_states_it(editor_client, dataset):
    deal = dataset["deal"]
    party = {"deal": deal.pk, "company": dataset["beta"].pk, "role": "partner"}
    response = editor_client.post(_deal_change(deal), _deal_post(deal, parties=[party], evidence=[]))
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][1].formset.non_form_errors()
    assert errors == [
        "Parties: no current quote supports beta-metals as partner. Add a quote that states the new value and tick "
        "the field on it, or keep the old value."
    ]
    assert deal.party_links.count() == 2


@pytest.mark.django_db
def test_the_label_of_a_field_can_be_typed_instead_of_ticking_it(editor_client, dataset):
    deal = dataset["deal"]
    new_quote = _quote(dataset, "Acme Magnets said on Monday", "Deal type")
    response = editor_client.post(
        _deal_change(deal), _deal_post(deal, parties=[], evidence=[new_quote], deal_type="partnership")
    )
    assert response.status_code == 302
    assert deal.evidence.get(quote="Acme Magnets said on Monday").values == {"deal_type": "partnership"}
