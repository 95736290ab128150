"""verify_provenance: passes on the loaded dataset, fails naming the record on each kind of fault."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from deals import models
from deals.provenance import provenance_verify
from tests.factories import CompanyFactory, DealFactory, EvidenceFactory, FacilityFactory, SourceFactory


@pytest.fixture
def loaded(db):
    call_command("load_dataset", stdout=StringIO())


def verify() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("verify_provenance", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def verify_fails() -> tuple[str, str]:
    err = StringIO()
    with pytest.raises(CommandError) as info:
        call_command("verify_provenance", stdout=StringIO(), stderr=err)
    return str(info.value), err.getvalue()


@pytest.mark.django_db
def test_passes_on_the_loaded_dataset(loaded):
    out, err = verify()
    assert "Provenance OK: 3 sources, 40 deals/companies/facilities, 62 evidence rows, 62 verified." in out
    assert err == ""
    assert provenance_verify() == []


@pytest.mark.django_db
def test_tampered_quote_fails_naming_the_record(loaded):
    evidence = models.Evidence.objects.get(
        facility__slug="strange-lake-deposit", quote__contains="dysprosium and terbium"
    )
    models.Evidence.objects.filter(pk=evidence.pk).update(quote=evidence.quote.replace("terbium", "yttrium"))
    message, err = verify_fails()
    assert "1 provenance fault(s)" in message
    assert f"FAULT evidence '{evidence.pk}': (for facility 'strange-lake-deposit') quote" in err
    assert "yttrium" in err and "does not match source 'rare-earth-update-2025-09-08-12'" in err


@pytest.mark.django_db
def test_shifted_offsets_fail(loaded):
    evidence = models.Evidence.objects.filter(deal__slug="gm-offtake-with-noveon").first()
    models.Evidence.objects.filter(pk=evidence.pk).update(start=evidence.start + 1, end=evidence.end + 1)
    _, err = verify_fails()
    assert "(for deal 'gm-offtake-with-noveon')" in err


@pytest.mark.django_db
def test_offsets_past_the_end_fail(loaded):
    evidence = models.Evidence.objects.filter(company__slug="apple").first()
    models.Evidence.objects.filter(pk=evidence.pk).update(start=100_000, end=100_010)
    _, err = verify_fails()
    assert "(for company 'apple') ends at 100010, past the end of source" in err


@pytest.mark.django_db
def test_records_without_evidence_fail(loaded):
    CompanyFactory(slug="orphan-company")
    FacilityFactory(slug="orphan-facility")
    models.Evidence.objects.filter(deal__slug="gm-offtake-with-noveon").delete()
    message, err = verify_fails()
    faults = provenance_verify()
    assert [(f.kind, f.slug) for f in faults if f.problem == "has no evidence"] == [
        ("deal", "gm-offtake-with-noveon"),
        ("company", "orphan-company"),
        ("facility", "orphan-facility"),
    ]
    # Their filled fields are unsupported too, each named by its label; nothing else in the dataset is.
    assert "FAULT deal 'gm-offtake-with-noveon': Title: no current quote supports the value" in err
    assert "FAULT company 'orphan-company': Name: no current quote supports the value 'Company" in err
    assert "FAULT facility 'orphan-facility': Kind: no current quote supports the value 'magnet'." in err
    assert {f.slug for f in faults} == {"gm-offtake-with-noveon", "orphan-company", "orphan-facility"}
    assert f"{len(faults)} provenance fault(s)" in message


@pytest.mark.django_db
def test_tampered_digest_fails(loaded):
    slug = "trendpulse-2025-11-22-us-rare-earths-revival"
    models.Source.objects.filter(slug=slug).update(text_sha256="0" * 64)
    message, err = verify_fails()
    assert "1 provenance fault(s)" in message
    assert f"FAULT source '{slug}': text_sha256 {'0' * 64} does not match" in err


@pytest.mark.django_db
def test_tampered_text_fails_on_digest_and_quotes(loaded):
    """Editing a stored text breaks its digest and every quote that sits after the edit."""
    source = models.Source.objects.get(slug="reex-2025-08-22-us-battery-firms-heading-overseas")
    models.Source.objects.filter(pk=source.pk).update(text="X" + source.text)
    faults = provenance_verify()
    assert faults[0].kind == "source" and faults[0].slug == source.slug
    assert {f.kind for f in faults[1:]} == {"evidence"}
    assert len(faults) == 1 + source.evidence.count()


@pytest.mark.django_db
def test_query_count_does_not_grow_with_rows(loaded, django_assert_num_queries):
    # Sources, evidence, and each record type with its prefetched relations and evidence (deals.selectors; the
    # companies' facilities with their roles are one of them).
    with django_assert_num_queries(16):
        provenance_verify()
    source = SourceFactory()
    companies = []
    for _ in range(5):
        EvidenceFactory(source=source, deal=DealFactory())
        companies.append(CompanyFactory().slug)
    with django_assert_num_queries(16):
        faults = provenance_verify()
    assert sorted(f.slug for f in faults if f.problem == "has no evidence") == sorted(companies)
