"""Change-feed bookkeeping (deals/changes.py): every write path that changes a public record writes its entry, in
the same transaction; drafts never do; the sequence follows commit order."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from deals import models
from deals.history import history_deferred
from deals.services.publication import record_merge, record_publish, record_withdraw
from tests.factories import (
    CompanyFactory,
    DealFactory,
    DealPartyFactory,
    EvidenceFactory,
    FacilityCompanyFactory,
    FacilityFactory,
)
from tests.test_history import LONG_AGO, _age, _updated

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
FILLED = ["title", "deal_type", "status", "announced_date", "announced_date_precision", "amount", "currency"]
FILLED += ["amount_usd", "value_qualifier", "countries"]


def _entries(since: int = 0) -> list[tuple]:
    rows = models.ChangeEntry.objects.filter(sequence__gt=since).order_by("sequence")
    return [(e.action, e.resource, e.slug, e.fields) for e in rows]


def _last() -> int:
    return models.ChangeEntry.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


@pytest.mark.django_db
def test_drafts_write_nothing_publishing_is_created_and_edits_list_their_fields():
    deal = DealFactory(publication_status=models.PublicationStatus.DRAFT, slug="draft-deal")
    deal.title = "Still a draft"
    deal.save()
    EvidenceFactory(deal=deal, fields=["title"])
    assert _entries() == []
    models.Deal.objects.filter(pk=deal.pk).update(publication_status=models.PublicationStatus.DRAFT)
    deal.refresh_from_db()
    deal.publication_status = models.PublicationStatus.PUBLISHED  # as record_publish does, without its checks
    deal.save()
    assert _entries() == [("created", "deals", "draft-deal", [])]
    mark = _last()
    deal.title, deal.amount = "Public now", 5
    deal.save()
    assert _entries(mark) == [("updated", "deals", "draft-deal", ["title", "amount"])]
    mark = _last()
    deal.save()  # nothing changed: nothing for the public to see
    assert _entries(mark) == []


@pytest.mark.django_db
def test_relations_and_evidence_are_fields_of_the_record_and_move_updated():
    deal, company, facility = DealFactory(slug="d"), CompanyFactory(slug="c"), FacilityFactory(slug="f")
    _age(deal, company, facility)
    mark = _last()
    DealPartyFactory(deal=deal, company=company)
    assert _entries(mark) == [("updated", "deals", "d", ["parties"]), ("updated", "companies", "c", ["deals"])]
    assert _updated(deal) > LONG_AGO and _updated(company) > LONG_AGO
    mark = _last()
    evidence = EvidenceFactory(deal=deal, fields=["title"])
    assert _entries(mark) == [("updated", "deals", "d", ["evidence"])]
    mark = _last()
    evidence.fields = ["title", "deal_type"]
    evidence.save()
    assert _entries(mark) == [("updated", "deals", "d", ["evidence"])]
    mark = _last()
    deal.facilities.add(facility)
    FacilityCompanyFactory(facility=facility, company=company)
    assert _entries(mark) == [
        ("updated", "deals", "d", ["facilities"]),
        ("updated", "facilities", "f", ["companies"]),
        ("updated", "companies", "c", ["facilities"]),
    ]


@pytest.mark.django_db
def test_withdraw_merge_and_rename_from_the_services_are_tombstones_and_renames():
    deal, twin, other = DealFactory(slug="the-deal"), DealFactory(slug="the-deal-again"), DealFactory(slug="other")
    EvidenceFactory(deal=twin, fields=["title"])
    EvidenceFactory(deal=other, fields=FILLED)  # every filled field quoted, so it can be published again
    mark = _last()
    record_withdraw(record=other, reason="Entered by mistake.")
    record_merge(duplicate=twin, survivor=deal)
    entries = list(models.ChangeEntry.objects.filter(sequence__gt=mark).order_by("sequence"))
    # One version per record (the merge is one history scope): the moved rows are not entries of their own.
    assert [(e.action, e.slug) for e in entries[:1]] == [("withdrawn", "other")]
    assert sorted((e.action, e.slug) for e in entries[1:]) == [("merged", "the-deal-again"), ("updated", "the-deal")]
    merged, updated = sorted(entries[1:], key=lambda e: e.action)
    assert entries[0].reason == "Entered by mistake."
    assert merged.merged_into_slug == "the-deal" and "merged into it" in merged.reason
    assert updated.fields == ["evidence"]
    mark = _last()
    deal.slug = "the-deal-renamed"
    deal.save()
    (renamed,) = models.ChangeEntry.objects.filter(sequence__gt=mark)
    assert (renamed.action, renamed.previous_slug, renamed.fields) == ("renamed", "the-deal", ["slug"])
    mark = _last()
    record_publish(record=other)  # reinstated: public again
    assert _entries(mark) == [("created", "deals", "other", [])]


@pytest.mark.django_db
def test_the_withdraw_and_merge_commands_write_the_same_entries():
    DealFactory(slug="keep"), DealFactory(slug="dupe"), DealFactory(slug="gone")
    mark = _last()
    call_command("record_withdraw", "deal", "gone", "--reason", "Not a deal.", stdout=StringIO())
    call_command("record_merge", "deal", "dupe", "--into", "keep", stdout=StringIO())
    assert [a for a, *_ in _entries(mark)] == ["withdrawn", "merged"]
    assert models.ChangeEntry.objects.get(action="merged").merged_into_slug == "keep"


@pytest.mark.django_db
def test_a_deleted_public_record_is_a_withdrawn_tombstone_and_a_rollback_writes_nothing():
    deal = DealFactory(slug="deleted")
    mark = _last()
    with pytest.raises(RuntimeError), history_deferred():
        deal.title = "rolled back"
        deal.save()
        raise RuntimeError
    assert _entries(mark) == []
    deal.delete()
    (entry,) = models.ChangeEntry.objects.filter(sequence__gt=mark)
    assert (entry.action, entry.reason) == ("withdrawn", "deleted")


@pytest.fixture
def fixture_copy(tmp_path) -> Path:
    shutil.copytree(FIXTURES / "dataset", tmp_path / "dataset")
    shutil.copytree(FIXTURES / "sources", tmp_path / "sources")
    return tmp_path / "dataset"


@pytest.mark.django_db
def test_the_initial_load_is_one_created_entry_per_published_record_and_a_second_load_adds_none(fixture_copy):
    call_command("load_dataset", "--path", str(fixture_copy), stdout=StringIO())
    published = {
        (resource, slug)
        for resource, model in (("deals", models.Deal), ("companies", models.Company), ("facilities", models.Facility))
        for slug in model.objects.public().values_list("slug", flat=True)
    }
    entries = _entries()
    assert published and {a for a, *_ in entries} == {"created"}
    assert sorted((r, s) for _, r, s, _ in entries) == sorted(published)
    assert [e.sequence for e in models.ChangeEntry.objects.order_by("sequence")] == list(range(1, len(entries) + 1))
    mark = _last()
    call_command("load_dataset", "--path", str(fixture_copy), stdout=StringIO())
    assert _entries(mark) == []
