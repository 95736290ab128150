"""The releases admin (deals/admin/releases.py): releases and their files can be looked at, never added, changed or
deleted, by editors and superusers alike."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from deals.models import DatasetRelease, ReleaseFile
from deals.services.releases import release_create
from tests.factories import CitedSourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def release():
    CitedSourceFactory()  # one published deal citing one source
    return release_create(base_url="https://reexapi.example.org")


@pytest.fixture(params=["editor", "superuser"])
def staff_client(request, client, editor):
    if request.param == "superuser":
        user = get_user_model().objects.create_superuser("root", "root@example.org", "a-long-root-pass-42")
    else:
        user = editor
    client.force_login(user)
    return client


def test_a_release_is_shown_read_only_with_its_files(staff_client, release):
    changelist = staff_client.get(reverse("admin:deals_datasetrelease_changelist"))
    assert changelist.status_code == 200
    assert release.version in changelist.content.decode()
    assert b"Add dataset release" not in changelist.content
    page = staff_client.get(reverse("admin:deals_datasetrelease_change", args=[release.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "deals.csv" in body and release.files.get(name="deals.csv").sha256 in body
    assert 'name="_save"' not in body and "Delete" not in body


def test_no_add_change_or_delete(staff_client, release):
    assert staff_client.get(reverse("admin:deals_datasetrelease_add")).status_code == 403
    response = staff_client.post(
        reverse("admin:deals_datasetrelease_change", args=[release.pk]), {"version": "2000.01.01.1"}
    )
    assert response.status_code == 403
    assert staff_client.post(reverse("admin:deals_datasetrelease_delete", args=[release.pk])).status_code == 403
    response = staff_client.post(
        reverse("admin:deals_datasetrelease_changelist"),
        {"action": "delete_selected", "_selected_action": [release.pk]},
    )
    assert response.status_code in (200, 302)
    release.refresh_from_db()
    assert DatasetRelease.objects.get().version == release.version
    assert ReleaseFile.objects.filter(release=release).count() == len(release.metadata["counts"]) + 4
