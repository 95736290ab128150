"""The shared endpoint suite, once per resource, plus the resource-specific behaviour the suite cannot cover."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from deals.api.serializers import (
    CommoditySerializer,
    CompanyDetailSerializer,
    CompanySerializer,
    DealDetailSerializer,
    DealSerializer,
    FacilityDetailSerializer,
    FacilitySerializer,
    SourceDetailSerializer,
    SourceSerializer,
)
from deals.caching import dataset_version_get
from deals.models import Company, DatePrecision, Deal, DealParty, Facility, FacilityCompany, Source, SupplyChainStage
from tests.api.endpoint_suite import FilterCase, ReadEndpointSuite, slugs
from tests.factories import (
    CitedSourceFactory,
    CommodityFactory,
    CompanyFactory,
    DealFactory,
    DealPartyFactory,
    EvidenceFactory,
    FacilityCompanyFactory,
    FacilityFactory,
    SourceFactory,
)


def _pair(factory, field: str, match, other, value: str | None = None):
    """A FilterCase builder: one record with ``field=match`` and one with ``field=other``."""

    def build():
        a = factory(**{field: match})
        b = factory(**{field: other})
        return (value if value is not None else str(match)), a.slug, b.slug

    return build


def _changed_since(factory):
    """A FilterCase builder for ``updated_since``: one record changed now, one last changed in 2020."""

    def build():
        a, b = factory(), factory()
        type(b).objects.filter(pk=b.pk).update(updated=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
        return "2021-01-01", a.slug, b.slug

    return build


# --- deals ---------------------------------------------------------------------------------------------------


def _deal_with_commodity():
    a, b = DealFactory(), DealFactory()
    a.commodities.add(CommodityFactory(slug="dysprosium"))
    b.commodities.add(CommodityFactory(slug="graphite"))
    return "dysprosium", a.slug, b.slug


def _deal_with_narrower_commodity():
    """`commodity` includes the narrower commodities: NdFeB magnets are permanent magnets; graphite is not."""
    magnets = CommodityFactory(slug="permanent-magnets")
    a, b = DealFactory(), DealFactory()
    a.commodities.add(CommodityFactory(slug="ndfeb-magnets", parent=magnets))
    b.commodities.add(CommodityFactory(slug="graphite"))
    return "permanent-magnets", a.slug, b.slug


def _deal_with_exact_commodity():
    """`commodity_exact` is only the commodity named: a deal on NdFeB magnets is not a permanent-magnets deal."""
    magnets = CommodityFactory(slug="permanent-magnets")
    a, b = DealFactory(), DealFactory()
    a.commodities.add(magnets)
    b.commodities.add(CommodityFactory(slug="ndfeb-magnets", parent=magnets))
    return "permanent-magnets", a.slug, b.slug


def _deal_with_party_kind():
    """`party_kind=government` finds an agency in any role (a grantor); a company party does not match."""
    a = DealPartyFactory(company__kind=Company.Kind.AGENCY, role=DealParty.Role.GRANTOR)
    b = DealPartyFactory(company__kind=Company.Kind.COMPANY, role=DealParty.Role.GOVERNMENT)
    return "government", a.deal.slug, b.deal.slug


def _deal_with_company():
    a, b = DealPartyFactory(company__slug="acme"), DealPartyFactory()
    return "acme", a.deal.slug, b.deal.slug


def _deal_with_role():
    a = DealPartyFactory(role=DealParty.Role.INVESTOR)
    b = DealPartyFactory(role=DealParty.Role.BUYER)
    return "investor", a.deal.slug, b.deal.slug


def _deal_with_party_country():
    a = DealPartyFactory(company__country="US", role=DealParty.Role.INVESTOR)
    DealPartyFactory(deal=a.deal, company__country="KR")
    b = DealPartyFactory(company__country="KR")
    DealPartyFactory(deal=b.deal, company__country="")
    return "us", a.deal.slug, b.deal.slug


def _deal_with_stage():
    a, b = DealFactory(), DealFactory()
    a.stages.add(SupplyChainStage.objects.get(slug="mining"))
    b.stages.add(SupplyChainStage.objects.get(slug="recycling"))
    return "mining", a.slug, b.slug


def _deal_dated(field_value: str, match: datetime.date, other: datetime.date):
    def build():
        a = DealFactory(announced_date=match, announced_date_precision=DatePrecision.DAY)
        b = DealFactory(announced_date=other, announced_date_precision=DatePrecision.DAY)
        return field_value, a.slug, b.slug

    return build


def _deal_valued(value: str, match: str, other: str):
    def build():
        a = DealFactory(amount=Decimal(match), amount_usd=Decimal(match))
        b = DealFactory(amount=Decimal(other), amount_usd=Decimal(other))
        return value, a.slug, b.slug

    return build


def _deal_termed(value: str, match: dict, other: dict):
    """A FilterCase builder for the deal terms: each record states every term (DealFactory(terms=True)), with
    ``match``/``other`` overriding some."""

    def build():
        a = DealFactory(terms=True, **match)
        b = DealFactory(terms=True, **other)
        return value, a.slug, b.slug

    return build


def _deal_from_source():
    a = EvidenceFactory(source__slug="reuters-2025-09-01")
    b = EvidenceFactory()
    return "reuters-2025-09-01", a.deal.slug, b.deal.slug


def deal_full() -> Deal:
    """A deal with two parties, a facility, a commodity, a stage and evidence from two sources."""
    deal = DealFactory(summary="Offtake of oxide.", terms=True)
    DealPartyFactory(deal=deal, role=DealParty.Role.BUYER)
    DealPartyFactory(deal=deal, role=DealParty.Role.SUPPLIER)
    deal.facilities.add(FacilityFactory())
    deal.commodities.add(CommodityFactory())
    deal.stages.add(SupplyChainStage.objects.get(slug="mining"))
    EvidenceFactory(deal=deal)
    EvidenceFactory(deal=deal)
    return deal


class TestDeals(ReadEndpointSuite):
    basename = "deal"
    list_fields = set(DealSerializer.Meta.fields)
    detail_fields = set(DealDetailSerializer.Meta.fields)
    label_field = "title"
    list_queries = 3  # count, page rows (values), every relation of the page in one UNION ALL (deals/api/fast/)
    detail_queries = 2  # the row, its relations
    csv_queries = 7  # count, page, party links+companies, facilities, commodities, stages, evidence+sources
    filter_cases = [
        FilterCase("type", _pair(DealFactory, "deal_type", Deal.Type.GRANT, Deal.Type.OFFTAKE)),
        FilterCase("status", _pair(DealFactory, "status", Deal.Status.CLOSED, Deal.Status.SIGNED)),
        FilterCase("commodity", _deal_with_commodity),
        FilterCase("commodity", _deal_with_narrower_commodity, "narrower"),
        FilterCase("commodity_exact", _deal_with_exact_commodity),
        FilterCase("party_kind", _deal_with_party_kind),
        FilterCase("country", _pair(DealFactory, "countries", ["KR", "JP"], ["US"], value="kr"), "lower-case"),
        FilterCase("company", _deal_with_company),
        FilterCase("role", _deal_with_role),
        FilterCase("party_country", _deal_with_party_country),
        FilterCase("stage", _deal_with_stage),
        FilterCase("announced_after", _deal_dated("2025-06-01", datetime.date(2025, 6, 1), datetime.date(2025, 5, 31))),
        FilterCase("announced_before", _deal_dated("2025-06-01", datetime.date(2025, 6, 1), datetime.date(2025, 6, 2))),
        FilterCase("value_usd_min", _deal_valued("75000000", "75000000", "74999999.99")),
        FilterCase("value_usd_max", _deal_valued("75000000.5", "75000000.50", "75000000.51")),
        FilterCase("source", _deal_from_source),
        FilterCase("updated_since", _changed_since(DealFactory)),
        FilterCase("instrument", _pair(DealFactory, "instrument", Deal.Instrument.LOAN, Deal.Instrument.GRANT)),
        FilterCase("unit_price_min", _deal_termed("110.5", {"unit_price": Decimal("110.5")}, {"unit_price": 110})),
        FilterCase("unit_price_max", _deal_termed("110", {"unit_price": 110}, {"unit_price": Decimal("110.0001")})),
        FilterCase("unit_price_currency", _deal_termed("eur", {"unit_price_currency": "EUR"}, {}), "lower-case"),
        FilterCase("unit_price_unit", _deal_termed("lb", {"unit_price_unit": "lb"}, {})),
        FilterCase("term_months_min", _deal_termed("120", {}, {"term_length": 119, "term_unit": "months"})),
        FilterCase("term_months_max", _deal_termed("119", {"term_length": 119, "term_unit": "months"}, {})),
        FilterCase("term_unit", _deal_termed("months", {"term_unit": "months"}, {})),
        FilterCase("output_share_min", _deal_termed("100", {}, {"output_share_percent": Decimal("99.99")})),
        FilterCase("output_share_max", _deal_termed("99.99", {"output_share_percent": Decimal("99.99")}, {})),
    ]

    def make(self, **kwargs):
        return DealFactory(**kwargs)

    def make_full(self):
        return deal_full()

    def make_varied(self):
        DealFactory(slug="d-old", title="Beta", announced_date=datetime.date(2024, 1, 1), amount_usd=None)
        DealFactory(slug="d-new", title="Alpha", amount=Decimal(5), amount_usd=Decimal(5), currency="USD")
        tie = DealFactory(slug="d-tie", title="Alpha", announced_date=datetime.date(2025, 9, 1))
        DealFactory(
            slug="d-undated",
            title="Gamma",
            announced_date=None,
            announced_date_precision="",
            amount=None,
            currency="",
            amount_usd=None,
            value_qualifier="",
        )
        EvidenceFactory(deal=tie)
        EvidenceFactory(deal=tie)

    def test_party_country_lists_each_deal_once_whatever_its_parties(self, client):
        """Several parties from the listed countries, other filters and CSV: each deal appears once."""
        two_us = DealPartyFactory(company__country="US", role=DealParty.Role.BUYER).deal
        DealPartyFactory(deal=two_us, company__country="US", role=DealParty.Role.SUPPLIER)
        DealPartyFactory(deal=two_us, company__country="JP")
        jp = DealPartyFactory(company__country="JP", deal__status=Deal.Status.TERMINATED).deal
        DealPartyFactory(company__country="KR")
        DealFactory()
        assert sorted(slugs(self.get_list(client, party_country="US,JP"))) == sorted([two_us.slug, jp.slug])
        assert slugs(self.get_list(client, party_country="US")) == [two_us.slug]
        assert self.get_list(client, party_country="US").json()["count"] == 1
        assert slugs(self.get_list(client, party_country="JP", status="terminated")) == [jp.slug]
        response = self.get_list(client, party_country="XX")
        assert response.status_code == 400
        assert response.json() == {
            "party_country": [
                "'XX' is not an ISO 3166-1 alpha-2 country code. Allowed: two-letter codes such as US, CN, KR, JP, "
                "DE, AU."
            ]
        }

    def test_default_order_is_newest_first_undated_last(self, client):
        self.make_varied()
        assert slugs(self.get_list(client)) == ["d-new", "d-tie", "d-old", "d-undated"]

    def test_brief_objects_and_provenance(self, client):
        deal = deal_full()
        DealFactory(countries=["KR", "US"])
        body = client.get(self.detail_url(deal.slug)).json()
        assert body["countries"] == [{"code": "US", "name": "United States of America"}]
        party = body["parties"][0]
        assert set(party) == {"slug", "name", "url", "role"} and party["role"] == "buyer"
        assert party["url"] == f"http://testserver/api/v1/companies/{party['slug']}/"
        assert set(body["facilities"][0]) == {"slug", "name", "url"}
        assert set(body["commodities"][0]) == {"slug", "name", "url"}
        assert body["stages"][0]["slug"] == "mining" and set(body["stages"][0]) == {"slug", "name", "segment"}
        assert body["evidence_count"] == 2 and len(body["provenance"]) == 2
        entry = body["provenance"][0]
        evidence = deal.evidence.get(source__slug=entry["source"]["slug"])
        assert entry["quote"] == evidence.quote and (entry["start"], entry["end"]) == (evidence.start, evidence.end)
        assert entry["fields"] == ["title"]
        assert set(entry["source"]) == {"slug", "title", "publisher", "published_date", "url", "document_url"}

    def test_countries_are_code_and_name(self, client):
        deal = DealFactory(countries=["KR", "US"])
        body = client.get(self.detail_url(deal.slug)).json()
        assert body["countries"] == [
            {"code": "KR", "name": "South Korea"},
            {"code": "US", "name": "United States of America"},
        ]

    def test_several_values_repeated_or_comma_separated_match_any(self, client):
        a, b, c = DealFactory(), DealFactory(), DealFactory()
        a.commodities.add(CommodityFactory(slug="terbium"))
        b.commodities.add(CommodityFactory(slug="dysprosium"))
        c.commodities.add(CommodityFactory(slug="graphite"))
        expected = sorted([a.slug, b.slug])
        for query in ("commodity=terbium,dysprosium", "commodity=terbium&commodity=dysprosium"):
            response = client.get(f"{self.list_url()}?{query}")
            assert sorted(slugs(response)) == expected, query

    def test_company_and_role_mean_that_company_in_that_role(self, client):
        acme = CompanyFactory(slug="acme")
        as_buyer = DealPartyFactory(company=acme, role=DealParty.Role.BUYER).deal
        as_investor = DealPartyFactory(company=acme, role=DealParty.Role.INVESTOR).deal
        # acme is a buyer here, someone else the investor: must not match company=acme&role=investor.
        mixed = DealPartyFactory(company=acme, role=DealParty.Role.BUYER).deal
        DealPartyFactory(deal=mixed, role=DealParty.Role.INVESTOR)
        response = self.get_list(client, company="acme", role="investor")
        assert slugs(response) == [as_investor.slug]
        response = self.get_list(client, company="acme")
        assert sorted(slugs(response)) == sorted([as_buyer.slug, as_investor.slug, mixed.slug])

    def test_filters_combine_with_and(self, client):
        a = DealFactory(status=Deal.Status.CLOSED, countries=["KR"])
        DealFactory(status=Deal.Status.CLOSED, countries=["US"])
        DealFactory(status=Deal.Status.SIGNED, countries=["KR"])
        assert slugs(self.get_list(client, status="closed", country="KR")) == [a.slug]

    def test_deal_with_two_matching_commodities_is_listed_once(self, client):
        deal = DealFactory()
        deal.commodities.add(CommodityFactory(slug="terbium"), CommodityFactory(slug="dysprosium"))
        body = self.get_list(client, commodity="terbium,dysprosium").json()
        assert body["count"] == 1 and slugs_of(body) == [deal.slug]

    def test_ordering_by_several_fields(self, client):
        self.make_varied()
        # The two "Alpha" deals are told apart by the second field, not by slug.
        assert slugs(self.get_list(client, ordering="title,-amount_usd")) == ["d-tie", "d-new", "d-old", "d-undated"]
        assert slugs(self.get_list(client, ordering="title,amount_usd")) == ["d-new", "d-tie", "d-old", "d-undated"]


def slugs_of(body) -> list[str]:
    return [row["slug"] for row in body["results"]]


# --- companies -----------------------------------------------------------------------------------------------


def _company_full() -> Company:
    parent = CompanyFactory(kind=Company.Kind.GOVERNMENT)
    company = CompanyFactory(parent=parent, aliases=["ACM"])
    deal = DealFactory()
    DealPartyFactory(company=company, deal=deal, role=DealParty.Role.BUYER)
    DealPartyFactory(company=company, deal=deal, role=DealParty.Role.INVESTOR)
    DealPartyFactory(company=company)
    FacilityCompanyFactory(company=company)
    EvidenceFactory(deal=None, company=company, fields=["name"])
    return company


class TestCompanies(ReadEndpointSuite):
    basename = "company"
    list_fields = set(CompanySerializer.Meta.fields)
    detail_fields = set(CompanyDetailSerializer.Meta.fields)
    list_queries = 3  # count, page rows (values, with parent and counts), every relation of the page (deals/api/fast/)
    detail_queries = 2  # the row, its relations (evidence, facility links, deal links) in one UNION ALL
    csv_queries = 4  # count, page (with parent and annotated counts), evidence+sources, facility links+facilities
    filter_cases = [
        FilterCase("kind", _pair(CompanyFactory, "kind", Company.Kind.AGENCY, Company.Kind.COMPANY)),
        FilterCase("country", _pair(CompanyFactory, "country", "CN", "US")),
        FilterCase("updated_since", _changed_since(CompanyFactory)),
    ]

    def make(self, **kwargs):
        return CompanyFactory(**kwargs)

    def make_full(self):
        return _company_full()

    def make_varied(self):
        a = CompanyFactory(slug="c-a", name="Zeta")
        b = CompanyFactory(slug="c-b", name="Alpha")
        CompanyFactory(slug="c-c", name="Alpha")
        DealPartyFactory(company=a)
        DealPartyFactory(company=a)
        DealPartyFactory(company=b)
        FacilityCompanyFactory(company=b)
        EvidenceFactory(deal=None, company=a)

    def test_counts_and_detail_roles(self, client):
        company = _company_full()
        listed = next(r for r in self.get_list(client, page_size=100).json()["results"] if r["slug"] == company.slug)
        # Two roles in one deal count that deal once.
        assert (listed["deal_count"], listed["facility_count"], listed["evidence_count"]) == (2, 1, 1)
        # The list shows the company's facilities with its roles, as the detail does.
        assert [(f["slug"], f["role"]) for f in listed["facilities"]] == [
            (link.facility.slug, link.role) for link in company.facility_links.all()
        ]
        assert set(listed["facilities"][0]) == {"slug", "name", "url", "role"}
        body = client.get(self.detail_url(company.slug)).json()
        assert sorted(d["role"] for d in body["deals"]) == ["buyer", "buyer", "investor"]
        assert set(body["deals"][0]) == {"slug", "title", "url", "role"}
        assert body["facilities"][0]["role"] == FacilityCompany.Role.OWNER
        assert body["parent"]["slug"] == company.parent.slug
        assert body["aliases"] == ["ACM"]

    def test_company_without_country_has_null_country(self, client):
        company = CompanyFactory(country="")
        assert client.get(self.detail_url(company.slug)).json()["country"] is None


# --- facilities ----------------------------------------------------------------------------------------------


def _facility_with_commodity():
    a, b = FacilityFactory(), FacilityFactory()
    a.commodities.add(CommodityFactory(slug="ndfeb-magnets"))
    b.commodities.add(CommodityFactory(slug="graphite"))
    return "ndfeb-magnets", a.slug, b.slug


def _facility_with_company():
    a = FacilityCompanyFactory(company__slug="acme", role=FacilityCompany.Role.OPERATOR)
    b = FacilityCompanyFactory()
    return "acme", a.facility.slug, b.facility.slug


def _facility_with_narrower_commodity():
    magnets = CommodityFactory(slug="permanent-magnets")
    a, b = FacilityFactory(), FacilityFactory()
    a.commodities.add(CommodityFactory(slug="ndfeb-magnets", parent=magnets))
    b.commodities.add(CommodityFactory(slug="graphite"))
    return "permanent-magnets", a.slug, b.slug


def _facility_with_exact_commodity():
    magnets = CommodityFactory(slug="permanent-magnets")
    a, b = FacilityFactory(), FacilityFactory()
    a.commodities.add(magnets)
    b.commodities.add(CommodityFactory(slug="ndfeb-magnets", parent=magnets))
    return "permanent-magnets", a.slug, b.slug


def _facility_with_company_role():
    a = FacilityCompanyFactory(role=FacilityCompany.Role.OPERATOR)
    b = FacilityCompanyFactory(role=FacilityCompany.Role.OWNER)
    return "operator", a.facility.slug, b.facility.slug


def _facility_starting(value: str, match: datetime.date, other: datetime.date):
    def build():
        a = FacilityFactory(planned_start=match, planned_start_precision=DatePrecision.DAY)
        b = FacilityFactory(planned_start=other, planned_start_precision=DatePrecision.DAY)
        return value, a.slug, b.slug

    return build


def _facility_with_capacity(value: str, match: str, other: str, unit: str = "tonnes"):
    def build():
        figures = {"capacity_unit": "tonnes", "capacity_period": "year"}
        a = FacilityFactory(capacity_amount=Decimal(match), **{**figures, "capacity_unit": unit})
        b = FacilityFactory(capacity_amount=Decimal(other), **{**figures, "capacity_unit": "GWh"})
        return value, a.slug, b.slug

    return build


def _facility_with_jobs(value: str, match: int, other: int | None):
    def build():
        a = FacilityFactory(jobs=match)
        b = FacilityFactory(jobs=other)
        return value, a.slug, b.slug

    return build


def _facility_full() -> Facility:
    facility = FacilityFactory(latitude=Decimal("39.961"), longitude=Decimal("-82.998"), location_precision="exact")
    FacilityCompanyFactory(facility=facility)
    FacilityCompanyFactory(facility=facility, role=FacilityCompany.Role.OPERATOR)
    facility.commodities.add(CommodityFactory())
    DealFactory().facilities.add(facility)
    EvidenceFactory(deal=None, facility=facility, fields=["name"])
    return facility


def _facility_in_region():
    """Region codes match case-insensitively (like country codes)."""
    a = FacilityFactory(region="Georgia", region_code="US-GA")
    b = FacilityFactory(region="Ohio", region_code="US-OH")
    return "us-ga", a.slug, b.slug


class TestFacilities(ReadEndpointSuite):
    basename = "facility"
    list_fields = set(FacilitySerializer.Meta.fields)
    detail_fields = set(FacilityDetailSerializer.Meta.fields)
    list_queries = 3  # count, page rows (values), every relation of the page in one UNION ALL (deals/api/fast/)
    detail_queries = 2  # the row, its relations
    csv_queries = 6  # count, page, company links+companies, commodities, deals, evidence+sources
    filter_cases = [
        FilterCase("kind", _pair(FacilityFactory, "kind", Facility.Kind.MINE, Facility.Kind.MAGNET)),
        FilterCase("status", _pair(FacilityFactory, "status", Facility.Status.OPERATING, Facility.Status.PLANNED)),
        FilterCase("country", _pair(FacilityFactory, "country", "AU", "US")),
        FilterCase("commodity", _facility_with_commodity),
        FilterCase("commodity", _facility_with_narrower_commodity, "narrower"),
        FilterCase("commodity_exact", _facility_with_exact_commodity),
        FilterCase("company", _facility_with_company),
        FilterCase("company_role", _facility_with_company_role),
        # A year is read as its first day for `after` and its last day for `before`.
        FilterCase(
            "planned_start_after", _facility_starting("2027", datetime.date(2027, 1, 1), datetime.date(2026, 12, 31))
        ),
        FilterCase(
            "planned_start_before", _facility_starting("2027", datetime.date(2027, 12, 31), datetime.date(2028, 1, 1))
        ),
        FilterCase(
            "planned_start_before",
            _facility_starting("2024-02", datetime.date(2024, 2, 29), datetime.date(2024, 3, 1)),
            "month",
        ),
        FilterCase(
            "planned_start_after",
            _facility_starting("2027-06-15", datetime.date(2027, 6, 15), datetime.date(2027, 6, 14)),
            "day",
        ),
        FilterCase("capacity_min", _facility_with_capacity("3000", "3000", "2999.999")),
        FilterCase("capacity_max", _facility_with_capacity("20.5", "20.500", "20.501")),
        FilterCase("capacity_unit", _facility_with_capacity("TONNES", "3000", "3000")),
        FilterCase("jobs_min", _facility_with_jobs("500", 500, 499)),
        FilterCase("jobs_max", _facility_with_jobs("500", 500, None), "null-excluded"),
        FilterCase("updated_since", _changed_since(FacilityFactory)),
        FilterCase("region_code", _facility_in_region),
    ]

    def make(self, **kwargs):
        return FacilityFactory(**kwargs)

    def make_full(self):
        return _facility_full()

    def make_varied(self):
        capacity = {"capacity_unit": "tonnes", "capacity_period": "year"}
        a = FacilityFactory(slug="f-a", name="Zeta", capacity_amount=Decimal("3000"), **capacity)
        FacilityFactory(slug="f-b", name="Alpha", capacity_amount=Decimal("900.5"), **capacity)
        FacilityFactory(
            slug="f-c", name="Alpha", planned_start=datetime.date(2027, 1, 1), planned_start_precision="year"
        )
        EvidenceFactory(deal=None, facility=a)

    def test_negative_longitude_is_not_escaped_in_csv(self, client):
        _facility_full()
        text = self.get_csv(client).content.decode()
        assert ",-82.998000," in text

    def test_companies_roles_and_deals(self, client):
        facility = _facility_full()
        body = client.get(self.detail_url(facility.slug)).json()
        assert sorted(c["role"] for c in body["companies"]) == ["operator", "owner"]
        assert len(body["deals"]) == 1 and set(body["deals"][0]) == {"slug", "title", "url"}
        assert body["provenance"][0]["fields"] == ["name"]


# --- sources -------------------------------------------------------------------------------------------------


def _source_dated(value: str, match: datetime.date, other: datetime.date):
    def build():
        a = CitedSourceFactory(published_date=match)
        b = CitedSourceFactory(published_date=other)
        return value, a.slug, b.slug

    return build


def _source_full() -> Source:
    source = SourceFactory()
    EvidenceFactory(source=source)
    EvidenceFactory(source=source, deal=None, company=CompanyFactory())
    EvidenceFactory(source=source, deal=None, facility=FacilityFactory())
    return source


class TestSources(ReadEndpointSuite):
    basename = "source"
    list_fields = set(SourceSerializer.Meta.fields)
    detail_fields = set(SourceDetailSerializer.Meta.fields)
    label_field = "title"
    list_queries = 2  # count, page (with the annotated evidence count)
    detail_queries = 2  # the row, evidence with the deal, company or facility it supports
    filter_cases = [
        FilterCase("publisher", _pair(CitedSourceFactory, "publisher", "Reuters", "Mining.com", value="reuters")),
        FilterCase(
            "published_after", _source_dated("2025-09-12", datetime.date(2025, 9, 12), datetime.date(2025, 9, 11))
        ),
        FilterCase(
            "published_before", _source_dated("2025-09-12", datetime.date(2025, 9, 12), datetime.date(2025, 9, 13))
        ),
        FilterCase("updated_since", _changed_since(CitedSourceFactory)),
    ]

    def make(self, **kwargs):
        return CitedSourceFactory(**kwargs)

    def make_full(self):
        return _source_full()

    def make_varied(self):
        a = CitedSourceFactory(slug="s-a", title="Zeta", publisher="Reuters")
        CitedSourceFactory(slug="s-b", title="Alpha", publisher="")
        CitedSourceFactory(slug="s-c", title="Alpha", published_date=None, published_date_precision="")
        EvidenceFactory(source=a)

    def test_detail_lists_every_record_derived_from_it_once(self, client):
        source = _source_full()
        deal = source.evidence.exclude(deal=None).get().deal
        EvidenceFactory(source=source, deal=deal, start=1)  # a second quote for the same deal
        body = client.get(self.detail_url(source.slug)).json()
        assert [d["slug"] for d in body["deals"]] == [deal.slug]
        assert len(body["companies"]) == 1 and len(body["facilities"]) == 1
        # Not licensed for redistribution (the default): the key is there, the text is not (test_source_rights.py).
        assert body["text"] is None and body["evidence_count"] == 4

    def test_list_does_not_carry_the_text(self, client):
        CitedSourceFactory()
        assert "text" not in self.get_list(client).json()["results"][0]


# --- commodities ---------------------------------------------------------------------------------------------


def _commodity_full():
    parent = CommodityFactory(kind="group")
    commodity = CommodityFactory(parent=parent)
    DealFactory().commodities.add(commodity)
    FacilityFactory().commodities.add(commodity)
    return commodity


class TestCommodities(ReadEndpointSuite):
    basename = "commodity"
    list_fields = set(CommoditySerializer.Meta.fields)
    detail_fields = set(CommoditySerializer.Meta.fields)
    list_queries = 2  # count, page (with parent and annotated counts)
    detail_queries = 1
    filter_cases = [
        FilterCase("kind", _pair(CommodityFactory, "kind", "material", "element")),
        FilterCase("updated_since", _changed_since(CommodityFactory)),
    ]

    def make(self, **kwargs):
        return CommodityFactory(**kwargs)

    def make_full(self):
        return _commodity_full()

    def make_varied(self):
        a = CommodityFactory(slug="m-a", name="Zeta")
        CommodityFactory(slug="m-b", name="Alpha")
        CommodityFactory(slug="m-c", name="Beta")
        DealFactory().commodities.add(a)

    def test_counts_and_parent(self, client):
        commodity = _commodity_full()
        body = client.get(self.detail_url(commodity.slug)).json()
        assert (body["deal_count"], body["facility_count"]) == (1, 1)
        assert body["parent"]["slug"] == commodity.parent.slug


# --- index ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_index_links_every_collection_and_the_docs(client, django_assert_num_queries):
    dataset_version_get()
    with django_assert_num_queries(1):  # the dataset version row (deals/caching.py); the index itself needs none
        response = client.get("/api/v1/")
    assert response.status_code == 200
    body = response.json()
    assert body["deals"] == "http://testserver/api/v1/deals/"
    assert body["docs"] == "http://testserver/api/docs/"
    assert body["releases"] == "http://testserver/api/v1/releases/"
    assert body["changes"] == "http://testserver/api/v1/changes/"
    assert body["deal_stats"] == "http://testserver/api/v1/stats/deals/"
    assert body["facility_stats"] == "http://testserver/api/v1/stats/facilities/"
    assert body["search"] == "http://testserver/api/v1/search/"
    # Every value is a link, but the licence and the citation (tests/api/test_license.py).
    links = {key: value for key, value in body.items() if key not in ("license", "citation")}
    assert len(links) == len(body) - 2
    for name, url in links.items():
        response = client.get(url)
        if name.endswith("_stats"):  # the statistics need a dimension: the 400 names the parameter
            assert response.status_code == 400 and "group_by" in response.json(), url
        elif name == "search":  # the search needs its text: the 400 names the parameter
            assert response.status_code == 400 and "q" in response.json(), url
        else:
            assert response.status_code == 200, url


@pytest.mark.django_db
def test_index_rejects_unknown_parameters(client):
    response = client.get("/api/v1/", {"page": "2"})
    assert response.status_code == 400
    assert response.json() == {"page": ["Unknown query parameter. Valid parameters: format."]}


@pytest.mark.django_db
def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
