"""export_dataset: the database written back in the fixtures' canonical form, byte for byte, and loadable again."""

import datetime
import filecmp
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from deals import models
from deals.services.dataset_state import TRACKED, record_snapshots
from tests.factories import CompanyFactory

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


def export(path: Path) -> str:
    out = StringIO()
    call_command("export_dataset", "--path", str(path), stdout=out)
    return out.getvalue()


def everything() -> dict[str, dict]:
    """Every record with its values, relations and evidence, keyed by model and slug (no ids, no timestamps)."""
    out = {}
    for model in TRACKED:
        pks = list(model.objects.values_list("pk", flat=True))
        for snap in record_snapshots(model=model, pks=pks).values():
            out[f"{model._meta.model_name}:{snap['values']['slug']}"] = snap
    return out


def wipe() -> None:
    """Empty every dataset table, parents last (PROTECT foreign keys are cleared first)."""
    models.Evidence.objects.all().delete()
    models.DealParty.objects.all().delete()
    models.FacilityCompany.objects.all().delete()
    for model in (models.Deal, models.Facility, models.Company):
        model.objects.update(merged_into=None)
    models.Deal.objects.all().delete()
    models.Facility.objects.all().delete()
    models.Company.objects.update(parent=None)
    models.Company.objects.all().delete()
    models.Commodity.objects.update(parent=None)
    models.Commodity.objects.all().delete()
    models.Source.objects.all().delete()
    models.FixtureState.objects.all().delete()


@pytest.mark.django_db
def test_an_export_after_a_fresh_load_reproduces_the_fixtures_byte_for_byte(tmp_path):
    call_command("load_dataset", stdout=StringIO())
    out = export(tmp_path / "dataset")
    names = sorted(p.name for p in (FIXTURES / "dataset").iterdir())
    assert sorted(p.name for p in (tmp_path / "dataset").iterdir()) == names
    for name in names:
        exported = (tmp_path / "dataset" / name).read_bytes()
        assert exported == (FIXTURES / "dataset" / name).read_bytes(), name
    # The raw documents are copied next to it, byte for byte, as fixtures/sources/ holds them.
    raw = sorted(p.name for p in (FIXTURES / "sources").iterdir())
    assert sorted(p.name for p in (tmp_path / "sources").iterdir()) == raw
    assert all(filecmp.cmp(tmp_path / "sources" / n, FIXTURES / "sources" / n, shallow=False) for n in raw)
    assert "sources.yaml: 3 record(s)" in out


@pytest.mark.django_db
def test_loading_an_export_into_an_empty_database_gives_back_everything(tmp_path):
    call_command("load_dataset", stdout=StringIO())
    # An editor's work: a draft without evidence, a withdrawn record, a merged duplicate, a changed deal summary with
    # a new quote (the old quotes become claims).
    CompanyFactory(slug="an-editors-draft", name="An editor's draft", publication_status="draft", country="")
    models.Company.objects.filter(slug="lyten").update(
        publication_status="withdrawn",
        withdrawn_reason="Duplicate of another record.",
        withdrawn_at=datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC),
    )
    CompanyFactory(
        slug="sk-inc-duplicate",
        name="SK Inc",
        country="",
        publication_status="withdrawn",
        withdrawn_reason="Merged into sk-inc.",
        withdrawn_at=datetime.datetime(2026, 12, 1, 13, 0, tzinfo=datetime.UTC),
        merged_into=models.Company.objects.get(slug="sk-inc"),
    )
    # The deal's summary changes, backed by a new quote: the old quotes become claims of the old summary.
    deal = models.Deal.objects.get(slug="gm-offtake-with-noveon")
    old_summary = deal.summary
    models.Deal.objects.filter(pk=deal.pk).update(summary="GM agreed a magnet offtake with Noveon.")
    source = models.Source.objects.get(slug="rare-earth-update-2025-09-08-12")
    quote = "Pakistan signed $500 million in agreements with U.S. firms"
    start = source.text.index(quote)
    models.Evidence.objects.create(
        source=source,
        deal=deal,
        quote=quote,
        start=start,
        end=start + len(quote),
        fields=["summary"],
        values={"summary": "GM agreed a magnet offtake with Noveon."},
        note="An editor's second quote.",
    )
    claims = [ev for ev in deal.evidence.all() if ev.values.get("summary") == old_summary]
    assert claims, "the fixture's quotes of the summary should now be claims of the old one"
    before = everything()
    export(tmp_path / "dataset")
    assert "publication_status: draft" in (tmp_path / "dataset" / "no-evidence.yaml").read_text(encoding="utf-8")
    assert '"summary": "' + old_summary + '"' in (
        tmp_path / "dataset" / "rare-earth-update-2025-09-08-12.yaml"
    ).read_text(encoding="utf-8")

    wipe()
    assert everything() == {}
    call_command("load_dataset", "--path", str(tmp_path / "dataset"), stdout=StringIO())

    after = everything()
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == before[key], key
    assert before["company:sk-inc-duplicate"]["values"]["merged_into"] == "sk-inc"
    assert len(before) == 57


@pytest.mark.django_db
def test_export_refuses_a_path_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(CommandError, match="is not a directory"):
        export(tmp_path / "file")
