"""The source page's "Quote this for…" panel: its view, the add page it opens, and the suggestions it lists."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from deals import models
from tests.admin.conftest import inline_data
from tests.factories import CompanyFactory, DealFactory, SourceFactory

TEXT = (
    "Orion Rare Earths gets a U.S. equity stake\n\n"
    "Orion Rare Earths said the Department of Defense will buy $400 million of its preferred stock. "
    "Analysts were pleased."
)
PASSAGE = "will buy $400 million of its preferred stock"


def _quote_url(source):
    return reverse("admin:deals_source_quote", args=[source.pk])


def _post(source, *, target="deal", record="", fields=(), start=None, end=None, **extra):
    start = TEXT.index(PASSAGE) if start is None else start
    end = TEXT.index(PASSAGE) + len(PASSAGE) if end is None else end
    return {
        "quote-start": str(start),
        "quote-end": str(end),
        "quote-target": target,
        f"quote-{target}": str(record),
        f"quote-fields_{target}": list(fields),
        **extra,
    }


def _messages(response) -> str:
    return " | ".join(str(m) for m in response.context["messages"]) if response.context else ""


@pytest.fixture
def source(db):
    return SourceFactory(text=TEXT, title="Orion article")


@pytest.mark.django_db
def test_source_page_offers_the_panel_its_script_and_the_suggestions(editor_client, source):
    CompanyFactory(name="Orion Rare Earths")
    response = editor_client.get(reverse("admin:deals_source_change", args=[source.pk]))
    page = response.content.decode()
    assert f'<form id="quote-form" class="quote-panel" method="post" action="{_quote_url(source)}" hidden>' in page
    assert "deals/admin/quote.js" in page and "deals/admin/quote.css" in page
    assert 'name="quote-deal"' in page and 'name="quote-fields_deal"' in page and 'value="amount"' in page
    # No inline script: the page's Content-Security-Policy would block it.
    assert "<script>" not in page.split('id="quote-form"')[1]
    start = TEXT.index("Orion Rare Earths said")
    assert f'data-start="{start}" data-end="{len(TEXT) - len(" Analysts were pleased.")}"' in page
    assert "money: $400 million; company: Orion Rare Earths" in page
    deal_add = reverse("admin:deals_deal_add") + f"?_quote_source={source.pk}"
    link = f'<a href="{deal_add}" class="quote-start-link" title="Its evidence rows start with this source">New deal<'
    assert link in page
    assert "Analysts were pleased." not in page.split('class="quote-suggestions"')[1].split("</ol>")[0]


@pytest.mark.django_db
def test_quoting_for_an_existing_deal_creates_the_evidence_and_returns_to_the_source(editor_client, source):
    deal = DealFactory(amount=400_000_000, currency="USD", title="Orion equity stake")
    response = editor_client.post(
        _quote_url(source), _post(source, record=deal.pk, fields=["amount", "currency"]), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("admin:deals_source_change", args=[source.pk])
    evidence = models.Evidence.objects.get()
    assert (evidence.deal, evidence.source, evidence.quote) == (deal, source, PASSAGE)
    assert TEXT[evidence.start : evidence.end] == PASSAGE
    assert evidence.fields == ["amount", "currency"] and evidence.values["currency"] == "USD"
    assert f"Quoted “{PASSAGE}” for the deal" in _messages(response)
    assert "(fields: Amount, Currency)" in _messages(response)
    # The page now highlights it, linking to the deal.
    assert reverse("admin:deals_deal_change", args=[deal.pk]) in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"start": 3, "end": len(TEXT) + 10}, "past the end of the source text"),
        ({"fields": ["amount", "bogus"]}, "Not fields of deal: bogus"),
        ({"record": 999_999}, "The deal with id 999999 no longer exists"),
        ({"target": "source"}, "is not something a quote can support"),
        ({"start": "x"}, "is not a number"),
    ],
)
def test_bad_selections_get_a_message_and_write_nothing(editor_client, source, overrides, message):
    deal = DealFactory()
    data = _post(source, **{"record": deal.pk, "fields": ["amount"], **overrides})
    response = editor_client.post(_quote_url(source), data, follow=True)
    assert response.status_code == 200
    assert "Nothing was quoted: " in _messages(response) and message in _messages(response)
    assert not models.Evidence.objects.exists()


@pytest.mark.django_db
def test_the_view_takes_posts_only_with_a_csrf_token_and_the_rights(editor, source):
    deal = DealFactory()
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(editor)
    assert checked.post(_quote_url(source), _post(source, record=deal.pk)).status_code == 403
    assert checked.get(_quote_url(source)).status_code == 405
    reader = get_user_model().objects.create_user("reader", password="a-long-reader-pass-42", is_staff=True)
    reader_client = Client()
    reader_client.force_login(reader)
    assert reader_client.post(_quote_url(source), _post(source, record=deal.pk)).status_code == 403
    assert not models.Evidence.objects.exists()
    missing = reverse("admin:deals_source_quote", args=[source.pk + 100])
    client = Client()
    client.force_login(editor)
    response = client.post(missing, _post(source, record=deal.pk), follow=True)
    assert "No source with id" in _messages(response)


@pytest.mark.django_db
def test_a_new_company_starts_from_the_passage_and_saving_creates_both(editor_client, source):
    name = "Orion Rare Earths"
    response = editor_client.post(_quote_url(source), _post(source, target="company", fields=["name"], start=0, end=17))
    assert response.status_code == 302
    add_url = response["Location"]
    assert urlsplit(add_url).path == reverse("admin:deals_company_add")
    assert parse_qs(urlsplit(add_url).query) == {
        "_quote_source": [str(source.pk)],
        "_quote_start": ["0"],
        "_quote_end": ["17"],
        "_quote_fields": ["name"],
        "name": [name],
    }
    page = editor_client.get(add_url)
    assert page.context["adminform"].form.initial["name"] == name
    formset = next(f for f in page.context["inline_admin_formsets"] if f.formset.prefix == "evidence").formset
    assert formset.forms[0].initial == {"source": source.pk, "quote": name, "occurrence": 1, "fields": ["name"]}
    assert formset.forms[1].initial == {"source": source.pk}  # a second row for another quote, same source
    assert f'<option value="{source.pk}" selected>' in page.content.decode()

    # The editor fills in the rest and saves; the untouched second row stays blank and is not saved.
    data = {"slug": "orion-rare-earths", "name": name, "kind": "company", "aliases": ""}
    data.update(inline_data("facility_links", []))
    rows = [
        {"source": source.pk, "quote": name, "occurrence": "1", "fields": "name", "note": ""},
        {"source": source.pk, "quote": "", "occurrence": "", "note": ""},
    ]
    data.update(inline_data("evidence", rows))
    response = editor_client.post(add_url, data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:deals_source_change", args=[source.pk])
    assert "Select the next passage of “Orion article”" in _messages(response)
    company = models.Company.objects.get(slug="orion-rare-earths")
    evidence = company.evidence.get()
    assert (evidence.source, evidence.start, evidence.end, evidence.fields) == (source, 0, 17, ["name"])


@pytest.mark.django_db
def test_a_repeated_passage_keeps_its_occurrence_on_the_add_page(editor_client):
    text = "Beta will supply oxide. Beta will supply oxide."
    source = SourceFactory(text=text)
    response = editor_client.post(_quote_url(source), _post(source, target="deal", start=24, end=46))
    assert text[24:46] == "Beta will supply oxide"
    page = editor_client.get(response["Location"])
    formset = next(f for f in page.context["inline_admin_formsets"] if f.formset.prefix == "evidence").formset
    assert formset.forms[0].initial["occurrence"] == 2
    assert formset.forms[0].initial["quote"] == "Beta will supply oxide"


@pytest.mark.django_db
def test_a_record_started_from_a_source_defaults_every_evidence_row_to_it(editor_client, source):
    add_url = reverse("admin:deals_deal_add") + f"?_quote_source={source.pk}"
    page = editor_client.get(add_url)
    formset = next(f for f in page.context["inline_admin_formsets"] if f.formset.prefix == "evidence").formset
    assert [form.initial for form in formset.forms] == [{"source": source.pk}]
    # A tampered source id or selection opens the page as usual, with a message for a bad selection.
    assert editor_client.get(reverse("admin:deals_deal_add") + "?_quote_source=abc").status_code == 200
    page = editor_client.get(add_url + f"&_quote_start=0&_quote_end={len(TEXT) + 5}")
    assert page.status_code == 200
    assert "The selected passage was not prefilled: " in _messages(page)
    page = editor_client.get(add_url + "&_quote_start=0&_quote_end=5&_quote_fields=amount,bogus")
    assert "Not fields of deal: bogus" in _messages(page)


# The panel's script posts the same form asking for JSON, and stays on the page.
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.mark.django_db
def test_a_json_quote_for_an_existing_deal_answers_201_with_the_evidence_and_no_message(editor_client, source):
    deal = DealFactory(amount=400_000_000, currency="USD", title="Orion equity stake")
    response = editor_client.post(
        _quote_url(source), _post(source, record=deal.pk, fields=["amount", "currency"]), **JSON
    )
    assert response.status_code == 201 and response["Content-Type"] == "application/json"
    evidence = models.Evidence.objects.get()
    start = TEXT.index(PASSAGE)
    assert response.json() == {
        "id": evidence.pk,
        "record": {
            "type": "deal",
            "id": deal.pk,
            "label": "Orion equity stake",
            "url": reverse("admin:deals_deal_change", args=[deal.pk]),
        },
        "fields": ["amount", "currency"],
        "start": start,
        "end": start + len(PASSAGE),
        "quote": PASSAGE,
        "message": f"Quoted “{PASSAGE}” for the deal Orion equity stake (fields: Amount, Currency).",
    }
    assert (evidence.deal, evidence.start, evidence.end) == (deal, start, start + len(PASSAGE))
    # Nothing is queued for the next page: the script showed the message itself.
    assert _messages(editor_client.get(reverse("admin:deals_source_change", args=[source.pk]))) == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"start": 3, "end": len(TEXT) + 10}, "past the end of the source text"),
        ({"fields": ["amount", "bogus"]}, "Not fields of deal: bogus"),
        ({"record": 999_999}, "The deal with id 999999 no longer exists"),
        ({"target": "source"}, "is not something a quote can support"),
        ({"start": "x"}, "is not a number"),
    ],
)
def test_a_bad_json_quote_answers_400_with_the_same_message_and_writes_nothing(
    editor_client, source, overrides, message
):
    deal = DealFactory()
    data = _post(source, **{"record": deal.pk, "fields": ["amount"], **overrides})
    response = editor_client.post(_quote_url(source), data, **JSON)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("Nothing was quoted: ") and message in error
    assert not models.Evidence.objects.exists()


@pytest.mark.django_db
def test_a_json_quote_for_a_new_record_answers_the_add_page_to_open(editor_client, source):
    response = editor_client.post(
        _quote_url(source), _post(source, target="company", fields=["name"], start=0, end=17), **JSON
    )
    assert response.status_code == 200
    add_url = response.json()["add_url"]
    assert urlsplit(add_url).path == reverse("admin:deals_company_add")
    assert parse_qs(urlsplit(add_url).query)["name"] == ["Orion Rare Earths"]
    assert not models.Evidence.objects.exists()


@pytest.mark.django_db
def test_json_quotes_without_the_rights_or_the_source_answer_403_and_404(editor, source):
    deal = DealFactory()
    reader = get_user_model().objects.create_user("reader", password="a-long-reader-pass-42", is_staff=True)
    reader_client = Client()
    reader_client.force_login(reader)
    response = reader_client.post(_quote_url(source), _post(source, record=deal.pk), **JSON)
    assert response.status_code == 403 and "You may not add this quote" in response.json()["error"]
    client = Client()
    client.force_login(editor)
    missing = reverse("admin:deals_source_quote", args=[source.pk + 100])
    response = client.post(missing, _post(source, record=deal.pk), **JSON)
    assert response.status_code == 404 and "No source with id" in response.json()["error"]
    # A browser's form POST (HTML first) still gets the redirect.
    response = client.post(
        _quote_url(source), _post(source, record=deal.pk, fields=["amount"]), HTTP_ACCEPT="text/html,*/*"
    )
    assert response.status_code == 302
    assert not models.Evidence.objects.exclude(deal=deal).exists()
