"""Editors mark a source as licensed for redistribution in the admin, and always see its full text there."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from deals import models
from tests.factories import CitedSourceFactory

TEXT = "Acme Magnets signed a $10 million offtake with Beta Metals. An unquoted sentence stays private."


def _change_post(source, **extra):
    return {
        "slug": source.slug,
        "title": source.title,
        "kind": source.kind,
        "publisher": source.publisher,
        "author": source.author,
        "published_date": source.published_date.isoformat(),
        "published_date_precision": source.published_date_precision,
        "url": source.url,
        "original_filename": source.original_filename,
        **extra,
    }


@pytest.mark.django_db
def test_editor_sees_the_full_text_of_an_unlicensed_source(editor_client):
    source = CitedSourceFactory(text=TEXT)
    page = editor_client.get(reverse("admin:deals_source_change", args=[source.pk]))
    assert page.status_code == 200
    assert "An unquoted sentence stays private." in page.content.decode()
    field = page.context["adminform"].form.fields["redistribution_licensed"]
    assert "full text" in field.help_text and not page.context["adminform"].form.initial["redistribution_licensed"]


@pytest.mark.django_db
def test_editor_ticks_the_flag_and_the_api_publishes_the_text(editor_client, django_capture_on_commit_callbacks):
    public = Client()  # a reader: not the editor's logged-in client
    with django_capture_on_commit_callbacks(execute=True):  # committed, like every write below
        source = CitedSourceFactory(text=TEXT)
    assert public.get(f"/api/v1/sources/{source.slug}/").json()["text"] is None
    # The save commits, and its commit bumps the dataset version (so the cached API answer is not served again).
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            reverse("admin:deals_source_change", args=[source.pk]), _change_post(source, redistribution_licensed="on")
        )
    assert response.status_code == 302, response.context["adminform"].form.errors
    source.refresh_from_db()
    assert source.redistribution_licensed is True and source.text == TEXT
    assert public.get(f"/api/v1/sources/{source.slug}/").json()["text"] == TEXT
    # Unticking withdraws it again.
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(reverse("admin:deals_source_change", args=[source.pk]), _change_post(source))
    assert models.Source.objects.get(pk=source.pk).redistribution_licensed is False
    assert public.get(f"/api/v1/sources/{source.slug}/").json()["text"] is None


@pytest.mark.django_db
def test_the_source_list_filters_by_the_flag(editor_client):
    CitedSourceFactory(slug="open", title="Open article", redistribution_licensed=True)
    CitedSourceFactory(slug="closed", title="Closed article")
    page = editor_client.get(reverse("admin:deals_source_changelist"), {"redistribution_licensed__exact": "1"})
    assert page.status_code == 200
    assert [s.slug for s in page.context["cl"].result_list] == ["open"]
