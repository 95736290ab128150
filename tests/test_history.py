"""History bookkeeping (deals/history.py): versions record relations, `updated` moves with them, one version per
write inside a scope, and the relations come back on restore (deals/services/history.py)."""

import datetime
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from deals import models
from deals.history import history_deferred, relations_changes
from deals.services.history import record_relations_restore
from tests.factories import (
    CommodityFactory,
    CompanyFactory,
    DealFactory,
    DealPartyFactory,
    EvidenceFactory,
    FacilityCompanyFactory,
    FacilityFactory,
    SourceFactory,
)

LONG_AGO = timezone.make_aware(datetime.datetime(2020, 1, 1))
FIXTURES = Path(settings.BASE_DIR) / "fixtures"
HISTORY_MODELS = [
    models.Source,
    models.Commodity,
    models.Company,
    models.Facility,
    models.Deal,
    models.DealParty,
    models.FacilityCompany,
    models.Evidence,
]


def _age(*records) -> None:
    """Set ``updated`` far in the past (without a signal), so a test sees whether a write moves it."""
    for record in records:
        type(record).objects.filter(pk=record.pk).update(updated=LONG_AGO)


def _updated(record) -> datetime.datetime:
    return type(record).objects.values_list("updated", flat=True).get(pk=record.pk)


def _latest(record):
    return record.history.order_by("-history_date", "-history_id").first()


def _quote(source, text: str, **kwargs):
    start = source.text.index(text)
    return EvidenceFactory(source=source, start=start, end=start + len(text), quote=text, **kwargs)


@pytest.fixture
def deal(db):
    deal = DealFactory(slug="acme-beta-offtake")
    deal.commodities.add(CommodityFactory(slug="ndfeb"))
    DealPartyFactory(deal=deal, company=CompanyFactory(slug="acme"), role="buyer")
    return deal


# --- versions record relations, from a shell -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_party_added_and_removed_from_a_shell_is_a_version_of_the_deal_and_moves_updated(deal):
    beta = CompanyFactory(slug="beta")
    _age(deal, beta)
    before = deal.history.count()
    link = models.DealParty.objects.create(deal=deal, company=beta, role="supplier")
    assert deal.history.count() == before + 1
    assert _latest(deal).history_relations["parties"] == [
        {"company": deal.party_links.get(role="buyer").company_id, "slug": "acme", "role": "buyer"},
        {"company": beta.pk, "slug": "beta", "role": "supplier"},
    ]
    assert _updated(deal) > LONG_AGO
    # The company's API page lists its deals, so its `updated` moves too; its own versions record evidence and
    # facility links, not deal parties, so it gets no version.
    assert _updated(beta) > LONG_AGO
    assert beta.history.count() == 1

    _age(deal)
    link.delete()
    assert deal.history.count() == before + 2
    assert [p["slug"] for p in _latest(deal).history_relations["parties"]] == ["acme"]
    assert _updated(deal) > LONG_AGO


@pytest.mark.django_db
def test_a_party_moved_to_another_deal_versions_both_deals(deal):
    other = DealFactory(slug="other-deal")
    _age(deal, other)
    link = deal.party_links.get()
    link.deal = other
    link.save()
    assert _latest(deal).history_relations["parties"] == []
    assert [p["slug"] for p in _latest(other).history_relations["parties"]] == ["acme"]
    assert _updated(deal) > LONG_AGO and _updated(other) > LONG_AGO


@pytest.mark.django_db
def test_many_to_many_changes_from_either_side_are_versions_with_the_new_lists(deal):
    stage = models.SupplyChainStage.objects.order_by("position").first()
    dysprosium = CommodityFactory(slug="dysprosium")
    plant = FacilityFactory(slug="plant")
    _age(deal)
    before = deal.history.count()
    deal.stages.add(stage)
    deal.facilities.set([plant])
    # From the other side: the commodity's deals.
    dysprosium.deals.add(deal)
    assert deal.history.count() == before + 3
    relations = _latest(deal).history_relations
    assert relations["stages"] == [{"id": stage.pk, "slug": stage.slug}]
    assert relations["facilities"] == [{"id": plant.pk, "slug": "plant"}]
    assert [c["slug"] for c in relations["commodities"]] == ["dysprosium", "ndfeb"]
    assert _updated(deal) > LONG_AGO

    _age(deal)
    dysprosium.deals.clear()  # a reverse clear sends no ids: the deal is still versioned
    assert [c["slug"] for c in _latest(deal).history_relations["commodities"]] == ["ndfeb"]
    assert _updated(deal) > LONG_AGO
    _age(deal)
    deal.commodities.remove(*deal.commodities.all())
    assert _latest(deal).history_relations["commodities"] == []
    assert _updated(deal) > LONG_AGO


@pytest.mark.django_db
def test_countries_are_a_field_of_each_version(deal):
    deal.countries = ["US", "KR"]
    deal.save()
    assert [str(c) for c in _latest(deal).countries] == ["KR", "US"]
    newer, older = deal.history.order_by("-history_date", "-history_id")[:2]
    assert "countries" in {change.field for change in newer.diff_against(older).changes}


@pytest.mark.django_db
def test_evidence_added_changed_and_removed_moves_updated_and_is_recorded(deal):
    source = SourceFactory(text="Acme Magnets signed a $10 million offtake with Beta Metals. It starts in 2026.")
    _age(deal, source)
    evidence = _quote(source, "signed a $10 million offtake", deal=deal, fields=["amount"])
    assert _updated(deal) > LONG_AGO
    assert _updated(source) > LONG_AGO, "the source's API page lists the records it backs"
    [row] = _latest(deal).history_relations["evidence"]
    assert (row["id"], row["source"], row["quote"], row["fields"]) == (
        evidence.pk,
        source.slug,
        "signed a $10 million offtake",
        ["amount"],
    )
    assert (row["start"], row["end"], row["source_id"], row["deal_id"]) == (
        evidence.start,
        evidence.end,
        source.pk,
        deal.pk,
    )

    _age(deal)
    evidence.fields = ["amount", "currency"]
    evidence.save()
    assert _updated(deal) > LONG_AGO
    assert _latest(deal).history_relations["evidence"][0]["fields"] == ["amount", "currency"]

    _age(deal)
    evidence.delete()
    assert _updated(deal) > LONG_AGO
    assert _latest(deal).history_relations["evidence"] == []


@pytest.mark.django_db
def test_evidence_moved_to_another_record_versions_both(deal):
    source = SourceFactory(text="Acme Magnets signed a $10 million offtake with Beta Metals.")
    evidence = _quote(source, "Acme Magnets", deal=deal, fields=["title"])
    company = CompanyFactory(slug="acme-2")
    _age(deal, company)
    evidence.deal, evidence.company, evidence.fields = None, company, ["name"]
    evidence.save()
    assert _latest(deal).history_relations["evidence"] == []
    assert [e["id"] for e in _latest(company).history_relations["evidence"]] == [evidence.pk]
    assert _updated(deal) > LONG_AGO and _updated(company) > LONG_AGO


@pytest.mark.django_db
def test_facility_company_links_are_versions_of_the_facility_and_of_the_company():
    plant = FacilityFactory(slug="plant")
    acme = CompanyFactory(slug="acme")
    _age(plant, acme)
    link = FacilityCompanyFactory(facility=plant, company=acme, role="operator")
    assert _latest(plant).history_relations["companies"] == [{"company": acme.pk, "slug": "acme", "role": "operator"}]
    assert _latest(acme).history_relations["facility_links"] == [
        {"facility": plant.pk, "slug": "plant", "role": "operator"}
    ]
    assert _updated(plant) > LONG_AGO and _updated(acme) > LONG_AGO
    link.role = "owner"
    link.save()
    assert _latest(plant).history_relations["companies"][0]["role"] == "owner"


@pytest.mark.django_db
def test_deleting_a_deal_records_its_relations_in_its_last_version_without_extra_versions(deal):
    source = SourceFactory(text="Acme Magnets signed a $10 million offtake with Beta Metals.")
    _quote(source, "Acme Magnets", deal=deal)
    before = deal.history.count()
    pk = deal.pk
    deal.delete()
    history = models.Deal.history.filter(id=pk)
    assert history.count() == before + 1, "the cascaded parties and evidence are not versions of their own"
    last = history.latest()
    assert last.history_type == "-"
    assert [p["slug"] for p in last.history_relations["parties"]] == ["acme"]
    assert len(last.history_relations["evidence"]) == 1


# --- one version per record in a scope -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_scope_writes_one_version_per_record_with_its_final_relations(deal):
    source = SourceFactory(text="Acme Magnets signed a $10 million offtake with Beta Metals.")
    beta = CompanyFactory(slug="beta")
    before_deal, before_beta = deal.history.count(), beta.history.count()
    with history_deferred():
        deal.title = "Acme and Beta sign an offtake"
        deal.save()
        models.DealParty.objects.create(deal=deal, company=beta, role="supplier")
        deal.commodities.set([CommodityFactory(slug="dysprosium")])
        _quote(source, "Acme Magnets", deal=deal)
        _quote(source, "Beta Metals", deal=None, company=beta, fields=["name"])
        assert deal.history.count() == before_deal, "nothing is versioned before the scope ends"
    assert deal.history.count() == before_deal + 1
    assert beta.history.count() == before_beta + 1
    version = _latest(deal)
    assert version.title == "Acme and Beta sign an offtake"
    assert [p["slug"] for p in version.history_relations["parties"]] == ["acme", "beta"]
    assert [c["slug"] for c in version.history_relations["commodities"]] == ["dysprosium"]
    assert len(version.history_relations["evidence"]) == 1
    assert len(_latest(beta).history_relations["evidence"]) == 1


@pytest.mark.django_db
def test_a_failing_scope_versions_nothing_and_writes_nothing(deal):
    before = deal.history.count()
    with pytest.raises(RuntimeError), history_deferred():
        models.DealParty.objects.create(deal=deal, company=CompanyFactory(slug="beta"), role="supplier")
        raise RuntimeError("the editor's save failed")
    assert deal.history.count() == before
    assert list(deal.party_links.values_list("company__slug", flat=True)) == ["acme"]


# --- reading and restoring versions --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_relations_changes_names_what_was_added_removed_and_changed(deal):
    source = SourceFactory(text="Acme Magnets signed a $10 million offtake with Beta Metals.")
    evidence = _quote(source, "Acme Magnets", deal=deal, fields=["title"])
    old = _latest(deal).history_relations
    models.DealParty.objects.create(deal=deal, company=CompanyFactory(slug="beta"), role="supplier")
    deal.party_links.filter(company__slug="acme").delete()
    evidence.fields = ["title", "parties"]
    evidence.save()
    changes = {c["name"]: c for c in relations_changes(old=old, new=_latest(deal).history_relations)}
    assert set(changes) == {"parties", "evidence"}
    assert (changes["parties"]["added"], changes["parties"]["removed"]) == (["beta (supplier)"], ["acme (buyer)"])
    assert changes["evidence"]["changed"] == [f"#{evidence.pk} {source.slug}: “Acme Magnets” (title, parties)"]
    # A record's first version: everything it has is added. A version from before relations were recorded: nothing.
    first = {c["name"] for c in relations_changes(old=None, new=old)}
    assert first == {"parties", "commodities", "evidence"}
    assert relations_changes(old={}, new=old) == []


@pytest.mark.django_db
def test_restore_brings_back_parties_with_roles_lists_and_evidence_as_they_were(deal):
    source = SourceFactory(text="Acme Magnets signed a $10 million offtake with Beta Metals. It starts in 2026.")
    kept = _quote(source, "signed a $10 million offtake", deal=deal, fields=["amount"])
    dropped = _quote(source, "Acme Magnets", deal=deal, fields=["title"])
    version = _latest(deal)
    # Later edits: another party, the buyer's role changed, another list, a quote edited, one deleted, one added.
    beta = CompanyFactory(slug="beta")
    models.DealParty.objects.create(deal=deal, company=beta, role="supplier")
    deal.party_links.filter(company__slug="acme").update(role="partner")
    deal.commodities.set([CommodityFactory(slug="dysprosium")])
    kept.fields = ["amount", "currency"]
    kept.save()
    dropped_pk = dropped.pk
    dropped.delete()
    later = _quote(source, "It starts in 2026.", deal=deal, fields=["summary"])

    notes = record_relations_restore(record=deal, version=version)
    assert notes == []
    assert sorted(deal.party_links.values_list("company__slug", "role")) == [("acme", "buyer")]
    assert list(deal.commodities.values_list("slug", flat=True)) == ["ndfeb"]
    evidence = {e.pk: e for e in deal.evidence.all()}
    assert set(evidence) == {kept.pk, dropped_pk}, "evidence added after the version is removed"
    assert evidence[kept.pk].fields == ["amount"]
    assert (evidence[dropped_pk].quote, evidence[dropped_pk].fields) == ("Acme Magnets", ["title"])
    assert not models.Evidence.objects.filter(pk=later.pk).exists()
    # ...and the restore is itself recorded: the latest version matches the restored one's relations.
    assert _latest(deal).history_relations == version.history_relations


@pytest.mark.django_db
def test_restore_brings_back_a_facilitys_company_links():
    plant = FacilityFactory(slug="plant")
    acme, beta = CompanyFactory(slug="acme"), CompanyFactory(slug="beta")
    FacilityCompanyFactory(facility=plant, company=acme, role="owner")
    version = _latest(plant)
    plant.company_links.all().delete()
    FacilityCompanyFactory(facility=plant, company=beta, role="operator")
    record_relations_restore(record=plant, version=version)
    assert list(plant.company_links.values_list("company__slug", "role")) == [("acme", "owner")]


@pytest.mark.django_db
def test_restore_refuses_evidence_that_no_longer_verifies_and_changes_nothing(deal):
    source = SourceFactory(text="Acme Magnets signed a $10 million offtake with Beta Metals.")
    evidence = _quote(source, "Acme Magnets", deal=deal, fields=["title"])
    version = _latest(deal)
    evidence.delete()
    models.Source.objects.filter(pk=source.pk).update(text="A different text altogether, without the quote.")
    models.DealParty.objects.create(deal=deal, company=CompanyFactory(slug="beta"), role="supplier")
    with pytest.raises(ValidationError, match="does not match the source text"):
        record_relations_restore(record=deal, version=version)
    assert sorted(deal.party_links.values_list("company__slug", flat=True)) == ["acme", "beta"]
    assert not deal.evidence.exists()


@pytest.mark.django_db
def test_restore_of_a_version_without_recorded_relations_leaves_them_alone(deal):
    version = _latest(deal)
    type(version).objects.filter(pk=version.pk).update(history_relations={})
    version.refresh_from_db()
    notes = record_relations_restore(record=deal, version=version)
    assert "left as they are" in notes[0]
    assert list(deal.party_links.values_list("company__slug", flat=True)) == ["acme"]


# --- the loader --------------------------------------------------------------------------------------------------


@pytest.fixture
def fixture_copy(tmp_path) -> Path:
    shutil.copytree(FIXTURES / "dataset", tmp_path / "dataset")
    shutil.copytree(FIXTURES / "sources", tmp_path / "sources")
    return tmp_path / "dataset"


def _load(path: Path) -> None:
    call_command("load_dataset", "--path", str(path), stdout=StringIO())


def _state() -> dict:
    return {
        model.__name__: (sorted(model.objects.values_list("pk", "updated")) if hasattr(model, "updated") else None)
        for model in HISTORY_MODELS
    } | {f"{model.__name__} history": model.history.count() for model in HISTORY_MODELS}


@pytest.mark.django_db
def test_a_load_writes_one_version_per_record_with_its_relations_and_a_second_load_touches_nothing(fixture_copy):
    _load(fixture_copy)
    for deal in models.Deal.objects.all():
        version = deal.history.get()
        assert version.history_change_reason == "load_dataset"
        relations = version.history_relations
        assert sorted((p["slug"], p["role"]) for p in relations["parties"]) == sorted(
            deal.party_links.values_list("company__slug", "role")
        )
        assert sorted(e["id"] for e in relations["evidence"]) == sorted(deal.evidence.values_list("pk", flat=True))
        assert [c["slug"] for c in relations["commodities"]] == sorted(deal.commodities.values_list("slug", flat=True))
    for facility in models.Facility.objects.all():
        assert sorted((c["slug"], c["role"]) for c in facility.history.get().history_relations["companies"]) == sorted(
            facility.company_links.values_list("company__slug", "role")
        )
    state = _state()
    _load(fixture_copy)
    assert _state() == state, "a load that writes nothing touches no `updated` and writes no version"


@pytest.mark.django_db
def test_a_load_that_changes_only_a_deals_evidence_moves_its_updated_and_versions_it(fixture_copy):
    _load(fixture_copy)
    slug = "group14-technologies-463m-funding-round-led-by-sk-inc"
    deal = models.Deal.objects.get(slug=slug)
    _age(deal)
    name = "reex-2025-08-22-us-battery-firms-heading-overseas.yaml"
    file = fixture_copy / name
    text = file.read_text(encoding="utf-8")
    old = '      - quote: "Group14 did secure a blockbuster raise"\n        fields: [status]\n'
    assert text.count(old) == 1
    file.write_text(text.replace(old, old.replace("[status]", "[status, title]")), encoding="utf-8")
    _load(fixture_copy)
    assert _updated(deal) > LONG_AGO
    assert deal.history.count() == 2
    version = _latest(deal)
    assert version.history_change_reason == "load_dataset"
    assert ["status", "title"] in [e["fields"] for e in version.history_relations["evidence"]]


@pytest.mark.django_db
def test_writers_without_signals_record_the_change_themselves(deal):
    from deals.history import record_relations_changed

    _age(deal)
    before = deal.history.count()
    deal.party_links.update(role="partner")  # QuerySet.update() sends no signal
    assert deal.history.count() == before and _updated(deal) == LONG_AGO
    record_relations_changed(record=deal, reason="roles corrected in bulk")
    assert deal.history.count() == before + 1
    version = _latest(deal)
    assert version.history_change_reason == "roles corrected in bulk"
    assert version.history_relations["parties"][0]["role"] == "partner"
    assert _updated(deal) > LONG_AGO
