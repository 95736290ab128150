"""The CSV operations are lossless enough for analysis: every model field is a column (or listed, with its reason,
in deals.api.csv.CSV_OMITTED), relations are joined slugs, and the quotes are in one column, one per line."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import resolve, reverse

from deals.api.csv import CSV_OMITTED, CSV_RENAMED, QUOTE_SEPARATOR
from deals.models import Commodity, Company, Deal, Facility, FacilityCompany, Source
from tests.factories import (
    CommodityFactory,
    DealFactory,
    EvidenceFactory,
    FacilityCompanyFactory,
    FacilityFactory,
    SourceFactory,
)

RESOURCES = {Deal: "deal", Company: "company", Facility: "facility", Source: "source", Commodity: "commodity"}


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))


@pytest.mark.parametrize("model", list(RESOURCES), ids=lambda m: m.__name__)
def test_every_model_field_is_a_column_or_omitted_for_a_reason(model):
    """A field added to a model fails here until it gets a CSV column or a documented reason to be left out."""
    columns = resolve(reverse(f"api:{RESOURCES[model]}-csv")).func.cls.csv_serializer_class.Meta.fields
    names = [f.name for f in model._meta.concrete_fields] + [f.name for f in model._meta.many_to_many]
    omitted = CSV_OMITTED[model]
    assert set(omitted) <= set(names), "CSV_OMITTED names a field the model does not have"
    renamed = CSV_RENAMED.get(model, {})
    missing = [name for name in names if name not in omitted and renamed.get(name, name) not in columns]
    assert missing == []
    assert all(reason for reason in omitted.values())
    if model in (Deal, Company, Facility):
        assert {"quotes", "source_slugs", "evidence_count"} <= set(columns)


@pytest.mark.django_db
def test_facility_row_has_jobs_qualifiers_investment_and_location(client):
    facility = FacilityFactory(
        slug="js-link-plant",
        country="US",
        region="Georgia",
        region_code="US-GA",
        locality="Columbus",
        capacity_amount=Decimal("3000"),
        capacity_unit="tonnes",
        capacity_period="year",
        capacity_qualifier="exact",
        planned_start=datetime.date(2027, 1, 1),
        planned_start_precision="year",
        jobs=500,
        jobs_qualifier="at_least",
        investment_amount=Decimal("223000000"),
        investment_currency="USD",
        investment_amount_usd=Decimal("223000000"),
        investment_qualifier="exact",
        description="A sintered magnet plant.",
    )
    FacilityCompanyFactory(facility=facility, company__slug="js-link", role=FacilityCompany.Role.DEVELOPER)
    facility.commodities.add(CommodityFactory(slug="ndfeb-magnets"))
    DealFactory(slug="js-link-plant-investment").facilities.add(facility)
    EvidenceFactory(deal=None, facility=facility, fields=["name"], source__slug="news-1")
    (row,) = _rows(client.get("/api/v1/facilities.csv"))
    assert {k: row[k] for k in row if k not in ("updated", "quotes")} == {
        "slug": "js-link-plant",
        "name": facility.name,
        "kind": "magnet",
        "status": "planned",
        "country": "US",
        "region": "Georgia",
        "region_code": "US-GA",
        "locality": "Columbus",
        "latitude": "",
        "longitude": "",
        "location_precision": "",
        "capacity_amount": "3000.000",
        "capacity_unit": "tonnes",
        "capacity_period": "year",
        "capacity_qualifier": "exact",
        "planned_start": "2027-01-01",
        "planned_start_precision": "year",
        "jobs": "500",
        "jobs_qualifier": "at_least",
        "investment_amount": "223000000.00",
        "investment_currency": "USD",
        "investment_amount_usd": "223000000.00",
        "investment_qualifier": "exact",
        "description": "A sintered magnet plant.",
        "companies": "js-link:developer",
        "commodities": "ndfeb-magnets",
        "deals": "js-link-plant-investment",
        "source_slugs": "news-1",
        "evidence_count": "1",
        "url": "http://testserver/api/v1/facilities/js-link-plant/",
    }
    assert row["quotes"].startswith("news-1: Article ")


@pytest.mark.django_db
def test_deal_row_has_summary_and_every_quote_one_per_line(client):
    deal = DealFactory(slug="offtake", summary="Acme buys oxide.", value_qualifier="approximate")
    one = SourceFactory(slug="alpha-news", text="First: Acme signs.\n\nSecond paragraph. Beta agrees.")
    two = SourceFactory(slug="beta-wire", text="Acme; Beta | partners = yes.")
    EvidenceFactory(deal=deal, source=one, start=0, end=len(one.text))  # spans a paragraph break
    EvidenceFactory(deal=deal, source=two, start=0, end=len(two.text))
    (row,) = _rows(client.get("/api/v1/deals.csv"))
    assert (row["summary"], row["value_qualifier"], row["amount"], row["currency"]) == (
        "Acme buys oxide.",
        "approximate",
        "10000000.00",
        "USD",
    )
    assert row["source_slugs"] == "alpha-news;beta-wire"
    assert row["quotes"].split(QUOTE_SEPARATOR) == [
        "alpha-news: First: Acme signs. Second paragraph. Beta agrees.",
        "beta-wire: Acme; Beta | partners = yes.",
    ]


_TERM_COLUMNS = (
    "unit_price",
    "unit_price_currency",
    "unit_price_unit",
    "term_length",
    "term_unit",
    "output_share_percent",
    "output_share_of",
    "instrument",
)


@pytest.mark.django_db
def test_deal_row_has_the_terms_as_stated_and_empty_cells_when_not_stated(client):
    DealFactory(slug="floor", terms=True)
    DealFactory(slug="unstated")
    rows = {row["slug"]: row for row in _rows(client.get("/api/v1/deals.csv"))}
    assert tuple(rows["floor"][c] for c in _TERM_COLUMNS) == (
        "110.0000",
        "USD",
        "kg",
        "10",
        "years",
        "100.00",
        "magnets produced at the plant",
        "price_floor",
    )
    assert tuple(rows["unstated"][c] for c in _TERM_COLUMNS) == ("",) * len(_TERM_COLUMNS)
    # The list's filters apply to the CSV too.
    assert [r["slug"] for r in _rows(client.get("/api/v1/deals.csv", {"instrument": "price_floor"}))] == ["floor"]


@pytest.mark.django_db
def test_commodity_and_source_rows_have_their_descriptions_and_digests(client):
    CommodityFactory(slug="dysprosium", description="A heavy rare earth.")
    (commodity,) = [r for r in _rows(client.get("/api/v1/commodities.csv")) if r["slug"] == "dysprosium"]
    assert commodity["description"] == "A heavy rare earth."
    EvidenceFactory(source__slug="cited")
    source = next(r for r in _rows(client.get("/api/v1/sources.csv")) if r["slug"] == "cited")
    assert len(source["raw_sha256"]) == 64 and len(source["text_sha256"]) == 64
    assert "text" not in source
