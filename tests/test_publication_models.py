"""Publication status: new records start as drafts; fixture records load as published; fixtures may say draft."""

import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from deals.models import Company, Deal, Facility, PublicationStatus, evidence_field_names

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def test_records_created_with_the_model_defaults_are_drafts():
    company = Company.objects.create(slug="new-co", name="New Co", kind=Company.Kind.COMPANY)
    facility = Facility.objects.create(slug="new-plant", name="New plant", kind=Facility.Kind.MAGNET)
    deal = Deal.objects.create(slug="new-deal", title="New deal", deal_type=Deal.Type.MOU, status="non_binding")
    for record in (company, facility, deal):
        record.refresh_from_db()
        assert record.publication_status == PublicationStatus.DRAFT
        assert not record.is_public
    assert not Deal.objects.public().exists()


def test_fixture_records_load_as_published(tmp_path):
    call_command("load_dataset", "--path", str(ROOT / "fixtures" / "dataset"), stdout=open(tmp_path / "out", "w"))
    for model in (Company, Facility, Deal):
        assert model.objects.count() > 0
        assert set(model.objects.values_list("publication_status", flat=True)) == {PublicationStatus.PUBLISHED}
        assert model.objects.public().count() == model.objects.count()


def test_a_fixture_may_load_a_record_as_a_draft(tmp_path):
    dataset = tmp_path / "dataset"
    shutil.copytree(ROOT / "fixtures" / "dataset", dataset)
    shutil.copytree(ROOT / "fixtures" / "sources", tmp_path / "sources")
    path = dataset / "reex-2025-08-22-us-battery-firms-heading-overseas.yaml"
    text = path.read_text(encoding="utf-8")
    slug = "group14-technologies"
    assert f"  - slug: {slug}\n" in text
    path.write_text(text.replace(f"  - slug: {slug}\n", f"  - slug: {slug}\n    publication_status: draft\n", 1))
    call_command("load_dataset", "--path", str(dataset), stdout=open(tmp_path / "out", "w"))
    assert Company.objects.get(slug=slug).publication_status == PublicationStatus.DRAFT
    assert Company.objects.exclude(slug=slug).filter(publication_status=PublicationStatus.DRAFT).count() == 0


def test_no_quote_supports_the_publication_bookkeeping():
    for model in (Company, Facility, Deal):
        names = evidence_field_names(model=model)
        assert not names & {"publication_status", "published_at", "withdrawn_at", "withdrawn_reason", "merged_into"}
        assert "slug" not in names and "updated" not in names


def test_a_reload_keeps_an_editors_withdrawal_and_merge(tmp_path):
    from deals.services.publication import record_merge, record_withdraw

    dataset = ROOT / "fixtures" / "dataset"
    call_command("load_dataset", "--path", str(dataset), stdout=open(tmp_path / "out", "w"))
    deal = Deal.objects.order_by("slug").first()
    record_withdraw(record=deal, reason="Entered by mistake.")
    duplicate, survivor = Company.objects.order_by("slug")[:2]
    record_merge(duplicate=duplicate, survivor=survivor)
    call_command("load_dataset", "--path", str(dataset), stdout=open(tmp_path / "out", "w"))
    deal.refresh_from_db()
    duplicate.refresh_from_db()
    assert deal.publication_status == PublicationStatus.WITHDRAWN and deal.withdrawn_reason == "Entered by mistake."
    assert duplicate.merged_into == survivor and duplicate.publication_status == PublicationStatus.WITHDRAWN
