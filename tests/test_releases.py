"""Dataset releases (deals/services/releases.py, release_tables.py, release_load.py; manage.py dataset_release):
Frictionless validity, a lossless round trip into an empty database, refusal of a no-change release, CHANGES.json,
drafts kept out, immutability."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from deals.citation import citation_metadata_get, citation_text_get
from deals.coverage import record_coverage
from deals.models import (
    Commodity,
    Company,
    DatasetRelease,
    Deal,
    DealParty,
    Evidence,
    Facility,
    FacilityCompany,
    PublicationStatus,
    ReleaseFile,
    Source,
)
from deals.services.publication import record_merge, record_withdraw
from deals.services.release_load import ReleaseLoadError, release_load
from deals.services.release_tables import release_tables, table_schema
from deals.services.releases import ReleaseRefused, release_create, release_data
from tests.factories import CompanyFactory, DealFactory, DealPartyFactory, EvidenceFactory, FacilityFactory

pytestmark = pytest.mark.django_db
BASE_URL = "https://reexapi.example.org"
FRICTIONLESS = Path(sys.executable).with_name("frictionless")


@pytest.fixture
def dataset():
    call_command("load_dataset", stdout=StringIO())


def _files(release: DatasetRelease) -> dict[str, bytes]:
    return {f.name: bytes(f.content) for f in release.files.order_by("position")}


def _write(release: DatasetRelease, path: Path) -> Path:
    for name, content in _files(release).items():
        (path / name).write_bytes(content)
    return path


def _csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))


def _records(content: bytes) -> dict[tuple[str, str], dict]:
    return {(e["type"], e["slug"]): e["record"] for e in map(json.loads, content.decode().splitlines())}


def test_a_release_of_the_fixtures_is_a_valid_frictionless_v2_package(dataset, tmp_path):
    release = release_create(base_url=BASE_URL)
    path = _write(release, tmp_path)
    result = subprocess.run(
        [str(FRICTIONLESS), "validate", "--json", str(path / "datapackage.json")],
        capture_output=True,
        text=True,
        cwd=path,
    )
    report = json.loads(result.stdout)
    assert report["valid"] is True, json.dumps(report["tasks"], indent=1)[:3000]
    assert result.returncode == 0
    assert len(report["tasks"]) == 14  # every CSV, foreign keys and hashes included
    package = json.loads((path / "datapackage.json").read_text())
    assert package["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert package["version"] == release.version
    assert package["licenses"] == [
        {
            "name": "CC-BY-4.0",
            "path": "https://creativecommons.org/licenses/by/4.0/",
            "title": "Creative Commons Attribution 4.0 International",
        }
    ]
    # The project's one citation (CITATION.cff via deals/citation.py), with this release's version.
    citation = citation_text_get(url=BASE_URL + "/", version=release.version)
    assert package["citation"] == release.metadata["citation"] == citation
    assert f"Version {release.version}." in citation and citation.startswith("ReexAPI editors. ")
    assert package["title"] == citation_metadata_get()["title"]
    assert package["contributors"] == [{"title": "ReexAPI editors", "roles": ["creator", "publisher"]}]
    # sha256sum -c accepts the checksums file, as the curl recipe in docs/data.md uses it.
    check = subprocess.run(["sha256sum", "-c", "checksums.sha256"], capture_output=True, text=True, cwd=path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == len(release.files.all()) - 1


def test_frictionless_catches_a_broken_foreign_key(dataset, tmp_path):
    # Guards the test above: the validator really checks the references (and the hashes).
    path = _write(release_create(base_url=BASE_URL), tmp_path)
    parties = (path / "deal_parties.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    deal, _company, role = parties[1].rstrip("\r\n").split(",")
    parties[1] = f"{deal},no-such-company,{role}\r\n"
    (path / "deal_parties.csv").write_text("".join(parties), encoding="utf-8", newline="")
    result = subprocess.run(
        [str(FRICTIONLESS), "validate", "--json", "datapackage.json"], capture_output=True, text=True, cwd=path
    )
    report = json.loads(result.stdout)
    assert report["valid"] is False
    errors = {e["type"] for task in report["tasks"] for e in task["errors"]}
    assert {"foreign-key", "hash-count"} <= errors


def test_table_schemas_come_from_the_models():
    schemas = {table.name: table_schema(table) for table in release_tables()}
    deal_fields = {f["name"]: f for f in schemas["deals"]["fields"]}
    assert deal_fields["deal_type"]["constraints"]["enum"] == list(Deal.Type.values)
    assert deal_fields["summary"]["description"] == Deal._meta.get_field("summary").help_text
    assert deal_fields["amount"]["type"] == "number"
    assert deal_fields["countries"]["type"] == "array"
    assert deal_fields["slug"]["constraints"] == {
        "required": True,
        "unique": True,
        "maxLength": Deal._meta.get_field("slug").max_length,
        "pattern": "[-a-zA-Z0-9_]+",
    }
    assert "publication_status" not in deal_fields
    # The deal terms: help texts, choices and the bounds of their constraints.
    assert deal_fields["unit_price"]["description"] == Deal._meta.get_field("unit_price").help_text
    assert deal_fields["unit_price"]["type"] == "number"
    assert deal_fields["unit_price_unit"]["constraints"]["enum"] == list(Deal.PriceUnit.values)
    assert deal_fields["instrument"]["constraints"]["enum"] == list(Deal.Instrument.values)
    assert deal_fields["unit_price_currency"]["constraints"]["pattern"] == "[A-Z]{3}"
    assert deal_fields["term_length"] == {
        "name": "term_length",
        "type": "integer",
        "description": Deal._meta.get_field("term_length").help_text,
        "constraints": {"minimum": 1},
    }
    assert deal_fields["output_share_percent"]["constraints"] == {"maximum": 100}
    assert schemas["deal_parties"]["primaryKey"] == ["deal", "company", "role"]
    assert {"fields": ["company"], "reference": {"fields": ["slug"], "resource": "companies"}} in schemas[
        "deal_parties"
    ]["foreignKeys"]
    evidence_fields = {f["name"]: f for f in schemas["evidence"]["fields"]}
    assert evidence_fields["start"]["constraints"] == {"required": True, "minimum": 0}
    assert evidence_fields["fields"]["type"] == "array"
    assert evidence_fields["values"]["type"] == "object"
    source_fields = {f["name"]: f for f in schemas["sources"]["fields"]}
    assert source_fields["text_sha256"]["constraints"]["pattern"] == "[0-9a-f]{64}"


def _empty_the_dataset() -> None:
    Evidence.objects.all().delete()
    DealParty.objects.all().delete()
    FacilityCompany.objects.all().delete()
    Deal.objects.update(merged_into=None)
    Deal.objects.all().delete()
    Facility.objects.update(merged_into=None)
    Facility.objects.all().delete()
    Company.objects.update(merged_into=None, parent=None)
    Company.objects.all().delete()
    Source.objects.all().delete()
    Commodity.objects.update(parent=None)
    Commodity.objects.all().delete()


def test_a_release_loaded_into_an_empty_database_reproduces_the_published_dataset(dataset):
    # A licensed source (its text travels) and a quote stating a draft parent (left out, in the API as in the CSVs).
    Source.objects.filter(pk=Evidence.objects.order_by("pk").first().source_id).update(redistribution_licensed=True)
    child = Company.objects.public().order_by("slug").first()
    child.parent = CompanyFactory(slug="draftparent", publication_status=PublicationStatus.DRAFT)
    child.save()
    EvidenceFactory(deal=None, company=child, source=Evidence.objects.first().source, fields=["parent"])
    release = release_create(base_url=BASE_URL)
    files = _files(release)
    _empty_the_dataset()
    assert release_data(base_url=BASE_URL).counts["deals"] == 0

    counts = release_load(files=files)

    assert counts == {k: v for k, v in release.metadata["counts"].items() if k != "tombstones"}
    assert counts["evidence"] == 63
    assert Source.objects.filter(redistribution_licensed=True, text__gt="").count() == 1
    again = release_data(base_url=BASE_URL).files
    # Every table, row for row and cell for cell: records, relations (links, roles) and evidence (quotes, offsets,
    # fields, values), with their own timestamps.
    for name, content in files.items():
        if name.endswith(".csv"):
            assert again[name].decode().splitlines() == content.decode().splitlines(), name
    # Each record exactly as the API shows it: a source's text (null unless licensed) included.
    before, after = _records(files["records.jsonl"]), _records(again["records.jsonl"])
    assert before.keys() == after.keys()
    assert sum(1 for key, record in before.items() if key[0] == "source" and record["text"]) == 1
    for key, record in before.items():
        assert after[key] == record, key
    assert len([k for k in before if k[0] == "deal"]) == Deal.objects.count()


def test_loading_refuses_a_database_that_is_not_empty(dataset):
    files = _files(release_create(base_url=BASE_URL))
    with pytest.raises(ReleaseLoadError, match="not empty"):
        release_load(files=files)


def test_a_second_release_with_nothing_changed_is_refused(dataset):
    first = release_create(base_url=BASE_URL)
    with pytest.raises(ReleaseRefused, match=f"Nothing changed since release {first.version}"):
        release_create(base_url=BASE_URL)
    assert DatasetRelease.objects.count() == 1
    assert ReleaseFile.objects.count() == len(_files(first))


def test_the_command_exits_1_with_a_clear_message_when_nothing_changed(dataset):
    out = StringIO()
    call_command("dataset_release", "--base-url", BASE_URL, stdout=out)
    assert "datapackage.json" in out.getvalue() and "checksums.sha256" in out.getvalue()
    with pytest.raises(CommandError, match="Nothing changed since release") as caught:
        call_command("dataset_release", "--base-url", BASE_URL, stdout=StringIO())
    assert caught.value.returncode == 1


def test_versions_count_the_releases_of_the_day_and_numbers_increase(dataset):
    first = release_create(base_url=BASE_URL)
    deal = Deal.objects.public().order_by("slug").first()
    deal.title += " (corrected)"
    deal.save()
    second = release_create(base_url=BASE_URL)
    day = first.created.strftime("%Y.%m.%d")
    assert (first.version, second.version) == (f"{day}.1", f"{day}.2")
    assert (first.number, second.number) == (1, 2)


def test_changes_after_an_edit_a_withdrawal_and_a_merge(dataset):
    first = release_create(base_url=BASE_URL)
    first_changes = json.loads(_files(first)["CHANGES.json"])
    assert first_changes["previous_version"] is None
    assert len(first_changes["added"]) == len(_records(_files(first)["records.jsonl"]))

    edited, withdrawn, duplicate, survivor = Deal.objects.public().order_by("slug")[:4]
    edited.title = "A corrected title"
    edited.save()
    record_withdraw(record=withdrawn, reason="Duplicate report of another deal.")
    record_merge(duplicate=duplicate, survivor=survivor)
    second = release_create(base_url=BASE_URL)
    changes = json.loads(_files(second)["CHANGES.json"])

    assert changes["version"] == second.version and changes["previous_version"] == first.version
    assert changes["added"] == [] and changes["removed"] == []
    changed = {(c["type"], c["slug"]): c["fields"] for c in changes["changed"]}
    assert "title" in changed[("deal", edited.slug)]
    assert "updated" in changed[("deal", edited.slug)]
    assert ("deal", survivor.slug) in changed  # it took over the duplicate's evidence and links
    assert [(w["slug"], w["reason"]) for w in changes["withdrawn"]] == [
        (withdrawn.slug, "Duplicate report of another deal.")
    ]
    assert [(m["slug"], m["merged_into"]) for m in changes["merged"]] == [(duplicate.slug, survivor.slug)]
    tombstones = {row["slug"]: row for row in _csv(_files(second)["tombstones.csv"])}
    assert tombstones[duplicate.slug]["merged_into"] == survivor.slug
    assert tombstones[withdrawn.slug]["withdrawn_reason"] == "Duplicate report of another deal."
    deals = {row["slug"] for row in _csv(_files(second)["deals.csv"])}
    assert withdrawn.slug not in deals and duplicate.slug not in deals


def test_drafts_never_appear_anywhere_in_a_release(dataset, client):
    published = Deal.objects.public().order_by("slug").first()
    draft = PublicationStatus.DRAFT
    draft_company = CompanyFactory(slug="draftsecretco", name="Draftsecret Holdings", publication_status=draft)
    DealPartyFactory(deal=published, company=draft_company)
    draft_deal = DealFactory(slug="draftsecretdeal", title="Draftsecret deal", publication_status=draft)
    EvidenceFactory(deal=draft_deal)  # its source is cited by the draft only: not public either
    draft_facility = FacilityFactory(slug="draftsecretplant", name="Draftsecret plant", publication_status=draft)
    FacilityCompany.objects.create(facility=draft_facility, company=Company.objects.public().first(), role="owner")
    published.facilities.add(draft_facility)
    survivor_draft = DealFactory(slug="draftsecretsurvivor", title="Draftsecret", publication_status=draft)
    merged = Deal.objects.public().order_by("slug").last()
    record_merge(duplicate=merged, survivor=survivor_draft)
    # A published company whose parent is a draft, with a quote stating that parent (field_provenance, evidence).
    child = Company.objects.public().order_by("slug").first()
    child.parent = CompanyFactory(slug="draftsecretparent", name="Draftsecret Parent", publication_status=draft)
    child.save()
    quote = EvidenceFactory(deal=None, company=child, source=Evidence.objects.first().source, fields=["parent"])
    assert quote.values == {"parent": "draftsecretparent"}

    release = release_create(base_url=BASE_URL)

    for name, content in _files(release).items():
        low = content.lower()
        assert b"draftsecret" not in low, (
            name,
            low[max(0, low.find(b"draftsecret") - 300) : low.find(b"draftsecret") + 100],
        )
    record = _records(_files(release)["records.jsonl"])[("company", child.slug)]
    assert record["parent"] is None and "parent" not in {f["field"] for f in record["field_provenance"]}
    assert any(p["fields"] == ["parent"] for p in record["provenance"])  # the quote itself is public
    evidence = {int(row["id"]): row for row in _csv(_files(release)["evidence.csv"])}
    assert json.loads(evidence[quote.pk]["values"]) == {} and json.loads(evidence[quote.pk]["fields"]) == ["parent"]
    # The API's detail, which records.jsonl is made from, says the same; editors still see the draft parent.
    detail = client.get(f"/api/v1/companies/{child.slug}/")
    assert detail.status_code == 200 and b"draftsecret" not in detail.content.lower()
    editors = {cov.name: cov for cov in record_coverage(record=child)}
    assert editors["parent"].value == "draftsecretparent" and editors["parent"].quotes == [quote]
    # Merged into a draft: the API answers 404 for it (not 301), so it is no tombstone either.
    assert merged.slug not in {row["slug"] for row in _csv(_files(release)["tombstones.csv"])}
    assert client.get(f"/api/v1/deals/{merged.slug}/").status_code == 404


def test_a_reference_to_a_draft_is_empty_in_the_tables(dataset):
    child = Company.objects.public().order_by("slug").first()
    child.parent = CompanyFactory(slug="draftsecretco", publication_status=PublicationStatus.DRAFT)
    child.save()
    files = _files(release_create(base_url=BASE_URL))
    companies = {row["slug"]: row for row in _csv(files["companies.csv"])}
    assert companies[child.slug]["parent"] == ""
    for name, content in files.items():
        if name.endswith(".csv"):
            assert b"draftsecret" not in content, name


def test_source_text_is_in_the_release_only_where_licensed(dataset):
    sources = list(Source.objects.filter(evidence__isnull=False).distinct().order_by("slug"))
    assert len(sources) >= 2 and not any(s.redistribution_licensed for s in sources)
    licensed, unlicensed = sources[0], sources[1:]
    Source.objects.filter(pk=licensed.pk).update(redistribution_licensed=True)
    files = _files(release_create(base_url=BASE_URL))

    rows = {row["slug"]: row for row in _csv(files["sources.csv"])}
    records = _records(files["records.jsonl"])
    assert rows[licensed.slug]["text"] == licensed.text and rows[licensed.slug]["redistribution_licensed"] == "true"
    assert records[("source", licensed.slug)]["text"] == licensed.text
    for source in unlicensed:
        assert rows[source.slug]["text"] == "" and rows[source.slug]["redistribution_licensed"] == "false"
        assert records[("source", source.slug)]["text"] is None
        # Nothing else carries it either (a passage longer than any quote, from the middle of the text).
        middle = source.text[len(source.text) // 2 :][:400].encode()
        assert all(middle not in content for content in files.values())
    assert all(len(row["text_sha256"]) == 64 and row["raw_sha256"] for row in rows.values())


def test_a_release_never_changes(dataset):
    release = release_create(base_url=BASE_URL)
    file = release.files.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        DatasetRelease.objects.filter(pk=release.pk).update(version="2000.01.01.1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReleaseFile.objects.filter(pk=file.pk).update(content=b"tampered")
    with pytest.raises(IntegrityError), transaction.atomic():
        release.metadata = {}
        release.save()
    release.refresh_from_db()
    assert release.version.endswith(".1") and release.metadata["counts"]
