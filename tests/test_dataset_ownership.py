"""The database is the source of truth: load_dataset never overwrites or deletes what was changed outside it.

Every write path an editor or operator has is exercised for real: a model save with a history user (what the admin
does), ``QuerySet.update()``, raw SQL and deletion; the loader must notice each from the rows themselves.
"""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from deals import models
from tests.factories import CompanyFactory

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
RECORDS_002 = "rare-earth-update-2025-09-08-12.yaml"
RECORDS_000 = "reex-2025-08-22-us-battery-firms-heading-overseas.yaml"
GM_DEAL = "gm-offtake-with-noveon"


@pytest.fixture
def dataset(tmp_path) -> Path:
    shutil.copytree(FIXTURES / "dataset", tmp_path / "dataset")
    shutil.copytree(FIXTURES / "sources", tmp_path / "sources")
    return tmp_path / "dataset"


def load(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("load_dataset", "--path", str(path), *args, stdout=out)
    return out.getvalue()


def edit(path: Path, name: str, old: str, new: str) -> None:
    file = path / name
    text = file.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {name}"
    file.write_text(text.replace(old, new), encoding="utf-8")


def editor_enriches_gm_deal(user) -> models.Evidence:
    """What the issue's editor did: a changed value and an extra quote, saved as the admin saves (history user)."""
    deal = models.Deal.objects.get(slug=GM_DEAL)
    deal.summary = "GM agreed an offtake of rare earth magnets from Noveon."
    deal._history_user = user
    deal.save()
    source = models.Source.objects.get(slug="rare-earth-update-2025-09-08-12")
    quote = "Pakistan signed $500 million in agreements with U.S. firms"
    start = source.text.index(quote)
    # The admin stores, per ticked field, the value the quote states (deals.coverage.evidence_values_take).
    evidence = models.Evidence(
        source=source,
        deal=deal,
        quote=quote,
        start=start,
        end=start + len(quote),
        fields=["summary"],
        values={"summary": deal.summary},
    )
    evidence._history_user = user
    evidence.full_clean()
    evidence.save()
    return evidence


@pytest.fixture
def editor(db):
    return get_user_model().objects.create_user("alice", password="x", is_staff=True)


@pytest.mark.django_db
def test_an_editors_change_survives_the_next_load_and_is_reported(dataset, editor):
    load(dataset)
    added = editor_enriches_gm_deal(editor)
    own = CompanyFactory(slug="an-editors-own-company", name="An editor's own company")
    evidence_before = set(models.Evidence.objects.filter(deal__slug=GM_DEAL).values_list("pk", "quote"))
    # The fixtures change both the edited deal and an untouched company.
    edit(dataset, RECORDS_002, "title: GM's magnet offtake with Noveon", "title: GM magnet offtake (fixture edit)")
    edit(dataset, RECORDS_000, "description: U.S. firm that, like Group14, has made offshore moves.", "description: X.")

    out = load(dataset)  # exits 0: call_command raises on a non-zero exit

    deal = models.Deal.objects.get(slug=GM_DEAL)
    assert deal.summary == "GM agreed an offtake of rare earth magnets from Noveon."
    assert deal.title == "GM's magnet offtake with Noveon"  # the fixture's edit is not applied to the editor's record
    assert set(models.Evidence.objects.filter(deal__slug=GM_DEAL).values_list("pk", "quote")) == evidence_before
    assert models.Evidence.objects.filter(pk=added.pk).exists()
    assert models.Company.objects.get(slug="lyten").description == "X."  # untouched records still follow fixtures
    assert models.Company.objects.filter(pk=own.pk).exists()  # records the fixtures do not know are never deleted
    line = next(line for line in out.splitlines() if f"deal '{GM_DEAL}'" in line)
    assert "changed (summary, evidence)" in line
    assert "by alice at " in line
    assert "deal: 11 (0 created, 0 updated, 10 unchanged, 0 deleted, 1 left alone)" in out
    # …and again on every load, until the editor's work is in the fixtures or --overwrite takes the fixture's.
    assert f"deal '{GM_DEAL}': changed (summary, evidence) by alice" in load(dataset)


@pytest.mark.django_db
def test_update_and_raw_sql_changes_are_noticed_without_history(dataset):
    load(dataset)
    models.Company.objects.filter(slug="lyten").update(description="Changed by QuerySet.update().")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE deals_facility SET description = 'Changed by SQL' WHERE slug = %s",
            ["js-link-columbus-ndfeb-magnet-plant"],
        )
    out = load(dataset)
    assert models.Company.objects.get(slug="lyten").description == "Changed by QuerySet.update()."
    assert models.Facility.objects.get(slug="js-link-columbus-ndfeb-magnet-plant").description == "Changed by SQL"
    assert "company 'lyten': changed (description) by unknown (no history)" in out
    assert "facility 'js-link-columbus-ndfeb-magnet-plant': changed (description) by unknown (no history)" in out
    assert "nothing changed" in out


@pytest.mark.django_db
def test_a_deleted_record_is_not_recreated_until_overwrite(dataset, editor):
    load(dataset)
    eri = models.Company.objects.get(slug="eri")
    eri._history_user = editor
    eri.delete()
    out = load(dataset)
    assert not models.Company.objects.filter(slug="eri").exists()
    assert "company 'eri': deleted by alice at " in out
    assert "not re-created" in out

    out = load(dataset, "--overwrite", "company:eri")
    eri = models.Company.objects.get(slug="eri")
    assert eri.history.first().history_change_reason == "load_dataset --overwrite"
    assert "overwritten with the fixture's version (--overwrite): 1" in out
    assert "nothing changed" in load(dataset)


@pytest.mark.django_db
def test_a_record_pointing_at_a_deleted_one_is_left_alone(dataset, editor):
    load(dataset)
    models.DealParty.objects.filter(company__slug="sojitz").delete()
    models.Company.objects.get(slug="sojitz").delete()
    out = load(dataset)
    assert "deal 'sojitz-expands-lynas-rare-earth-imports': refers to company 'sojitz', which was deleted" in out
    parties = models.DealParty.objects.filter(deal__slug="sojitz-expands-lynas-rare-earth-imports")
    assert list(parties.values_list("company__slug", flat=True)) == ["lynas"]  # Sojitz's link is not re-created


@pytest.mark.django_db
def test_overwrite_takes_the_fixture_version_and_history_records_it(dataset, editor):
    load(dataset)
    fixture_quotes = set(models.Evidence.objects.filter(deal__slug=GM_DEAL).values_list("quote", flat=True))
    added = editor_enriches_gm_deal(editor)
    models.Company.objects.filter(slug="lyten").update(description="Kept: not named by --overwrite.")

    out = load(dataset, "--overwrite", f"deal:{GM_DEAL}")

    deal = models.Deal.objects.get(slug=GM_DEAL)
    assert deal.summary != "GM agreed an offtake of rare earth magnets from Noveon."
    assert set(deal.evidence.values_list("quote", flat=True)) == fixture_quotes
    assert not models.Evidence.objects.filter(pk=added.pk).exists()
    assert deal.history.first().history_change_reason == "load_dataset --overwrite"
    deleted = models.Evidence.history.filter(id=added.pk, history_type="-").get()
    assert deleted.history_change_reason == "load_dataset --overwrite"
    assert f"  - deal '{GM_DEAL}'" in out
    assert models.Company.objects.get(slug="lyten").description == "Kept: not named by --overwrite."
    # --overwrite with no names takes every record's fixture version.
    load(dataset, "--overwrite")
    assert models.Company.objects.get(slug="lyten").description != "Kept: not named by --overwrite."
    assert "nothing changed" in load(dataset)


@pytest.mark.parametrize("name", ["lyten", "person:lyten", "company:"])
@pytest.mark.django_db
def test_overwrite_names_must_be_model_and_slug(dataset, name):
    with pytest.raises(CommandError, match="is not a record name; write <model>:<slug>"):
        load(dataset, "--overwrite", name)
    assert not models.Source.objects.exists()


@pytest.mark.django_db
def test_an_editors_work_committed_back_to_the_fixtures_is_adopted(dataset, editor, tmp_path):
    load(dataset)
    editor_enriches_gm_deal(editor)
    call_command("export_dataset", "--path", str(dataset), stdout=StringIO())  # the editor's work, as a diff
    out = load(dataset)
    assert "nothing changed" in out
    assert "left alone" not in out
    # The loader owns the record again: the next fixture edit applies.
    edit(dataset, RECORDS_002, "title: GM's magnet offtake with Noveon", "title: GM magnet offtake, revised")
    load(dataset)
    assert models.Deal.objects.get(slug=GM_DEAL).title == "GM magnet offtake, revised"


@pytest.mark.django_db
def test_a_database_loaded_before_snapshots_existed_is_adopted_by_its_history(dataset, editor):
    load(dataset)
    editor_enriches_gm_deal(editor)
    models.FixtureState.objects.all().delete()  # as if loaded by the previous loader
    edit(dataset, RECORDS_000, "description: U.S. firm that, like Group14, has made offshore moves.", "description: X.")
    out = load(dataset)
    assert models.Company.objects.get(slug="lyten").description == "X."  # last written by the loader: its own
    assert models.Deal.objects.get(slug=GM_DEAL).summary == "GM agreed an offtake of rare earth magnets from Noveon."
    assert f"deal '{GM_DEAL}': changed (" in out
    assert models.FixtureState.objects.count() == 54  # every fixture record but the editor's deal


@pytest.mark.django_db
def test_a_second_load_writes_no_bookkeeping_either(dataset):
    load(dataset)
    states = sorted(models.FixtureState.objects.values_list("model", "slug", "digest", "written"))
    assert len(states) == 55
    assert "nothing changed" in load(dataset)
    assert sorted(models.FixtureState.objects.values_list("model", "slug", "digest", "written")) == states


@pytest.mark.django_db
def test_a_renamed_record_is_recognised_and_left_alone(dataset, editor):
    load(dataset)
    lyten = models.Company.objects.get(slug="lyten")
    lyten.slug = "lyten-inc"
    lyten._history_user = editor
    lyten.save()
    out = load(dataset)
    assert not models.Company.objects.filter(slug="lyten").exists()  # not re-created under the old slug
    assert "company 'lyten': changed (slug) by alice" in out


@pytest.mark.django_db
def test_a_record_left_alone_gets_no_version_and_no_new_updated_from_the_loaders_trial_write(dataset, editor):
    """The loader compares a changed record with the fixture by writing the fixture's version in a savepoint and
    rolling it back; nothing of that trial (a history version, a moved ``updated``) may outlive the rollback."""
    load(dataset)
    editor_enriches_gm_deal(editor)
    deal = models.Deal.objects.get(slug=GM_DEAL)
    versions, updated = deal.history.count(), deal.updated
    edit(dataset, RECORDS_002, "title: GM's magnet offtake with Noveon", "title: GM magnet offtake (fixture edit)")
    assert f"deal '{GM_DEAL}': changed" in load(dataset)
    deal.refresh_from_db()
    assert deal.history.count() == versions
    assert deal.updated == updated
    assert deal.title == "GM's magnet offtake with Noveon"


@pytest.mark.django_db
def test_a_withdrawal_is_an_editors_change_named_in_the_report_and_kept(dataset, editor):
    from deals.services.publication import record_withdraw

    load(dataset)
    deal = models.Deal.objects.get(slug=GM_DEAL)
    deal._history_user = editor
    record_withdraw(record=deal, reason="Entered by mistake.")
    out = load(dataset)
    assert f"deal '{GM_DEAL}': changed (" in out and "publication_status" in out and "by alice" in out
    deal.refresh_from_db()
    assert deal.publication_status == models.PublicationStatus.WITHDRAWN
    # --overwrite takes the fixture's lifecycle too: the record is published again.
    load(dataset, "--overwrite", f"deal:{GM_DEAL}")
    deal.refresh_from_db()
    assert deal.publication_status == models.PublicationStatus.PUBLISHED and deal.withdrawn_reason == ""
