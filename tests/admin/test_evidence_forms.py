"""Evidence checks itself: quotes are located in the source, and every rule is a form error, never a 500."""

import pytest
from django.urls import reverse

from deals import models
from tests.admin.conftest import SOURCE_TEXT, inline_data

EVIDENCE_ADD = reverse("admin:deals_evidence_add")


def _evidence_post(source, deal, quote, **extra):
    return {"source": source.pk, "deal": deal.pk, "quote": quote, "fields": "amount", "note": "", **extra}


@pytest.mark.django_db
def test_pasted_quote_is_located_and_stored_as_the_sources_text(editor_client, dataset):
    # Straight quotes and a line break, as a browser copy gives them, still match the curly-quoted source.
    pasted = 'The "magnet plant" in\nColumbus'
    response = editor_client.post(EVIDENCE_ADD, _evidence_post(dataset["source"], dataset["deal"], pasted))
    assert response.status_code == 302, response.context["adminform"].form.errors
    evidence = models.Evidence.objects.get(deal=dataset["deal"], quote__contains="magnet plant")
    assert evidence.quote == "The \u201cmagnet plant\u201d in Columbus"
    assert SOURCE_TEXT[evidence.start : evidence.end] == evidence.quote
    assert evidence.fields == ["amount"]


@pytest.mark.django_db
def test_quote_not_in_source_is_a_quote_field_error(editor_client, dataset):
    before = models.Evidence.objects.count()
    response = editor_client.post(
        EVIDENCE_ADD, _evidence_post(dataset["source"], dataset["deal"], "a $20 million offtake")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Not found in source" in errors["quote"][0]
    assert models.Evidence.objects.count() == before


@pytest.mark.django_db
def test_ambiguous_quote_says_how_often_and_occurrence_resolves_it(editor_client, dataset):
    quote = "Beta Metals will supply oxide."
    response = editor_client.post(EVIDENCE_ADD, _evidence_post(dataset["source"], dataset["deal"], quote))
    assert response.status_code == 200
    message = response.context["adminform"].form.errors["quote"][0]
    assert "occurs 2 times" in message and "occurrence" in message
    response = editor_client.post(
        EVIDENCE_ADD, _evidence_post(dataset["source"], dataset["deal"], quote, occurrence="2")
    )
    assert response.status_code == 302
    evidence = models.Evidence.objects.get(quote=quote)
    assert evidence.start == SOURCE_TEXT.rindex(quote)


@pytest.mark.django_db
def test_occurrence_out_of_range_is_a_form_error(editor_client, dataset):
    response = editor_client.post(
        EVIDENCE_ADD,
        _evidence_post(dataset["source"], dataset["deal"], "Beta Metals will supply oxide.", occurrence="3"),
    )
    assert response.status_code == 200
    assert "occurs 2 time" in response.context["adminform"].form.errors["quote"][0]


@pytest.mark.django_db
def test_two_targets_is_a_form_error_not_a_500(editor_client, dataset):
    data = _evidence_post(dataset["source"], dataset["deal"], "Acme Magnets said")
    data["company"] = dataset["acme"].pk
    response = editor_client.post(EVIDENCE_ADD, data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    message = "A quote supports one record: keep one of deal and company and empty the rest."
    assert (form.errors["deal"], form.errors["company"]) == ([message], [message])
    assert not form.non_field_errors()
    data["deal"] = data["company"] = ""
    form = editor_client.post(EVIDENCE_ADD, data).context["adminform"].form
    for name in ("deal", "company", "facility"):
        assert form.errors[name] == ["Choose the deal, company or facility this quote supports (one of the three)."]
    assert not form.non_field_errors()


@pytest.mark.django_db
def test_duplicate_span_for_the_same_record_is_a_form_error(editor_client, dataset):
    existing = models.Evidence.objects.get(deal=dataset["deal"])
    before = models.Evidence.objects.count()
    response = editor_client.post(EVIDENCE_ADD, _evidence_post(dataset["source"], dataset["deal"], existing.quote))
    assert response.status_code == 200
    form = response.context["adminform"].form
    # On the quote, naming the source by the title the picker shows (not by its slug, not by offsets).
    assert form.errors["quote"] == [
        "This passage of “Acme signs offtake” is already quoted for this deal: edit that quote instead."
    ]
    assert not form.non_field_errors()
    assert models.Evidence.objects.count() == before


@pytest.mark.django_db
def test_duplicate_span_in_the_deal_inline_is_an_error_on_the_quote(editor_client, dataset):
    deal = dataset["deal"]
    existing = models.Evidence.objects.get(deal=deal)
    row = {"source": dataset["source"].pk, "quote": existing.quote, "fields": "amount"}
    data = _deal_post(deal, parties=[], evidence=[row])
    response = editor_client.post(_deal_change(deal), data)
    assert response.status_code == 200
    formset = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "evidence").formset
    assert "already quotes this passage" in formset.forms[1].errors["quote"][0]
    assert models.Evidence.objects.filter(deal=deal).count() == 1


@pytest.mark.django_db
def test_unknown_supported_field_is_a_form_error(editor_client, dataset):
    data = _evidence_post(dataset["source"], dataset["deal"], "Acme Magnets said", fields="amount, colour")
    response = editor_client.post(EVIDENCE_ADD, data)
    assert response.status_code == 200
    assert "colour" in response.context["adminform"].form.errors["fields"][0]


def _deal_post(deal, *, parties, evidence, **overrides):
    data = {
        "slug": deal.slug,
        "title": deal.title,
        "deal_type": deal.deal_type,
        "status": deal.status,
        "summary": "",
        "announced_date": "2025-09-01",
        "announced_date_precision": "month",
        "amount": "10000000",
        "currency": "USD",
        "value_qualifier": "exact",
        "amount_usd": "10000000",
        "commodities": [c.pk for c in deal.commodities.all()],
        "countries": ["US"],
        **overrides,
    }
    links = list(deal.party_links.order_by("pk"))
    party_rows = [{"id": link.pk, "deal": deal.pk, "company": link.company_id, "role": link.role} for link in links]
    data.update(inline_data("party_links", party_rows + parties, initial=len(links)))
    quotes = list(deal.evidence.order_by("pk"))
    evidence_rows = [
        {"id": e.pk, "deal": deal.pk, "source": e.source_id, "quote": e.quote, "fields": ", ".join(e.fields)}
        for e in quotes
    ]
    data.update(inline_data("evidence", evidence_rows + evidence, initial=len(quotes)))
    return data


def _deal_change(deal):
    return reverse("admin:deals_deal_change", args=[deal.pk])


@pytest.mark.django_db
def test_deal_clean_rules_and_constraints_are_form_errors(editor_client, dataset):
    deal = dataset["deal"]
    cases = [
        ({"announced_date": "2025-09-12"}, "announced_date", "first day of the month"),
        ({"amount_usd": "9"}, "amount_usd", "equals the amount"),
        ({"deal_type": "mou", "status": "signed"}, "status", "non-binding"),
        # The case: a positive amount without a currency is said on the currency, not as "non-negative".
        ({"currency": ""}, "currency", "An amount needs its currency: enter the ISO 4217 code, e.g. USD."),
        ({"amount": "", "amount_usd": ""}, "value_qualifier", "A value qualifier needs an amount"),
        ({"amount": "", "amount_usd": "", "value_qualifier": ""}, "currency", "A currency goes with an amount"),
        ({"announced_date_precision": ""}, "announced_date_precision", "A date needs its precision"),
        ({"amount": "-5"}, "amount", "greater than or equal to 0"),
    ]
    for overrides, field, text in cases:
        response = editor_client.post(_deal_change(deal), _deal_post(deal, parties=[], evidence=[], **overrides))
        assert response.status_code == 200, overrides
        errors = response.context["adminform"].form.errors
        assert text in " ".join(errors.get(field, [])), (overrides, errors)
        assert "__all__" not in errors and "non-negative" not in str(errors), (overrides, errors)
    deal.refresh_from_db()
    assert deal.deal_type == "offtake" and deal.amount_usd == 10000000


@pytest.mark.django_db
def test_duplicate_party_role_in_inline_is_a_form_error(editor_client, dataset):
    deal = dataset["deal"]
    acme = dataset["acme"]
    response = editor_client.post(
        _deal_change(deal),
        _deal_post(deal, parties=[{"deal": deal.pk, "company": acme.pk, "role": "buyer"}], evidence=[]),
    )
    assert response.status_code == 200
    formset = [f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "party_links"][0].formset
    assert "duplicate data for company and role" in str(formset.non_form_errors())
    assert deal.party_links.count() == 2


@pytest.mark.django_db
def test_two_identical_new_quotes_in_one_save_are_a_form_error(editor_client, dataset):
    deal = dataset["deal"]
    row = {"deal": deal.pk, "source": dataset["source"].pk, "quote": "Columbus", "fields": ""}
    response = editor_client.post(_deal_change(deal), _deal_post(deal, parties=[], evidence=[row, dict(row)]))
    assert response.status_code == 200
    formset = [f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "evidence"][0].formset
    assert "already quotes this passage" in str(formset.errors)
    assert deal.evidence.count() == 1


@pytest.mark.django_db
def test_bad_quote_in_inline_is_an_error_and_nothing_is_saved(editor_client, dataset):
    deal = dataset["deal"]
    beta = dataset["beta"]
    row = {"deal": deal.pk, "source": dataset["source"].pk, "quote": "words that are not there", "fields": ""}
    response = editor_client.post(
        _deal_change(deal),
        _deal_post(
            deal,
            parties=[{"deal": deal.pk, "company": beta.pk, "role": "partner"}],
            evidence=[row],
            title="Renamed while a quote is bad",
        ),
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.title == "Acme and Beta offtake"
    assert deal.party_links.count() == 2


@pytest.mark.django_db
def test_blank_extra_rows_are_ignored_as_the_browser_sends_them(editor_client, dataset):
    deal = dataset["deal"]
    blank_party = {"deal": deal.pk, "company": "", "role": ""}
    blank_evidence = {"deal": deal.pk, "source": "", "quote": "", "occurrence": "", "fields": "", "note": ""}
    # Emptying a field needs no quote (a changed value would: see tests/admin/test_unsupported_changes.py).
    response = editor_client.post(
        _deal_change(deal), _deal_post(deal, parties=[blank_party], evidence=[blank_evidence], countries=[])
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert list(deal.countries) == []
    assert deal.evidence.count() == 1 and deal.party_links.count() == 2


@pytest.mark.django_db
def test_deal_with_parties_and_evidence_saves_through_inlines(editor_client, dataset):
    deal = dataset["deal"]
    row = {"deal": deal.pk, "source": dataset["source"].pk, "quote": "in Columbus will make", "fields": "facilities"}
    # The new party is a changed value of a stored deal: a quote ticking "parties" must state it.
    party_quote = {"deal": deal.pk, "source": dataset["source"].pk, "quote": "offtake with Beta", "fields": "parties"}
    response = editor_client.post(
        _deal_change(deal),
        _deal_post(
            deal,
            parties=[{"deal": deal.pk, "company": dataset["beta"].pk, "role": "partner"}],
            evidence=[row, party_quote],
        ),
    )
    assert response.status_code == 302
    assert deal.party_links.count() == 3
    assert deal.evidence.filter(quote="in Columbus will make", fields=["facilities"]).exists()
    assert ["beta-metals", "partner"] in deal.evidence.get(quote="offtake with Beta").values["parties"]


@pytest.mark.django_db
def test_facility_and_company_rules_are_form_errors(editor_client, dataset):
    facility = dataset["facility"]
    data = {
        "slug": facility.slug,
        "name": facility.name,
        "kind": "magnet",
        "status": "planned",
        "country": "US",
        "latitude": "95",
        "longitude": "10",
        "location_precision": "",
        "capacity_amount": "3000",
        "capacity_unit": "",
        "capacity_period": "",
    }
    data.update(inline_data("company_links", []))
    data.update(inline_data("evidence", []))
    response = editor_client.post(reverse("admin:deals_facility_change", args=[facility.pk]), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "location_precision" in errors and "capacity_period" in errors
    acme = dataset["acme"]
    data = {"slug": acme.slug, "name": acme.name, "kind": "company", "parent": acme.pk, "aliases": "Acme, "}
    data.update(inline_data("facility_links", []))
    data.update(inline_data("evidence", []))
    response = editor_client.post(reverse("admin:deals_company_change", args=[acme.pk]), data)
    assert response.status_code == 200
    assert "its own parent" in response.context["adminform"].form.errors["parent"][0]
    data["parent"] = ""
    data["slug"] = "beta-metals"
    response = editor_client.post(reverse("admin:deals_company_change", args=[acme.pk]), data)
    assert response.status_code == 200
    assert "already exists" in response.context["adminform"].form.errors["slug"][0]


def _facility_post(facility, **overrides):
    data = {"slug": facility.slug, "name": facility.name, "kind": "magnet", "status": "planned", "country": "US"}
    data.update(overrides)
    data.update(inline_data("company_links", []))
    data.update(inline_data("evidence", []))
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"latitude": "95", "longitude": "10", "location_precision": "exact"},
            "latitude",
            "Latitude must lie between -90 and 90",
        ),
        ({"latitude": "45", "location_precision": "exact"}, "longitude", "enter the longitude too"),
        ({"capacity_amount": "3000", "capacity_period": "year"}, "capacity_unit", "A capacity needs its unit"),
        ({"investment_amount": "5"}, "investment_currency", "An investment needs its currency"),
        ({"investment_currency": "USD"}, "investment_currency", "This describes an investment"),
        ({"planned_start": "2026-01-01"}, "planned_start_precision", "A date needs its precision"),
        ({"jobs_qualifier": "at_least"}, "jobs_qualifier", "A jobs qualifier needs a jobs figure"),
    ],
)
def test_facility_constraints_are_errors_on_their_field(editor_client, dataset, overrides, field, message):
    facility = dataset["facility"]
    response = editor_client.post(
        reverse("admin:deals_facility_change", args=[facility.pk]), _facility_post(facility, **overrides)
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors.get(field, [])), errors
    assert "__all__" not in errors


@pytest.mark.django_db
def test_link_rows_and_names_that_already_exist_are_form_errors(editor_client, dataset):
    deal, acme = dataset["deal"], dataset["acme"]
    response = editor_client.post(
        reverse("admin:deals_dealparty_add"), {"deal": deal.pk, "company": acme.pk, "role": "buyer"}
    )
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors)
    response = editor_client.post(
        reverse("admin:deals_facilitycompany_add"),
        {"facility": dataset["facility"].pk, "company": acme.pk, "role": "owner"},
    )
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors)
    response = editor_client.post(
        reverse("admin:deals_commodity_add"), {"slug": "ndfeb-2", "name": "NdFeB magnets", "kind": "product"}
    )
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors["name"])
    assert models.DealParty.objects.count() == 2 and models.Commodity.objects.count() == 1


MALFORMED = "Give field names separated by commas, e.g. amount, parties; not a field name: "


def _add_page_post(target, source, fields):
    """An add page of a deal, company or facility with one valid quote whose ``fields`` text is given."""
    evidence_row = {"source": source.pk, "quote": "Acme Magnets said", "fields": fields, "occurrence": "", "note": ""}
    if target == "deal":
        data = {"slug": "new-deal", "title": "New deal", "deal_type": "offtake", "status": "signed", "summary": ""}
        data.update(inline_data("party_links", [{"company": models.Company.objects.first().pk, "role": "buyer"}]))
    elif target == "company":
        data = {"slug": "new-co", "name": "New Co", "kind": "company", "aliases": ""}
        data.update(inline_data("facility_links", []))
    else:
        data = {"slug": "new-plant", "name": "New plant", "kind": "magnet", "status": "planned", "country": "US"}
        data.update(inline_data("company_links", []))
    data.update(inline_data("evidence", [evidence_row]))
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("target", "good"),
    [("deal", "amount, parties"), ("company", "name, aliases, parent"), ("facility", "capacity_amount, companies")],
)
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("bogus, nonsense", "Not fields of {target}: bogus, nonsense."),
        ("evidence, id", "Not fields of {target}: evidence, id."),
        ('["x"', MALFORMED + "'[\"x\"'."),
        ("amount; parties", MALFORMED + "'amount; parties'."),
    ],
)
def test_inline_evidence_on_an_add_page_checks_field_names(editor_client, dataset, target, good, bad, message):
    model = {"deal": models.Deal, "company": models.Company, "facility": models.Facility}[target]
    url = reverse(f"admin:deals_{target}_add")
    before = (model.objects.count(), models.Evidence.objects.count())
    response = editor_client.post(url, _add_page_post(target, dataset["source"], bad))
    assert response.status_code == 200
    formset = [f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "evidence"][0].formset
    assert formset.errors[0]["fields"] == [message.format(target=target)]
    assert (model.objects.count(), models.Evidence.objects.count()) == before
    response = editor_client.post(url, _add_page_post(target, dataset["source"], good))
    assert response.status_code == 302
    evidence = models.Evidence.objects.get(**{f"{target}__slug__startswith": "new-"})
    assert evidence.fields == [name.strip() for name in good.split(",")]
    evidence.full_clean()
