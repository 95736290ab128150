"""The publication services: coverage gaps, publish, withdraw, merge, old slugs; and their shell twins."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from deals.coverage import record_coverage_gaps
from deals.models import Company, Deal, DealParty, Evidence, FacilityCompany, PublicationStatus
from deals.services.publication import (
    PublicationError,
    record_final,
    record_merge,
    record_publish,
    record_resolve,
    record_withdraw,
)
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

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db
DRAFT = PublicationStatus.DRAFT


# --- coverage ------------------------------------------------------------------------------------------------


def test_every_filled_field_without_a_quote_is_a_gap_named_by_its_label():
    company = CompanyFactory(name="Acme", country="US", locality="", description="Makes magnets.")
    assert record_coverage_gaps(record=company) == [
        "Name: no current quote supports the value 'Acme'.",
        "Kind: no current quote supports the value 'company'.",
        "Country: no current quote supports the value 'US'.",
        "Description: no current quote supports the value 'Makes magnets.'.",
    ]
    EvidenceFactory(deal=None, company=company, fields=["name", "kind"])
    EvidenceFactory(deal=None, company=company, fields=["country", "description"], start=1)
    assert record_coverage_gaps(record=company) == []


def test_relations_count_as_fields_and_not_stated_is_empty():
    deal = DealFactory(
        status=Deal.Status.UNKNOWN, amount=None, currency="", amount_usd=None, value_qualifier="", countries=[]
    )
    EvidenceFactory(deal=deal, fields=["title", "deal_type", "announced_date", "announced_date_precision"])
    assert record_coverage_gaps(record=deal) == []  # status "unknown" states nothing
    deal.commodities.add(CommodityFactory())
    DealPartyFactory(deal=deal)
    deal.facilities.add(FacilityFactory())
    gaps = record_coverage_gaps(record=deal)
    assert [g.split(":")[0] for g in gaps] == ["Commodities", "Parties", "Facilities"]


# --- publish / withdraw --------------------------------------------------------------------------------------


def test_publish_needs_coverage_and_published_related_records():
    operator = CompanyFactory(publication_status=DRAFT, slug="draft-operator")
    plant = FacilityFactory(publication_status=DRAFT, country="", status="unknown")
    FacilityCompanyFactory(facility=plant, company=operator)
    EvidenceFactory(deal=None, facility=plant, fields=["name", "kind", "companies"])
    with pytest.raises(PublicationError) as caught:
        record_publish(record=plant)
    assert caught.value.messages == [
        "The company “draft-operator” (Company 0) is draft (not public); publish it first.".replace(
            "Company 0", str(operator)
        )
    ]
    operator.publication_status = PublicationStatus.PUBLISHED
    operator.save()
    record_publish(record=plant)
    plant.refresh_from_db()
    assert plant.is_public and plant.published_at is not None


def test_withdraw_needs_a_reason_and_republishing_clears_it():
    deal = DealFactory(countries=[], amount=None, currency="", amount_usd=None, value_qualifier="")
    with pytest.raises(PublicationError):
        record_withdraw(record=deal, reason="   ")
    record_withdraw(record=deal, reason="Wrong date.")
    deal.refresh_from_db()
    assert deal.publication_status == "withdrawn" and deal.withdrawn_at is not None
    EvidenceFactory(deal=deal, fields=["title", "deal_type", "status", "announced_date", "announced_date_precision"])
    record_publish(record=deal)
    deal.refresh_from_db()
    assert deal.is_public and deal.withdrawn_reason == "" and deal.withdrawn_at is None


# --- merge ---------------------------------------------------------------------------------------------------


def test_deal_merge_moves_evidence_links_and_sets_without_duplicate_rows():
    survivor, duplicate = DealFactory(countries=["US"]), DealFactory(countries=["CA", "US"])
    shared = CompanyFactory()
    DealPartyFactory(deal=survivor, company=shared, role="buyer")
    DealPartyFactory(deal=duplicate, company=shared, role="buyer")  # the same link: kept once
    other = DealPartyFactory(deal=duplicate, role="supplier").company
    commodity = CommodityFactory()
    duplicate.commodities.add(commodity)
    survivor.commodities.add(commodity)
    plant = FacilityFactory()
    duplicate.facilities.add(plant)
    source = SourceFactory()
    EvidenceFactory(deal=survivor, source=source, fields=["title"])
    EvidenceFactory(deal=duplicate, source=source, fields=["parties"])  # the same span: one row, both fields
    EvidenceFactory(deal=duplicate, source=source, start=1, fields=["amount"])

    record_merge(duplicate=duplicate, survivor=survivor)
    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    assert set(DealParty.objects.filter(deal=survivor).values_list("company", "role")) == {
        (shared.pk, "buyer"),
        (other.pk, "supplier"),
    }
    assert not DealParty.objects.filter(deal=duplicate).exists()
    assert list(survivor.commodities.all()) == [commodity] and list(survivor.facilities.all()) == [plant]
    assert sorted(c.code for c in survivor.countries) == ["CA", "US"]
    assert sorted(tuple(e.fields) for e in survivor.evidence.all()) == [("amount",), ("title", "parties")]
    assert not Evidence.objects.filter(deal=duplicate).exists()
    assert duplicate.publication_status == "withdrawn" and duplicate.merged_into == survivor
    assert survivor.slug in duplicate.withdrawn_reason


def test_company_merge_moves_roles_and_subsidiaries():
    survivor, duplicate = CompanyFactory(), CompanyFactory()
    deal = DealFactory()
    DealPartyFactory(deal=deal, company=survivor, role="buyer")
    DealPartyFactory(deal=deal, company=duplicate, role="buyer")
    FacilityCompanyFactory(company=duplicate)
    child = CompanyFactory(parent=duplicate)
    record_merge(duplicate=duplicate, survivor=survivor)
    assert DealParty.objects.filter(deal=deal).count() == 1
    assert FacilityCompany.objects.filter(company=survivor).count() == 1
    child.refresh_from_db()
    assert child.parent == survivor


def test_merge_refusals_and_chains():
    a, b, c = DealFactory(), DealFactory(), DealFactory()
    with pytest.raises(PublicationError):
        record_merge(duplicate=a, survivor=a)
    with pytest.raises(PublicationError):
        record_merge(duplicate=a, survivor=CompanyFactory())
    record_merge(duplicate=a, survivor=b)
    a.refresh_from_db()
    with pytest.raises(PublicationError):
        record_merge(duplicate=a, survivor=c)
    with pytest.raises(PublicationError):
        record_merge(duplicate=c, survivor=a)  # a is withdrawn
    record_merge(duplicate=b, survivor=c)
    a.refresh_from_db()
    assert a.merged_into == c and record_final(record=a) == c


def test_old_slugs_resolve_through_history():
    company = CompanyFactory(slug="first")
    company.slug = "second"
    company.save()
    assert record_resolve(model=Company, slug="first") == company
    assert record_resolve(model=Company, slug="never") is None


# --- shell twins ---------------------------------------------------------------------------------------------


def _run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_record_withdraw_command():
    deal = DealFactory(slug="to-withdraw")
    assert "Withdrawn deal “to-withdraw”" in _run("record_withdraw", "deal", "to-withdraw", "--reason", "A rumour.")
    deal.refresh_from_db()
    assert deal.withdrawn_reason == "A rumour."
    with pytest.raises(CommandError, match="No deal has the slug “nope”"):
        _run("record_withdraw", "deal", "nope", "--reason", "x")
    with pytest.raises(CommandError, match="Give the reason"):
        _run("record_withdraw", "deal", "to-withdraw", "--reason", " ")


def test_record_merge_command():
    DealFactory(slug="kept")
    DealFactory(slug="dupe")
    assert "Merged deal “dupe” into “kept”" in _run("record_merge", "deal", "dupe", "--into", "kept")
    assert Deal.objects.get(slug="dupe").merged_into.slug == "kept"
    with pytest.raises(CommandError, match="already merged"):
        _run("record_merge", "deal", "dupe", "--into", "kept")
    with pytest.raises(CommandError, match="No deal has the slug “ghost”"):
        _run("record_merge", "deal", "kept", "--into", "ghost")
    company = CompanyFactory(slug="renamed-co")
    company.slug = "now-named"
    company.save()
    with pytest.raises(CommandError, match="renamed to “now-named”"):
        _run("record_merge", "company", "renamed-co", "--into", "now-named")


@pytest.mark.parametrize("command", ["record_withdraw", "record_merge"])
def test_the_commands_refuse_an_unknown_model_without_a_traceback(command):
    extra = ["--reason", "x"] if command == "record_withdraw" else ["--into", "y"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), command, "source", "some-slug", *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode != 0
    assert "invalid choice: 'source'" in result.stderr and "Traceback" not in result.stderr
