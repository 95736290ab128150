"""The filters that answer issue 11's questions (deals/filtersets/), on the seed dataset and on built records:
commodity rolled up the tree and commodity_exact, party_kind, the facility ranges (planned_start, capacity, jobs),
capacity_unit and company_role, and the companies list with its facilities and roles."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from deals.models import Company, DatePrecision, DealParty, FacilityCompany
from deals.range_filters import PERIOD_MESSAGE, QUANTITY_MESSAGE, WHOLE_MESSAGE
from deals.selectors.records import commodity_with_narrower
from tests.factories import (
    CommodityFactory,
    CompanyFactory,
    DealFactory,
    DealPartyFactory,
    FacilityCompanyFactory,
    FacilityFactory,
)


@pytest.fixture
def dataset(db):
    call_command("load_dataset", verbosity=0)


def _slugs(client, path: str, **params) -> list[str]:
    response = client.get(path, {**params, "page_size": 100})
    assert response.status_code == 200, response.content
    return sorted(row["slug"] for row in response.json()["results"])


def test_commodity_includes_narrower_commodities_and_commodity_exact_does_not(client, dataset):
    # permanent-magnets: Apple/MP and GM/Noveon name it; the JS Link plant deal names ndfeb-magnets, its child.
    assert _slugs(client, "/api/v1/deals/", commodity="permanent-magnets") == [
        "apple-500m-partnership-with-mp-materials",
        "gm-offtake-with-noveon",
        "js-link-223m-columbus-ndfeb-magnet-plant",
    ]
    assert _slugs(client, "/api/v1/deals/", commodity_exact="permanent-magnets") == [
        "apple-500m-partnership-with-mp-materials",
        "gm-offtake-with-noveon",
    ]
    # Two levels down: rare-earth-elements → dysprosium (the Torngat/VAC MOU), and the facilities likewise.
    assert "torngat-metals-vac-dysprosium-terbium-mou" in _slugs(
        client, "/api/v1/deals/", commodity="critical-minerals"
    )
    assert _slugs(client, "/api/v1/facilities/", commodity="permanent-magnets") == [
        "js-link-columbus-ndfeb-magnet-plant",
        "neo-performance-materials-narva-magnet-plant",
    ]
    assert _slugs(client, "/api/v1/facilities/", commodity_exact="permanent-magnets") == [
        "neo-performance-materials-narva-magnet-plant"
    ]


@pytest.mark.django_db
def test_commodity_with_narrower_walks_the_whole_subtree():
    root = CommodityFactory(slug="root")
    child = CommodityFactory(slug="child", parent=root)
    grandchild = CommodityFactory(slug="grandchild", parent=child)
    CommodityFactory(slug="other")
    assert commodity_with_narrower(commodities=[root]) == {root.pk, child.pk, grandchild.pk}
    assert commodity_with_narrower(commodities=[child]) == {child.pk, grandchild.pk}


def test_party_kind_government_catches_the_department_of_defense_grant(client, dataset):
    grant = "us-department-of-defense-2m-grant-to-reelement-technologies"
    # role=government misses it: the DoD's role is grantor.
    assert grant not in _slugs(client, "/api/v1/deals/", role="government")
    # party_kind=government: governments and their departments and agencies, whatever their role.
    assert _slugs(client, "/api/v1/deals/", party_kind="government") == [
        "kazakhstan-orders-three-new-rare-earth-enterprises",
        "pakistan-500m-critical-minerals-agreements-with-us-firms",
        "united-states-japan-mineral-processing-framework",
        grant,
    ]
    assert _slugs(client, "/api/v1/deals/", party_kind="agency") == [grant]


@pytest.mark.django_db
def test_party_kind_ignores_unpublished_parties_and_other_kinds(client):
    draft_agency = DealPartyFactory(company=CompanyFactory(kind=Company.Kind.AGENCY, publication_status="draft"))
    state_owned = DealPartyFactory(company__kind=Company.Kind.STATE_OWNED, role=DealParty.Role.GOVERNMENT)
    government = DealPartyFactory(company__kind=Company.Kind.GOVERNMENT, role=DealParty.Role.INVESTOR)
    assert _slugs(client, "/api/v1/deals/", party_kind="government") == [government.deal.slug]
    assert _slugs(client, "/api/v1/deals/", party_kind="state_owned,agency") == [state_owned.deal.slug]
    assert draft_agency.deal.slug not in _slugs(client, "/api/v1/deals/", party_kind="agency")


def test_magnet_plants_starting_in_2027(client, dataset):
    params = {"kind": "magnet", "planned_start_after": "2027", "planned_start_before": "2027"}
    assert _slugs(client, "/api/v1/facilities/", **params) == ["js-link-columbus-ndfeb-magnet-plant"]
    # Narva starts in September 2025 (month precision, stored 2025-09-01).
    assert _slugs(client, "/api/v1/facilities/", planned_start_after="2025-09", planned_start_before="2025-09") == [
        "neo-performance-materials-narva-magnet-plant"
    ]
    assert _slugs(client, "/api/v1/facilities/", jobs_min="500", capacity_min="3000", capacity_unit="tonnes") == [
        "js-link-columbus-ndfeb-magnet-plant"
    ]


@pytest.mark.django_db
def test_period_bounds_cover_the_whole_year_month_or_day(client):
    dates = {
        "y-start": datetime.date(2027, 1, 1),
        "y-end": datetime.date(2027, 12, 31),
        "leap": datetime.date(2028, 2, 29),
        "after": datetime.date(2028, 3, 1),
    }
    for slug, date in dates.items():
        FacilityFactory(slug=slug, planned_start=date, planned_start_precision=DatePrecision.DAY)
    FacilityFactory(slug="undated")
    assert _slugs(client, "/api/v1/facilities/", planned_start_before="2027") == ["y-end", "y-start"]
    assert _slugs(client, "/api/v1/facilities/", planned_start_after="2028-02", planned_start_before="2028-02") == [
        "leap"
    ]
    assert _slugs(
        client, "/api/v1/facilities/", planned_start_after="2027-12-31", planned_start_before="2028-02-29"
    ) == [
        "leap",
        "y-end",
    ]


PERIOD_BAD = ["27", "2027-13", "2027-00", "0000", "2027-02-30", "2027-1", "2027/06", "２０２７", " 2027", "2027-06-1"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", PERIOD_BAD)
def test_bad_period_is_400_stating_the_format(client, value):
    response = client.get("/api/v1/facilities/", {"planned_start_after": value})
    assert response.status_code == 400
    assert response.json() == {"planned_start_after": [PERIOD_MESSAGE]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("capacity_min", "1e3", QUANTITY_MESSAGE),
        ("capacity_max", "1.2345", QUANTITY_MESSAGE),
        ("capacity_min", "-1", QUANTITY_MESSAGE),
        ("capacity_min", "12345678901234", QUANTITY_MESSAGE),
        ("jobs_min", "1.5", WHOLE_MESSAGE),
        ("jobs_max", "1234567890", WHOLE_MESSAGE),
        ("jobs_max", "+5", WHOLE_MESSAGE),
    ],
)
def test_bad_numbers_are_400_stating_the_format(client, param, value, message):
    response = client.get("/api/v1/facilities/", {param: value})
    assert response.status_code == 400
    assert response.json() == {param: [message]}


@pytest.mark.django_db
def test_jobs_and_capacity_bounds_leave_out_facilities_without_a_figure(client):
    FacilityFactory(
        slug="stated", jobs=999_999_999, capacity_amount=Decimal("0.001"), capacity_unit="t", capacity_period="day"
    )
    FacilityFactory(slug="unstated")
    assert _slugs(client, "/api/v1/facilities/", jobs_max="999999999") == ["stated"]
    assert _slugs(client, "/api/v1/facilities/", capacity_max="0.001") == ["stated"]
    assert _slugs(client, "/api/v1/facilities/", capacity_unit="T,GWh") == ["stated"]


@pytest.mark.django_db
def test_company_and_company_role_mean_that_company_in_that_role(client):
    acme = CompanyFactory(slug="acme")
    owned = FacilityCompanyFactory(company=acme, role=FacilityCompany.Role.OWNER).facility
    operated = FacilityCompanyFactory(company=acme, role=FacilityCompany.Role.OPERATOR).facility
    # Another company operates the plant acme owns: acme in the role operator is only `operated`.
    FacilityCompanyFactory(facility=owned, role=FacilityCompany.Role.OPERATOR)
    assert _slugs(client, "/api/v1/facilities/", company="acme", company_role="operator") == [operated.slug]
    assert _slugs(client, "/api/v1/facilities/", company_role="operator") == sorted([owned.slug, operated.slug])
    response = client.get("/api/v1/facilities/", {"company_role": "landlord"})
    assert response.status_code == 400 and set(response.json()) == {"company_role"}


def test_companies_list_shows_facilities_with_roles(client, dataset):
    rows = client.get("/api/v1/companies/", {"page_size": 100}).json()["results"]
    facilities = {row["slug"]: [(f["slug"], f["role"]) for f in row["facilities"]] for row in rows}
    assert facilities["js-link"] == [("js-link-columbus-ndfeb-magnet-plant", "developer")]
    assert facilities["reelement-technologies"] == [
        ("reelement-principal-mineral-separation-and-metals-hub", "developer")
    ]
    assert facilities["apple"] == []
    # Every role of every published facility appears once, in the list as in the facilities' own records.
    listed = sorted((c, f, r) for c, links in facilities.items() for f, r in links)
    from_facilities = sorted(
        (company["slug"], row["slug"], company["role"])
        for row in client.get("/api/v1/facilities/", {"page_size": 100}).json()["results"]
        for company in row["companies"]
    )
    assert listed == from_facilities


@pytest.mark.django_db
def test_companies_list_hides_draft_facilities(client):
    link = FacilityCompanyFactory(facility__publication_status="draft")
    row = next(r for r in client.get("/api/v1/companies/").json()["results"] if r["slug"] == link.company.slug)
    assert row["facilities"] == []


# --- Deal terms ------------------------------------------------------------------------------------------------------
DEALS = "/api/v1/deals/"


@pytest.fixture
def termed(db):
    """Four deals: a price floor in USD/kg for 10 years, a loan over 18 months, a 7-year offtake of 40 % of output
    in EUR/tonne, and one with no terms stated."""
    DealFactory(slug="floor", terms=True)  # USD 110/kg, 10 years, 100 % of the magnets, price floor
    DealFactory(slug="loan", instrument="loan", term_length=18, term_unit="months")
    DealFactory(
        slug="offtake",
        instrument="offtake",
        unit_price=Decimal("2500.5"),
        unit_price_currency="EUR",
        unit_price_unit="tonne",
        term_length=7,
        term_unit="years",
        output_share_percent=Decimal("40"),
        output_share_of="the mine's concentrate",
    )
    DealFactory(slug="none")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"instrument": "loan"}, ["loan"]),
        ({"instrument": "loan,price_floor"}, ["floor", "loan"]),
        ({"instrument": ["offtake", "loan"]}, ["loan", "offtake"]),
        ({"unit_price_min": "0"}, ["floor", "offtake"]),
        ({"unit_price_min": "110"}, ["floor", "offtake"]),
        ({"unit_price_min": "110.001"}, ["offtake"]),
        ({"unit_price_max": "110"}, ["floor"]),
        ({"unit_price_currency": "usd"}, ["floor"]),
        ({"unit_price_currency": "EUR,USD"}, ["floor", "offtake"]),
        ({"unit_price_unit": "tonne"}, ["offtake"]),
        ({"unit_price_unit": "lb"}, []),
        # 10 years = 120 months; 7 years = 84; 18 months.
        ({"term_months_min": "120"}, ["floor"]),
        ({"term_months_min": "121"}, []),
        ({"term_months_min": "84"}, ["floor", "offtake"]),
        ({"term_months_min": "85"}, ["floor"]),
        ({"term_months_min": "18"}, ["floor", "loan", "offtake"]),
        ({"term_months_max": "18"}, ["loan"]),
        ({"term_months_max": "83"}, ["loan"]),
        ({"term_months_max": "84"}, ["loan", "offtake"]),
        ({"term_months_min": "19", "term_months_max": "119"}, ["offtake"]),
        ({"term_unit": "months"}, ["loan"]),
        ({"output_share_min": "50"}, ["floor"]),
        ({"output_share_max": "40"}, ["offtake"]),
    ],
)
def test_deal_term_filters(client, termed, params, expected):
    assert _slugs(client, DEALS, **params) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("unit_price_min", "-1", QUANTITY_MESSAGE),
        ("unit_price_max", "1e3", QUANTITY_MESSAGE),
        ("output_share_min", "50%", QUANTITY_MESSAGE),
        ("term_months_min", "1.5", WHOLE_MESSAGE),
        ("term_months_max", "ten", WHOLE_MESSAGE),
        ("unit_price_currency", "US", "'US' is not an ISO 4217 currency code: three letters, e.g. USD."),
        ("unit_price_currency", "USD,dollars", "'DOLLARS' is not an ISO 4217 currency code: three letters, e.g. USD."),
    ],
)
def test_bad_deal_term_bounds_are_400_stating_the_format(client, param, value, message):
    response = client.get(DEALS, {param: value})
    assert response.status_code == 400
    assert response.json() == {param: [message]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("param", "value", "noun"),
    [
        ("instrument", "bond", "instrument"),
        ("unit_price_unit", "ounce", "price unit"),
        ("term_unit", "days", "term unit"),
    ],
)
def test_unknown_term_choices_are_400_listing_the_allowed_values(client, param, value, noun):
    response = client.get(DEALS, {param: value})
    assert response.status_code == 400
    (message,) = response.json()[param]
    assert message.startswith(f"'{value}' is not a valid {noun}. Allowed: ")


def test_role_filter_knows_lenders_and_borrowers(client, db):
    loan = DealFactory(slug="loan", deal_type="loan", instrument="loan")
    DealPartyFactory(deal=loan, role=DealParty.Role.LENDER)
    DealPartyFactory(deal=loan, role=DealParty.Role.BORROWER)
    DealFactory(slug="other")
    assert _slugs(client, DEALS, role="lender") == ["loan"]
    assert _slugs(client, DEALS, role="borrower", type="loan") == ["loan"]


@pytest.mark.django_db
def test_a_filterset_builds_only_the_filters_asked_for():
    """deals.filtersets.base.AskedFiltersFilterSet: one asked filter is one built (and deep-copied) filter and one
    form field, with the same rows and the same errors as ever; the class keeps every filter for the schema."""
    from django.http import QueryDict

    from deals import selectors
    from deals.filtersets import DealFilterSet

    DealFactory(slug="signed-one", status="signed")
    DealFactory(slug="announced-one", status="announced")
    queryset = selectors.deal_list()
    asked = DealFilterSet(QueryDict("status=signed&page_size=5"), queryset=queryset)
    assert set(asked.filters) == {"status"} and set(asked.form.fields) == {"status"}
    assert [deal.slug for deal in asked.qs] == ["signed-one"]
    assert len(DealFilterSet.base_filters) > 20 and "country" in DealFilterSet.base_filters
    wrong = DealFilterSet(QueryDict("status=nope&country=ZZ"), queryset=queryset)
    assert not wrong.is_valid() and set(wrong.errors) == {"status", "country"}
