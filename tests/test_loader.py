"""The dataset loader: idempotent, updates edited records, and writes nothing when any quote or reference is bad."""

import hashlib
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from deals import models
from deals.coverage import evidence_values_take
from deals.services.sources import source_text_prepare
from tests.factories import CompanyFactory

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
RECORDS_002 = "rare-earth-update-2025-09-08-12.yaml"
RECORDS_000 = "reex-2025-08-22-us-battery-firms-heading-overseas.yaml"
MODELS = [
    models.Source,
    models.Commodity,
    models.Company,
    models.Facility,
    models.Deal,
    models.DealParty,
    models.FacilityCompany,
    models.Evidence,
]


@pytest.fixture
def dataset(tmp_path) -> Path:
    """A scratch copy of the dataset (and the raw sources it points at) that a test may edit."""
    shutil.copytree(FIXTURES / "dataset", tmp_path / "dataset")
    shutil.copytree(FIXTURES / "sources", tmp_path / "sources")
    return tmp_path / "dataset"


def load(path: Path) -> str:
    out = StringIO()
    call_command("load_dataset", "--path", str(path), stdout=out)
    return out.getvalue()


def edit(path: Path, name: str, old: str, new: str) -> None:
    file = path / name
    text = file.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {name}"
    file.write_text(text.replace(old, new), encoding="utf-8")


def snapshot() -> dict:
    """Every row's primary key and timestamp, plus history counts: what a no-op load must leave untouched."""
    state = {}
    for model in MODELS:
        columns = ["pk"] + (["updated"] if hasattr(model, "updated") else [])
        state[model.__name__] = sorted(model.objects.values_list(*columns))
        state[f"{model.__name__} history"] = model.history.count()
    return state


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS} | {
        f"{model.__name__} history": model.history.count() for model in MODELS
    }


@pytest.mark.django_db
def test_second_load_changes_nothing(dataset):
    first = load(dataset)
    assert "62 created" in first
    before = snapshot()
    second = load(dataset)
    assert "nothing changed" in second
    assert snapshot() == before


@pytest.mark.django_db
def test_every_history_row_carries_the_load_reason(dataset):
    load(dataset)
    for model in MODELS:
        reasons = set(model.history.values_list("history_change_reason", flat=True))
        assert reasons == {"load_dataset"}, model.__name__


@pytest.mark.django_db
def test_edited_fixture_updates_only_its_record(dataset):
    load(dataset)
    lyten = models.Company.objects.get(slug="lyten")
    others = dict(models.Company.objects.exclude(slug="lyten").values_list("slug", "updated"))
    history_before = lyten.history.count()
    edit(
        dataset,
        RECORDS_000,
        "description: U.S. firm that, like Group14, has made offshore moves.",
        "description: U.S. firm that has made offshore moves.",
    )
    out = load(dataset)
    assert "company: 24 (0 created, 1 updated, 23 unchanged, 0 deleted)" in out
    lyten.refresh_from_db()
    assert lyten.description == "U.S. firm that has made offshore moves."
    assert lyten.history.count() == history_before + 1
    assert lyten.history.first().history_change_reason == "load_dataset"
    assert dict(models.Company.objects.exclude(slug="lyten").values_list("slug", "updated")) == others


@pytest.mark.django_db
def test_dropped_evidence_and_party_are_deleted(dataset):
    load(dataset)
    deal = models.Deal.objects.get(slug="gm-offtake-with-noveon")
    assert deal.evidence.count() == 2
    kept_pks = set(deal.evidence.filter(quote__contains="offtake with Noveon").values_list("pk", flat=True))
    # Drop the deal's last evidence item (the file's last lines), and the stages and commodities only it supports:
    # the loader refuses a filled field that no quote supports.
    file = dataset / RECORDS_002
    text = file.read_text(encoding="utf-8")
    start = text.index(
        """      - quote: "OEMs are locking down magnet supply chains""", text.index("slug: gm-offtake-with-noveon")
    )
    file.write_text(text[:start], encoding="utf-8")
    edit(
        dataset,
        RECORDS_002,
        "    stages: [magnets]\n    commodities: [permanent-magnets]\n    parties:\n      - {company: gm",
        "    parties:\n      - {company: gm",
    )
    edit(dataset, RECORDS_002, "      - {company: noveon, role: supplier}\n", "")
    out = load(dataset)
    # The kept quote is updated: it now states the parties without Noveon (its snapshot follows the fixture).
    assert "evidence: 61 (0 created, 1 updated, 60 unchanged, 1 deleted)" in out
    assert set(deal.evidence.values_list("pk", flat=True)) == kept_pks
    assert deal.evidence.get().values["parties"] == [["gm", "buyer"]]
    assert list(deal.party_links.values_list("company__slug", "role")) == [("gm", "buyer")]
    assert models.DealParty.history.filter(history_type="-", history_change_reason="load_dataset").count() == 1


@pytest.mark.django_db
def test_records_outside_the_fixture_are_left_alone(dataset):
    editor_company = CompanyFactory(slug="added-by-an-editor")
    load(dataset)
    assert models.Company.objects.filter(pk=editor_company.pk).exists()


def assert_aborts(path: Path, *fragments: str) -> None:
    """The load fails naming every fragment, and the database (rows and history) is exactly as before."""
    before = row_counts()
    with pytest.raises(CommandError) as info:
        load(path)
    message = str(info.value)
    assert "Nothing was loaded" in message
    for fragment in fragments:
        assert fragment in message
    assert row_counts() == before


@pytest.mark.django_db
def test_bad_quote_aborts_naming_record_and_quote(dataset):
    edit(dataset, RECORDS_002, '"Torngat Metals of Canada"', '"Torngat Metals of Quebec"')
    assert_aborts(dataset, "company 'torngat-metals'", "Torngat Metals of Quebec", "does not occur")
    assert models.Source.objects.count() == 0


@pytest.mark.django_db
def test_bad_quote_leaves_a_loaded_database_untouched(dataset):
    load(dataset)
    before = snapshot()
    edit(dataset, RECORDS_002, "description: Owner of the Narva, Estonia magnet plant.", "description: Changed.")
    edit(dataset, RECORDS_002, '"GM’s offtake with Noveon (opens in a new tab)"', '"GM’s offtake with Novion"')
    assert_aborts(dataset, "deal 'gm-offtake-with-noveon'", "GM’s offtake with Novion")
    assert snapshot() == before
    assert models.Company.objects.get(slug="neo-performance-materials").description != "Changed."


@pytest.mark.django_db
def test_broken_slug_reference_aborts(dataset):
    edit(dataset, RECORDS_002, "{company: noveon, role: supplier}", "{company: noveon-inc, role: supplier}")
    edit(dataset, RECORDS_002, "facilities: [strange-lake-deposit]", "facilities: [strange-lake]")
    assert_aborts(
        dataset,
        "deal 'gm-offtake-with-noveon': parties: unknown company slug 'noveon-inc'",
        "deal 'torngat-metals-vac-dysprosium-terbium-mou': facilities: unknown facility slug 'strange-lake'",
    )
    assert models.Deal.objects.count() == 0


@pytest.mark.django_db
def test_unknown_evidence_source_aborts(dataset):
    edit(dataset, RECORDS_000, "source: reex-2025-08-22-us-battery-firms-heading-overseas", "source: no-such-source")
    assert_aborts(dataset, "unknown source slug 'no-such-source'", "company 'group14-technologies'")


@pytest.mark.django_db
def test_ambiguous_quote_aborts_and_an_occurrence_resolves_it(dataset):
    edit(dataset, RECORDS_000, '- quote: "The deal gives Group14 direct control"', '- quote: "Group14"')
    assert_aborts(dataset, "company 'group14-technologies'", "'Group14'", "choose an occurrence")
    edit(dataset, RECORDS_000, '- quote: "Group14"', '- quote: "Group14"\n        occurrence: 4')
    load(dataset)
    evidence = models.Evidence.objects.get(company__slug="group14-technologies", quote="Group14")
    text = evidence.source.text
    assert text[evidence.start : evidence.end] == "Group14"
    assert text.count("Group14", 0, evidence.start) == 3


@pytest.mark.django_db
def test_unknown_choice_value_aborts(dataset):
    edit(dataset, RECORDS_002, "deal_type: offtake", "deal_type: supply_deal")
    edit(dataset, RECORDS_002, "{company: gm, role: buyer}", "{company: gm, role: customer}")
    assert_aborts(
        dataset,
        "deal 'gm-offtake-with-noveon': deal_type: Value 'supply_deal' is not a valid choice.",
        "unknown role 'customer'",
    )


@pytest.mark.django_db
def test_model_clean_rules_apply(dataset):
    edit(dataset, RECORDS_002, "planned_start: 2027-01-01", "planned_start: 2027-03-15")
    edit(dataset, RECORDS_002, "    status: non_binding\n", "    status: signed\n")
    assert_aborts(
        dataset,
        "facility 'js-link-columbus-ndfeb-magnet-plant': planned_start: A year-precision date is stored as 1 January",
        "deal 'torngat-metals-vac-dysprosium-terbium-mou': status: An MOU is non-binding",
    )


@pytest.mark.django_db
def test_unknown_evidence_field_and_missing_evidence_abort(dataset):
    edit(
        dataset,
        RECORDS_002,
        "        fields: [name, country]\n        note: The document gives only the initials",
        "        fields: [name, headquarters]\n        note: The document gives only the initials",
    )
    edit(
        dataset,
        RECORDS_002,
        """    evidence:
      - quote: "agreements with U.S. firms, including US Strategic Metals,"
        fields: [name, kind, country]
""",
        "",
    )
    assert_aborts(
        dataset,
        "company 'vac': evidence #1",
        "not fields of company: headquarters",
        "company 'us-strategic-metals': no evidence",
    )


@pytest.mark.django_db
def test_source_digests_are_computed_from_the_raw_file(dataset):
    raw = dataset.parent / "sources" / "000_f11ad8fbfb134859.txt"
    raw.chmod(0o644)
    raw.write_bytes(raw.read_bytes() + b"\n\n\n")
    load(dataset)
    source = models.Source.objects.get(slug="reex-2025-08-22-us-battery-firms-heading-overseas")
    assert source.raw_sha256 == hashlib.sha256(raw.read_bytes()).hexdigest()
    assert source.text_sha256 == hashlib.sha256(source.text.encode("utf-8")).hexdigest()
    assert source.original_filename == "000_f11ad8fbfb134859.txt"
    # The appended blank lines change the raw digest but not the normalised text.
    assert source.raw_sha256 != hashlib.sha256((FIXTURES / "sources" / raw.name).read_bytes()).hexdigest()
    assert source.text == source_text_prepare(raw=(FIXTURES / "sources" / raw.name).read_bytes()).text


# --- Stored evidence that a changed source text would break ----------------------------------------------------------

SOURCE_000 = "reex-2025-08-22-us-battery-firms-heading-overseas"
RAW_000 = "000_f11ad8fbfb134859.txt"


def _editor_evidence(quote: str) -> models.Evidence:
    """Evidence an editor added, on source 000, for a company that is not in the fixtures."""
    source = models.Source.objects.get(slug=SOURCE_000)
    start = source.text.index(quote)
    company = CompanyFactory(slug="added-by-an-editor", name="Added by an editor")
    return models.Evidence.objects.create(
        source=source,
        company=company,
        quote=quote,
        start=start,
        end=start + len(quote),
        fields=["name", "kind", "country"],
        values=evidence_values_take(record=company, fields=["name", "kind", "country"]),
    )


def _rewrite_raw(dataset: Path, change) -> None:
    raw = dataset.parent / "sources" / RAW_000
    raw.chmod(0o644)
    raw.write_bytes(change(raw.read_bytes()))


@pytest.mark.django_db
def test_a_changed_source_text_that_moves_an_editors_quote_aborts(dataset):
    load(dataset)
    evidence = _editor_evidence("has shifted the bulk of its manufacturing to South Korea")
    text_before = models.Source.objects.get(slug=SOURCE_000).text
    # A line added at the top moves every offset: the fixture quotes are located again, the editor's row is not.
    _rewrite_raw(dataset, lambda raw: b"A corrected preface.\n\n" + raw)
    assert_aborts(
        dataset,
        f"source '{SOURCE_000}'",
        f"evidence #{evidence.pk} of company 'added-by-an-editor'",
        "'has shifted the bulk of its manufacturing to South Korea'",
    )
    assert models.Source.objects.get(slug=SOURCE_000).text == text_before
    assert call_command("verify_provenance", stdout=StringIO()) is None


@pytest.mark.django_db
def test_a_changed_source_text_that_keeps_an_editors_quote_in_place_loads(dataset):
    load(dataset)
    _editor_evidence("has shifted the bulk of its manufacturing to South Korea")
    _rewrite_raw(dataset, lambda raw: raw + b"\n\nA corrected footnote.\n")
    out = load(dataset)
    assert "source: 3 (0 created, 1 updated" in out
    assert models.Source.objects.get(slug=SOURCE_000).text.endswith("A corrected footnote.")
    call_command("verify_provenance", stdout=StringIO())


# --- Bad fixtures are reported naming the record, never a traceback --------------------------------------------------


@pytest.mark.django_db
def test_two_sources_with_the_same_raw_file_abort(dataset):
    with (dataset / "sources.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"\n- slug: a-second-copy\n  file: ../sources/{RAW_000}\n  title: A second copy\n  kind: analysis\n")
    assert_aborts(
        dataset,
        f"source 'a-second-copy': file: {RAW_000} is the same raw document as source '{SOURCE_000}'",
    )


@pytest.mark.django_db
def test_two_commodities_with_the_same_name_abort(dataset):
    with (dataset / "commodities.yaml").open("a", encoding="utf-8") as fh:
        fh.write("\n- slug: dysprosium-again\n  name: Dysprosium\n  kind: element\n")
    assert_aborts(
        dataset, "commodity 'dysprosium-again': name: 'Dysprosium' is already the name of commodity 'dysprosium'"
    )


@pytest.mark.django_db
def test_a_commodity_named_like_a_stored_one_aborts(dataset):
    load(dataset)
    models.Commodity.objects.create(slug="sc", name="Scandium", kind="element")
    with (dataset / "commodities.yaml").open("a", encoding="utf-8") as fh:
        fh.write("\n- slug: scandium\n  name: Scandium\n  kind: element\n")
    assert_aborts(
        dataset, "commodity 'scandium': name: 'Scandium' is already the name of commodity 'sc' in the database"
    )


@pytest.mark.django_db
def test_a_parent_given_as_a_list_aborts(dataset):
    edit(dataset, RECORDS_002, "parent: united-states-government", "parent: [united-states-government]")
    edit(
        dataset,
        "commodities.yaml",
        "  parent: critical-minerals\n  description: The lanthanides",
        "  parent: [critical-minerals]\n  description: The lanthanides",
    )
    assert_aborts(
        dataset,
        "company 'us-department-of-defense': parent: must be a single slug, got ['united-states-government']",
        "commodity 'rare-earth-elements': parent: must be a single slug, got ['critical-minerals']",
    )


@pytest.mark.django_db
def test_other_references_given_as_lists_abort(dataset):
    edit(dataset, RECORDS_002, "{company: gm, role: buyer}", "{company: [gm], role: buyer}")
    edit(
        dataset, RECORDS_002, "source: rare-earth-update-2025-09-08-12\n", "source: [rare-earth-update-2025-09-08-12]\n"
    )
    edit(
        dataset,
        RECORDS_002,
        '      - source: trendpulse-2025-11-22-us-rare-earths-revival\n        quote: ", ERI',
        '      - source: [trendpulse-2025-11-22-us-rare-earths-revival]\n        quote: ", ERI',
    )
    assert_aborts(
        dataset,
        "deal 'gm-offtake-with-noveon': parties: company and role must each be a single value",
        f"{RECORDS_002}: source: must be a single slug",
        "company 'reelement-technologies': evidence #4",
        "unknown source slug ['trendpulse-2025-11-22-us-rare-earths-revival']",
    )


@pytest.mark.django_db
def test_an_unquoted_invalid_date_aborts_naming_the_record(dataset):
    edit(dataset, RECORDS_002, "planned_start: 2027-01-01", "planned_start: 2027-13-01")
    assert_aborts(
        dataset,
        "facility 'js-link-columbus-ndfeb-magnet-plant': planned_start:",
        "2027-13-01",
        "invalid date",
    )


@pytest.mark.django_db
def test_a_filled_field_that_no_quote_supports_aborts_naming_record_and_field(dataset):
    # Sojitz's only quote no longer lists the deal type, and a country appears that no quote lists.
    edit(
        dataset,
        RECORDS_000,
        "        fields: [title, deal_type, status, summary, commodities, countries, parties]\n",
        "        fields: [title, status, summary, commodities, countries, parties]\n",
    )
    edit(
        dataset,
        RECORDS_000,
        "    name: Sojitz\n    kind: unknown\n",
        "    name: Sojitz\n    kind: unknown\n    country: JP\n",
    )
    assert_aborts(
        dataset,
        "deal 'sojitz-expands-lynas-rare-earth-imports': Deal type: no current quote supports the value 'offtake'.",
        "company 'sojitz': Country: no current quote supports the value 'JP'.",
    )
