"""The statistics' derived key lists on deal rows (deals/stats_keys.py): every write keeps them equal to what the
link tables say, on both databases, and migrations (which remake tables on SQLite) keep working and restore them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from deals import models
from deals.stats_keys import COLUMNS, stats_keys_install, stats_keys_uninstall
from tests.factories import CommodityFactory, CompanyFactory, DealFactory, DealPartyFactory

ROOT = Path(__file__).resolve().parents[1]


def stored(deal: models.Deal) -> dict[str, set[str]]:
    """The deal row's four lists, as sets (their order is the database's)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM deals_deal WHERE id = %s", [deal.pk])
        row = cursor.fetchone()
    return {column: set(value.split(",")) - {""} for column, value in zip(COLUMNS, row, strict=True)}


def expected(deal: models.Deal) -> dict[str, set[str]]:
    """The same lists computed from the link tables by the ORM: published parties only, stated countries only."""
    parties = [link.company for link in deal.party_links.select_related("company")]
    published = [c for c in parties if c.publication_status == models.PublicationStatus.PUBLISHED]
    return {
        "stats_commodity_ids": {str(pk) for pk in deal.commodities.values_list("pk", flat=True)},
        "stats_stage_ids": {str(pk) for pk in deal.stages.values_list("pk", flat=True)},
        "stats_party_kinds": {c.kind for c in published},
        "stats_party_countries": {c.country.code for c in published if c.country},
    }


def assert_current(*deals: models.Deal) -> None:
    for deal in deals:
        assert stored(deal) == expected(deal), deal.slug


@pytest.mark.django_db
def test_the_loaded_dataset_has_its_lists():
    call_command("load_dataset", verbosity=0)
    deals = list(models.Deal.objects.all())
    assert len(deals) >= 10
    assert_current(*deals)
    # Not vacuous: the dataset has deals with several commodities, party kinds and party countries.
    assert any(len(stored(d)["stats_party_kinds"]) > 1 for d in deals)
    assert any(len(stored(d)["stats_party_countries"]) > 1 for d in deals)
    assert any(stored(d)["stats_stage_ids"] for d in deals)


@pytest.mark.django_db
def test_commodity_and_stage_links_keep_the_lists_current():
    deal = DealFactory()
    magnets, oxide = CommodityFactory(), CommodityFactory()
    stage, _ = models.SupplyChainStage.objects.get_or_create(
        slug="test-stage", defaults={"name": "Test stage", "segment": "upstream", "position": 99}
    )
    assert stored(deal)["stats_commodity_ids"] == set()
    deal.commodities.add(magnets, oxide)
    deal.stages.add(stage)
    assert stored(deal)["stats_commodity_ids"] == {str(magnets.pk), str(oxide.pk)}
    assert stored(deal)["stats_stage_ids"] == {str(stage.pk)}
    deal.commodities.remove(magnets)
    assert stored(deal)["stats_commodity_ids"] == {str(oxide.pk)}
    deal.commodities.set([magnets])
    assert stored(deal)["stats_commodity_ids"] == {str(magnets.pk)}
    deal.commodities.clear()
    deal.stages.clear()
    assert_current(deal)
    assert stored(deal)["stats_commodity_ids"] == set() and stored(deal)["stats_stage_ids"] == set()


@pytest.mark.django_db
def test_party_links_keep_the_lists_current():
    deal, other = DealFactory(), DealFactory()
    ministry = CompanyFactory(kind=models.Company.Kind.GOVERNMENT, country="KZ")
    maker = CompanyFactory(kind=models.Company.Kind.COMPANY, country="US")
    link = DealPartyFactory(deal=deal, company=ministry, role=models.DealParty.Role.GOVERNMENT)
    DealPartyFactory(deal=deal, company=maker, role=models.DealParty.Role.BUYER)
    # The same company twice in one deal (two roles) is one kind and one country.
    DealPartyFactory(deal=deal, company=maker, role=models.DealParty.Role.INVESTOR)
    assert stored(deal)["stats_party_kinds"] == {"government", "company"}
    assert stored(deal)["stats_party_countries"] == {"KZ", "US"}
    # An update that moves the link to another deal refreshes both deals.
    link.deal = other
    link.save()
    assert_current(deal, other)
    assert stored(deal)["stats_party_kinds"] == {"company"}
    assert stored(other)["stats_party_kinds"] == {"government"}
    link.delete()
    assert_current(deal, other)
    assert stored(other)["stats_party_kinds"] == set()


@pytest.mark.django_db
def test_company_changes_reach_every_deal_it_is_party_to():
    first, second = DealFactory(), DealFactory()
    company = CompanyFactory(kind=models.Company.Kind.COMPANY, country="US")
    DealPartyFactory(deal=first, company=company)
    DealPartyFactory(deal=second, company=company)
    company.kind = models.Company.Kind.AGENCY
    company.country = "CA"
    company.save()
    assert stored(first)["stats_party_kinds"] == {"agency"} and stored(second)["stats_party_countries"] == {"CA"}
    # A party that is no longer published drops out of the party dimensions; published again, it is back.
    company.publication_status = models.PublicationStatus.DRAFT
    company.save()
    assert stored(first)["stats_party_kinds"] == set() and stored(second)["stats_party_countries"] == set()
    company.publication_status = models.PublicationStatus.PUBLISHED
    company.country = ""
    company.save()
    assert_current(first, second)
    assert stored(first)["stats_party_kinds"] == {"agency"} and stored(first)["stats_party_countries"] == set()


@pytest.mark.django_db
def test_bare_sql_writes_are_seen_too():
    deal, company = DealFactory(), CompanyFactory(kind=models.Company.Kind.INVESTOR)
    commodity = CommodityFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO deals_dealparty (deal_id, company_id, role) VALUES (%s, %s, 'investor')", [deal.pk, company.pk]
        )
        cursor.execute(
            "INSERT INTO deals_deal_commodities (deal_id, commodity_id) VALUES (%s, %s)", [deal.pk, commodity.pk]
        )
    assert stored(deal)["stats_party_kinds"] == {"investor"}
    assert stored(deal)["stats_commodity_ids"] == {str(commodity.pk)}


@pytest.mark.django_db
def test_install_recomputes_what_changed_while_the_triggers_were_off():
    """What pre_migrate/post_migrate do around a migrate: a write between them is caught up by the install."""
    deal = DealFactory()
    commodity = CommodityFactory()
    stats_keys_uninstall()
    deal.commodities.add(commodity)
    assert stored(deal)["stats_commodity_ids"] == set()  # the triggers are really off
    stats_keys_install()
    assert stored(deal)["stats_commodity_ids"] == {str(commodity.pk)}
    stats_keys_install()  # idempotent
    deal.commodities.clear()
    assert_current(deal)


def test_sqlite_migrations_remake_tables_and_get_the_lists_back(tmp_path):
    """SQLite alters a table by remaking it, which drops the lists' columns and fails while a trigger names the
    table. Migrating back past table remakes and forward again, with data, must work and end with correct lists."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'remake.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "reexapi.settings",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]

    def run(*args: str) -> str:
        done = subprocess.run([*manage, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run("migrate", "-v", "0")
    # 0008 added the publication lifecycle's columns to deals and companies: unapplying it remakes both tables.
    run("migrate", "deals", "0007", "-v", "0")
    run("migrate", "-v", "0")
    run("load_dataset", "-v", "0")
    check = (
        "from tests.test_stats_keys import stored, expected; from deals.models import Deal; "
        "bad = [d.slug for d in Deal.objects.all() if stored(d) != expected(d)]; "
        "print('deals', Deal.objects.count(), 'wrong', len(bad), bad)"
    )
    out = run("shell", "-c", check)
    assert "wrong 0 []" in out, out
    assert "deals 0 " not in out, out
