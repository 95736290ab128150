"""The stored search documents (deals/search_index.py) follow every write path: admin, loader, import, services,
evidence, commodity renames and links, publication changes, deletions; install rebuilds what bypassed them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from deals import models
from deals.search_index import key_column, search_index_install, search_index_rebuild, search_index_uninstall
from deals.selectors.search import records_search
from tests.factories import CommodityFactory, DealFactory, EvidenceFactory, FacilityFactory, SourceFactory
from tests.test_loader import edit, load


def found(model, q: str) -> list[str]:
    """Slugs of every record of ``model`` (published or not) whose stored document matches ``q``."""
    return list(records_search(queryset=model.objects.all(), q=q).values_list("slug", flat=True))


def document_count(kind: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM deals_search_{kind}")
        return cursor.fetchone()[0]


@pytest.fixture
def fixture_copy(tmp_path) -> Path:
    shutil.copytree(Path(settings.BASE_DIR) / "fixtures" / "dataset", tmp_path / "dataset")
    shutil.copytree(Path(settings.BASE_DIR) / "fixtures" / "sources", tmp_path / "sources")
    return tmp_path / "dataset"


@pytest.mark.django_db
def test_loader_writes_and_updates_documents(fixture_copy):
    load(fixture_copy)
    assert found(models.Deal, "magnets") == found(models.Deal, "magnet") != []
    assert document_count("deal") == models.Deal.objects.count()
    assert document_count("source") == models.Source.objects.count()
    assert found(models.Deal, "kalimantan") == []
    old, new = "JS Link announces a $223", "JS Link of Kalimantan announces a $223"
    edit(fixture_copy, "rare-earth-update-2025-09-08-12.yaml", old, new)
    load(fixture_copy)
    assert found(models.Deal, "kalimantan") == ["js-link-223m-columbus-ndfeb-magnet-plant"]


@pytest.mark.django_db
def test_evidence_add_edit_delete():
    deal = DealFactory(title="Offtake")
    source = SourceFactory(text="The Sumter plant will recycle swarf. Later it grew.")
    evidence = EvidenceFactory(source=source, deal=deal, start=0, end=36, quote="The Sumter plant will recycle swarf.")
    assert found(models.Deal, "swarf") == [deal.slug]
    assert found(models.Source, "recycling") == [source.slug]
    evidence.quote, evidence.start, evidence.end = "Later it grew.", 37, 51
    evidence.save()
    assert found(models.Deal, "swarf") == [] and found(models.Deal, "grew") == [deal.slug]
    assert found(models.Source, "swarf") == []
    evidence.delete()
    assert found(models.Deal, "grew") == [] and found(models.Source, "grew") == []


@pytest.mark.django_db
def test_commodity_link_unlink_and_rename():
    cobalt = CommodityFactory(slug="cobalt", name="Cobalt", symbol="Co")
    deal, plant = DealFactory(title="Offtake"), FacilityFactory(name="Refinery")
    deal.commodities.add(cobalt)
    plant.commodities.add(cobalt)
    assert found(models.Deal, "cobalt") == [deal.slug] and found(models.Facility, "cobalt") == [plant.slug]
    cobalt.name = "Kobalt"
    cobalt.save()
    assert found(models.Deal, "cobalt") == [] and found(models.Deal, "kobalt") == [deal.slug]
    assert found(models.Facility, "kobalt") == [plant.slug]
    deal.commodities.remove(cobalt)
    plant.commodities.clear()
    assert found(models.Deal, "kobalt") == [] and found(models.Facility, "kobalt") == []
    assert found(models.Commodity, "co") == ["cobalt"]


@pytest.mark.django_db
def test_deleting_records_deletes_their_documents():
    deal = DealFactory(title="Doomed offtake")
    commodity = CommodityFactory(name="Doomium")
    before = document_count("deal"), document_count("commodity")
    deal.delete()
    commodity.delete()
    assert (document_count("deal"), document_count("commodity")) == (before[0] - 1, before[1] - 1)
    assert found(models.Deal, "doomed") == []


@pytest.mark.django_db(transaction=True)
def test_uninstall_stops_upkeep_and_install_rebuilds():
    search_index_uninstall()
    try:
        models.Deal.objects.bulk_create([DealFactory.build(slug="bulk", title="Bulk tantalum offtake")])
        assert found(models.Deal, "tantalum") == []  # no trigger: the document is missing
    finally:
        search_index_install()
    assert found(models.Deal, "tantalum") == ["bulk"]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM deals_search_deal WHERE {key_column(connection.vendor)} > 0")
    assert found(models.Deal, "tantalum") == []
    search_index_rebuild()
    assert found(models.Deal, "tantalum") == ["bulk"]
    models.Deal.objects.filter(slug="bulk").update(title="Bulk niobium offtake")  # bare UPDATE: the trigger
    assert found(models.Deal, "niobium") == ["bulk"]
