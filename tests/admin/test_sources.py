"""Adding a source by paste or upload (normalised like the loader) and reading it with its quotes highlighted."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from deals import models
from deals.services import source_text_prepare
from tests.factories import CompanyFactory, EvidenceFactory, SourceFactory

SOURCE_ADD = reverse("admin:deals_source_add")
# Mojibake (UTF-8 read as cp874) and messy white space, as the seed documents arrived.
RAW = "Lynas\u0e42\u20ac\u2122 new  plant\r\n\r\n\r\nwill open \u0e42\u20ac\u0153soon\u0e42\u20ac.\n".encode()


def _source_post(**extra):
    return {
        "slug": "lynas-plant",
        "title": "Lynas plant",
        "kind": "news",
        "publisher": "",
        "author": "",
        "published_date": "2025-09-12",
        "published_date_precision": "day",
        "url": "",
        "original_filename": "",
        **extra,
    }


@pytest.mark.django_db
def test_source_added_by_paste_is_normalised_with_both_digests(editor_client):
    pasted = RAW.decode("utf-8")
    response = editor_client.post(SOURCE_ADD, _source_post(pasted_text=pasted))
    assert response.status_code == 302, response.context["adminform"].form.errors
    source = models.Source.objects.get(slug="lynas-plant")
    prepared = source_text_prepare(raw=pasted.encode("utf-8"))
    assert source.text == prepared.text == "Lynas\u2019 new plant\n\nwill open \u201csoon\u201d."
    assert source.raw_sha256 == hashlib.sha256(pasted.encode("utf-8")).hexdigest()
    assert source.text_sha256 == hashlib.sha256(source.text.encode("utf-8")).hexdigest()


@pytest.mark.django_db
def test_source_added_by_upload_keeps_raw_digest_and_file_name(editor_client):
    upload = SimpleUploadedFile("lynas.txt", RAW, content_type="text/plain")
    response = editor_client.post(SOURCE_ADD, _source_post(upload=upload))
    assert response.status_code == 302, response.context["adminform"].form.errors
    source = models.Source.objects.get(slug="lynas-plant")
    assert source.raw_sha256 == hashlib.sha256(RAW).hexdigest()
    assert source.text == source_text_prepare(raw=RAW).text
    assert source.original_filename == "lynas.txt"
    assert source.history.get().history_user.username == "edna"


@pytest.mark.django_db
def test_non_utf8_upload_is_a_form_error(editor_client):
    upload = SimpleUploadedFile("latin1.txt", "Caf\u00e9 Lynas".encode("latin-1"))
    response = editor_client.post(SOURCE_ADD, _source_post(upload=upload))
    assert response.status_code == 200
    assert "not UTF-8" in response.context["adminform"].form.errors["upload"][0]
    assert not models.Source.objects.exists()


@pytest.mark.django_db
def test_duplicate_document_is_a_form_error(editor_client):
    editor_client.post(SOURCE_ADD, _source_post(upload=SimpleUploadedFile("a.txt", RAW)))
    response = editor_client.post(SOURCE_ADD, _source_post(slug="again", upload=SimpleUploadedFile("b.txt", RAW)))
    assert response.status_code == 200
    assert "already stored as source “lynas-plant”" in response.context["adminform"].form.errors["upload"][0]
    assert models.Source.objects.count() == 1


@pytest.mark.django_db
def test_source_needs_text_and_not_both_inputs(editor_client):
    response = editor_client.post(SOURCE_ADD, _source_post(pasted_text="   "))
    assert "Paste the article" in response.context["adminform"].form.errors["pasted_text"][0]
    response = editor_client.post(SOURCE_ADD, _source_post(pasted_text="x", upload=SimpleUploadedFile("a.txt", RAW)))
    assert "not both" in response.context["adminform"].form.errors["upload"][0]
    response = editor_client.post(
        SOURCE_ADD, _source_post(pasted_text="x", published_date="2025-09-12", **{"published_date_precision": "month"})
    )
    assert "first day of the month" in response.context["adminform"].form.errors["published_date"][0]
    assert not models.Source.objects.exists()


@pytest.mark.django_db
def test_source_page_highlights_every_quote_with_a_link_and_escapes_the_text(editor_client):
    text = "<script>alert(1)</script> Acme & Beta signed a deal. Beta Metals will supply oxide."
    source = SourceFactory(text=text)
    deal_quote = "Acme & Beta signed a deal."
    start = text.index(deal_quote)
    evidence = EvidenceFactory(source=source, start=start, end=start + len(deal_quote), quote=deal_quote)
    start = text.index("Beta Metals")
    company_evidence = EvidenceFactory(
        source=source,
        deal=None,
        company=CompanyFactory(name="Beta Metals"),
        start=start,
        end=start + 11,
        quote="Beta Metals",
    )
    response = editor_client.get(reverse("admin:deals_source_change", args=[source.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    deal_url = reverse("admin:deals_deal_change", args=[evidence.deal_id])
    company_url = reverse("admin:deals_company_change", args=[company_evidence.company_id])
    assert f'<a href="{deal_url}">Acme &amp; Beta signed a deal.</a></mark>' in page
    assert f'<a href="{company_url}">Beta Metals</a></mark>' in page
    assert page.count("<mark ") == 2


@pytest.mark.django_db
def test_overlapping_quotes_are_cut_and_all_highlighted(editor_client):
    text = "Alpha beta gamma delta."
    source = SourceFactory(text=text)
    EvidenceFactory(source=source, start=0, end=16, quote="Alpha beta gamma")
    EvidenceFactory(
        source=source, deal=None, company=CompanyFactory(name="Gamma Co"), start=11, end=22, quote="gamma delta"
    )
    page = editor_client.get(reverse("admin:deals_source_change", args=[source.pk])).content.decode()
    # Three pieces: "Alpha beta ", "gamma" (both quotes), " delta".
    assert page.count("<mark ") == 3
    assert 'title="deal: ' in page and "company: Gamma Co" in page


@pytest.mark.django_db
def test_source_text_cannot_be_changed_after_creation(editor_client):
    source = SourceFactory()
    response = editor_client.get(reverse("admin:deals_source_change", args=[source.pk]))
    form = response.context["adminform"].form
    assert "pasted_text" not in form.fields and "upload" not in form.fields
