"""The change feed sees the admin's edits, lifecycle actions and imports (django-import-export), without editors'
names."""

import pytest
from django.urls import reverse
from tablib import Dataset

from deals import models
from deals.resources import EvidenceResource
from tests.admin.test_import_export import CSV_FORMAT, GOOD_ROWS, _confirm, _evidence_csv, _preview
from tests.factories import CompanyFactory, DealFactory, EvidenceFactory, SourceFactory
from tests.test_changes import _entries, _last


@pytest.mark.django_db
def test_admin_edits_publish_and_withdraw_are_in_the_feed_without_the_editors_name(editor_client):
    source = SourceFactory()
    deal = DealFactory(slug="admin-deal")
    mark = _last()
    response = editor_client.post(
        reverse("admin:deals_evidence_add"),
        {
            "source": source.pk,
            "quote": source.text[:9],
            "occurrence": "1",
            "fields": "title",
            "note": "",
            "deal": deal.pk,
        },
    )
    assert response.status_code == 302
    draft = CompanyFactory(slug="admin-draft", publication_status=models.PublicationStatus.DRAFT)
    EvidenceFactory(deal=None, company=draft, source=source, fields=["name", "kind", "country"])
    assert editor_client.post(reverse("admin:deals_company_publish", args=[draft.pk])).status_code == 302
    editor_client.post(reverse("admin:deals_deal_withdraw", args=[deal.pk]), {"reason": "Entered twice."})
    assert _entries(mark) == [
        ("updated", "deals", "admin-deal", ["evidence"]),
        ("created", "companies", "admin-draft", []),
        ("withdrawn", "deals", "admin-deal", []),
    ]
    feed = editor_client.get("/api/v1/changes/").content.decode()
    assert "Entered twice." in feed and "edna" not in feed


@pytest.mark.django_db
def test_an_import_through_the_admin_and_through_the_resource_is_in_the_feed(editor_client, dataset):
    mark = _last()
    preview = _preview(editor_client, models.Evidence, _evidence_csv(GOOD_ROWS), CSV_FORMAT, "evidence.csv")
    assert _confirm(editor_client, models.Evidence, preview).status_code == 302
    assert _entries(mark) == [
        ("updated", "deals", "acme-beta-offtake", ["evidence"]),
        ("updated", "companies", "beta-metals", ["evidence"]),
    ]
    mark = _last()
    rows = Dataset(headers=["source", "company", "quote"])
    rows.append(["acme-offtake", "acme-magnets", "Acme Magnets said"])
    result = EvidenceResource().import_data(rows, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert _entries(mark) == [("updated", "companies", "acme-magnets", ["evidence"])]
