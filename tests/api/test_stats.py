"""/api/v1/stats/deals/ and /api/v1/stats/facilities/ (deals/api/stats.py, deals/selectors/stats.py).

The figures on the seed dataset are checked against numbers worked out BY HAND from fixtures/dataset/*.yaml (not
from the code under test): the comment above each table lists the deals or facilities behind every number. The
eleven published deals, with their stated USD value (amount_usd), are:

    D1  pakistan-500m-…            500,000,000   government_agreement signed    stages mining, separation-refining
        commodity critical-minerals; countries PK US; parties Gov. of Pakistan (government, PK), US Strategic
        Metals (company, US); undated
    D2  kazakhstan-orders-…        —             government_directive announced  no stage; rare-earth-elements; KZ;
        Gov. of Kazakhstan (government, KZ); undated
    D3  reelement-principal-…      —             partnership signed  separation-refining, metals-alloys;
        rare-earth-elements; US; ReElement (company, no country), Principal Mineral (unknown, none); 2025-08
    D4  us-department-of-defense-… 2,000,000     grant signed  no stage, no commodity; US; U.S. Department of
        Defense (agency, US) as GRANTOR, ReElement (company) grantee; undated
    D5  js-link-223m-…             223,000,000   plant_investment announced  magnets; ndfeb-magnets; KR US;
        JS Link (unknown, KR); undated
    D6  torngat-metals-vac-…       —             mou non_binding  mining; dysprosium, terbium; CA DE;
        Torngat (unknown, CA), VAC (unknown, DE); 2025-08
    D7  apple-500m-…               500,000,000   partnership unknown  magnets; permanent-magnets; no country;
        Apple (company, none), MP Materials (unknown, none); undated
    D8  gm-offtake-with-noveon     —             offtake unknown  magnets; permanent-magnets; no country;
        GM (company, none), Noveon (unknown, none); undated
    D9  group14-…-463m-…           463,000,000   equity_funding closed  battery-materials; silicon-anode-material;
        KR US; Group14 (company, US), SK Inc. (company, none); undated
    D10 sojitz-expands-…           —             offtake unknown  no stage; rare-earth-elements; JP;
        Sojitz, Lynas (unknown, none); undated
    D11 united-states-japan-…      —             government_agreement non_binding  separation-refining;
        critical-minerals; JP US; U.S. government (government, US), Gov. of Japan (government, JP); undated

Commodity tree (fixtures/dataset/commodities.yaml): critical-minerals > rare-earth-elements > dysprosium, terbium,
rare-earth-oxides, rare-earth-metals; critical-minerals > lithium, graphite; permanent-magnets > ndfeb-magnets;
silicon > silicon-anode-material.

Totals: 11 deals; 500 + 2 + 223 + 500 + 463 = 1,688 million USD stated; 6 without a value (D2 D3 D6 D8 D10 D11).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from deals.models import Commodity, Company, Facility, PublicationStatus, SupplyChainStage
from deals.selectors.stats import DEAL_DIMENSIONS, FACILITY_DIMENSIONS
from tests.factories import CommodityFactory, CompanyFactory, DealFactory, DealPartyFactory, FacilityFactory

DEALS = "/api/v1/stats/deals/"
FACILITIES = "/api/v1/stats/facilities/"
M = 1_000_000


@pytest.fixture
def dataset(db):
    call_command("load_dataset", verbosity=0)


def _usd(millions: float) -> str:
    return f"{Decimal(str(millions)) * M:.2f}"


def _groups(body: dict) -> dict[str, tuple[int, str, int]]:
    return {g["key"]: (g["deal_count"], g["value_usd_sum"], g["deals_without_value"]) for g in body["groups"]}


def _figures(figures: dict) -> tuple[int, str, int]:
    return figures["deal_count"], figures["value_usd_sum"], figures["deals_without_value"]


# dimension -> ({key: (deals, USD millions, deals without value)}, (not grouped: deals, millions, without)).
HAND_CHECKED = {
    # Rolled up: D6 names dysprosium AND terbium, yet counts once in rare-earth-elements and once in
    # critical-minerals. critical-minerals = D1 D11 (direct) + D2 D3 D10 (rare earths) + D6 = 6 deals, 500 (D1),
    # 5 without. rare-earth-elements = D2 D3 D10 D6. permanent-magnets = D7 D8 + D5 (NdFeB) = 500 + 223.
    # Not grouped: D4 (no commodity), 2 million.
    "commodity": (
        {
            "critical-minerals": (6, 500, 5),
            "rare-earth-elements": (4, 0, 4),
            "dysprosium": (1, 0, 1),
            "terbium": (1, 0, 1),
            "permanent-magnets": (3, 723, 1),
            "ndfeb-magnets": (1, 223, 0),
            "silicon": (1, 463, 0),
            "silicon-anode-material": (1, 463, 0),
        },
        (1, 2, 0),
    ),
    # Direct only: permanent-magnets = D7 D8 (without D5's NdFeB magnets).
    "commodity_exact": (
        {
            "critical-minerals": (2, 500, 1),
            "rare-earth-elements": (3, 0, 3),
            "dysprosium": (1, 0, 1),
            "terbium": (1, 0, 1),
            "permanent-magnets": (2, 500, 1),
            "ndfeb-magnets": (1, 223, 0),
            "silicon-anode-material": (1, 463, 0),
        },
        (1, 2, 0),
    ),
    # US = D1 D3 D4 D5 D9 D11: 500 + 2 + 223 + 463 = 1188, D3 and D11 without. KR = D5 D9 = 686. JP = D10 D11.
    # Not grouped: D7 D8 (no country), 500.
    "country": (
        {
            "US": (6, 1188, 2),
            "KR": (2, 686, 0),
            "PK": (1, 500, 0),
            "JP": (2, 0, 2),
            "CA": (1, 0, 1),
            "DE": (1, 0, 1),
            "KZ": (1, 0, 1),
        },
        (2, 500, 1),
    ),
    # Parties' countries: US = D1 (US Strategic Metals) D4 (DoD) D9 (Group14) D11 (U.S. government) = 965, D11
    # without. Not grouped (no party with a stated country): D3 D7 D8 D10, 500 (D7), 3 without.
    "party_country": (
        {
            "US": (4, 965, 1),
            "PK": (1, 500, 0),
            "KR": (1, 223, 0),
            "CA": (1, 0, 1),
            "DE": (1, 0, 1),
            "JP": (1, 0, 1),
            "KZ": (1, 0, 1),
        },
        (4, 500, 3),
    ),
    # One group per deal: the counts add up to 11.
    "deal_type": (
        {
            "government_agreement": (2, 500, 1),
            "partnership": (2, 500, 1),
            "equity_funding": (1, 463, 0),
            "plant_investment": (1, 223, 0),
            "grant": (1, 2, 0),
            "offtake": (2, 0, 2),
            "government_directive": (1, 0, 1),
            "mou": (1, 0, 1),
        },
        (0, 0, 0),
    ),
    # signed = D1 D3 D4 = 502; unknown = D7 D8 D10 = 500; announced = D2 D5 = 223; non_binding = D6 D11.
    "status": (
        {
            "signed": (3, 502, 1),
            "unknown": (3, 500, 2),
            "closed": (1, 463, 0),
            "announced": (2, 223, 1),
            "non_binding": (2, 0, 2),
        },
        (0, 0, 0),
    ),
    # magnets = D5 D7 D8; separation-refining = D1 D3 D11; mining = D1 D6. Not grouped: D2 D4 D10 = 2 million.
    "stage": (
        {
            "magnets": (3, 723, 1),
            "separation-refining": (3, 500, 2),
            "mining": (2, 500, 1),
            "battery-materials": (1, 463, 0),
            "metals-alloys": (1, 0, 1),
        },
        (3, 2, 2),
    ),
    # Only D3 and D6 are dated (August 2025); the other nine are not grouped.
    "announced_year": ({"2025": (2, 0, 2)}, (9, 1688, 4)),
    # company = D1 D3 D4 (ReElement as grantee) D7 D8 D9 = 500 + 2 + 500 + 463 = 1465, D3 D8 without.
    # government = D1 D2 D11 (governments) + D4 (the DoD, an agency) = 502. unknown = D3 D5 D6 D7 D8 D10 = 723.
    "party_kind": (
        {
            "company": (6, 1465, 2),
            "unknown": (6, 723, 4),
            "government": (4, 502, 2),
            "agency": (1, 2, 0),
        },
        (0, 0, 0),
    ),
    # Only two deals' sources name an instrument: D4's "$2 million U.S. Department of Defense grant" and D8's
    # "GM's offtake with Noveon". The other nine are not grouped: 1688 - 2 = 1686, 6 - 1 (D8) = 5 without.
    "instrument": ({"grant": (1, 2, 0), "offtake": (1, 0, 1)}, (9, 1686, 5)),
}


def test_every_dimension_is_hand_checked():
    assert set(HAND_CHECKED) == set(DEAL_DIMENSIONS)


@pytest.mark.parametrize("group_by", list(HAND_CHECKED))
def test_deal_stats_on_the_seed_dataset_match_the_hand_count(client, dataset, group_by):
    groups, not_grouped = HAND_CHECKED[group_by]
    response = client.get(DEALS, {"group_by": group_by})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["group_by"] == group_by
    assert _groups(body) == {key: (n, _usd(usd), without) for key, (n, usd, without) in groups.items()}
    assert _figures(body["totals"]) == (11, _usd(1688), 6)
    assert _figures(body["totals"]["not_grouped"]) == (not_grouped[0], _usd(not_grouped[1]), not_grouped[2])


def test_groups_are_ordered_by_value_then_count_then_key(client, dataset):
    body = client.get(DEALS, {"group_by": "commodity"}).json()
    # 723, 500, 463 (silicon, silicon-anode-material by key), 223, then the 0s by count: rare earths (4),
    # dysprosium and terbium (1 each, by key).
    assert [g["key"] for g in body["groups"]] == [
        "permanent-magnets",
        "critical-minerals",
        "silicon",
        "silicon-anode-material",
        "ndfeb-magnets",
        "rare-earth-elements",
        "dysprosium",
        "terbium",
    ]
    labels = {g["key"]: g["label"] for g in body["groups"]}
    assert labels["ndfeb-magnets"] == "NdFeB magnets"


@pytest.mark.parametrize("group_by", DEAL_DIMENSIONS)
def test_overlapping_says_whether_groups_can_add_up_to_more_than_the_totals(client, dataset, group_by):
    body = client.get(DEALS, {"group_by": group_by}).json()
    overlapping = group_by not in ("deal_type", "status", "announced_year", "instrument")
    assert body["overlapping"] is overlapping
    in_groups = sum(g["deal_count"] for g in body["groups"]) + body["totals"]["not_grouped"]["deal_count"]
    if overlapping:
        # On the seed dataset every overlapping dimension has a deal in two groups (D1 has two stages, two
        # countries, two party kinds; D6 two commodities).
        assert in_groups > body["totals"]["deal_count"]
    else:
        assert in_groups == body["totals"]["deal_count"]


def test_stats_take_the_deals_list_filters(client, dataset):
    """party_kind=government: D1 D2 D4 D11 (the DoD grant too, though its role is grantor), 502 million."""
    body = client.get(DEALS, {"group_by": "stage", "party_kind": "government"}).json()
    assert _figures(body["totals"]) == (4, _usd(502), 2)
    # Stages of D1 (mining, separation-refining) and D11 (separation-refining); D2 and D4 have none.
    assert _groups(body) == {"separation-refining": (2, _usd(500), 1), "mining": (1, _usd(500), 0)}
    assert _figures(body["totals"]["not_grouped"]) == (2, _usd(2), 1)
    # The same filters select the same deals as the list.
    for params in ({"commodity": "permanent-magnets"}, {"country": "us", "status": "signed"}, {"q": "magnet"}):
        listed = client.get("/api/v1/deals/", {**params, "page_size": 100}).json()["count"]
        assert client.get(DEALS, {**params, "group_by": "status"}).json()["totals"]["deal_count"] == listed


def test_commodity_filter_and_group_agree(client, dataset):
    """commodity=permanent-magnets (rolled up) finds D5 D7 D8, exactly the permanent-magnets group."""
    body = client.get(DEALS, {"group_by": "commodity", "commodity": "permanent-magnets"}).json()
    assert _figures(body["totals"]) == (3, _usd(723), 1)
    exact = client.get(DEALS, {"group_by": "commodity", "commodity_exact": "permanent-magnets"}).json()
    assert _figures(exact["totals"]) == (2, _usd(500), 1)  # D7 D8


# --- facilities --------------------------------------------------------------------------------------------
# The five published facilities (fixtures/dataset/*.yaml):
#   F1 reelement-principal-…-hub  separation announced US  rare-earth-metals, rare-earth-oxides  no capacity
#   F2 js-link-columbus-…         magnet announced US  ndfeb-magnets  3000 tonnes per year; start 2027; 500+ jobs
#   F3 neo-…-narva-…              magnet commissioning EE  permanent-magnets  no capacity; start 2025-09
#   F4 strange-lake-deposit       mine unknown CA  dysprosium, terbium  no capacity
#   F5 group14-south-korea-…      battery_materials operating KR  silicon-anode-material  no capacity
TONNES_3000 = [{"unit": "tonnes", "period": "year", "capacity_sum": "3000.000", "facility_count": 1}]
FACILITY_HAND_CHECKED = {
    "kind": {
        "magnet": (2, TONNES_3000, 1),
        "separation": (1, [], 1),
        "mine": (1, [], 1),
        "battery_materials": (1, [], 1),
    },
    "status": {
        "announced": (2, TONNES_3000, 1),
        "commissioning": (1, [], 1),
        "operating": (1, [], 1),
        "unknown": (1, [], 1),
    },
    "country": {"US": (2, TONNES_3000, 1), "CA": (1, [], 1), "EE": (1, [], 1), "KR": (1, [], 1)},
    # Rolled up: F1 names two rare earth materials and F4 two rare earth elements, each counts once.
    "commodity": {
        "critical-minerals": (2, [], 2),
        "rare-earth-elements": (2, [], 2),
        "permanent-magnets": (2, TONNES_3000, 1),
        "ndfeb-magnets": (1, TONNES_3000, 0),
        "rare-earth-metals": (1, [], 1),
        "rare-earth-oxides": (1, [], 1),
        "dysprosium": (1, [], 1),
        "terbium": (1, [], 1),
        "silicon": (1, [], 1),
        "silicon-anode-material": (1, [], 1),
    },
    "commodity_exact": {
        "permanent-magnets": (1, [], 1),
        "ndfeb-magnets": (1, TONNES_3000, 0),
        "rare-earth-metals": (1, [], 1),
        "rare-earth-oxides": (1, [], 1),
        "dysprosium": (1, [], 1),
        "terbium": (1, [], 1),
        "silicon-anode-material": (1, [], 1),
    },
}


def test_every_facility_dimension_is_hand_checked():
    assert set(FACILITY_HAND_CHECKED) == set(FACILITY_DIMENSIONS)


@pytest.mark.parametrize("group_by", list(FACILITY_HAND_CHECKED))
def test_facility_stats_on_the_seed_dataset_match_the_hand_count(client, dataset, group_by):
    body = client.get(FACILITIES, {"group_by": group_by}).json()
    groups = {g["key"]: (g["facility_count"], g["capacity"], g["facilities_without_capacity"]) for g in body["groups"]}
    assert groups == FACILITY_HAND_CHECKED[group_by]
    assert body["overlapping"] is group_by.startswith("commodity")
    totals = body["totals"]
    assert (totals["facility_count"], totals["capacity"], totals["facilities_without_capacity"]) == (5, TONNES_3000, 4)
    assert totals["not_grouped"] == {"facility_count": 0}


def test_facility_stats_take_the_facilities_list_filters(client, dataset):
    """Magnet plants starting in 2027: F2 only."""
    params = {"group_by": "country", "kind": "magnet", "planned_start_after": "2027", "planned_start_before": "2027"}
    body = client.get(FACILITIES, params).json()
    assert [(g["key"], g["facility_count"], g["capacity"]) for g in body["groups"]] == [("US", 1, TONNES_3000)]


# --- sums, units and records the public does not see ---------------------------------------------------------


@pytest.mark.django_db
def test_sums_are_exact_to_the_cent_on_both_databases(client):
    # Binary floating point makes 0.10 + 0.20 = 0.30000000000000004 and loses cents past 2**53 / 100.
    for value in ("0.10", "0.20", "12345678901234.56", "0.01"):
        DealFactory(amount=Decimal(value), amount_usd=Decimal(value), countries=["US"])
    DealFactory(amount=None, currency="", value_qualifier="", amount_usd=None, countries=["US"])
    body = client.get(DEALS, {"group_by": "country"}).json()
    assert _groups(body) == {"US": (5, "12345678901234.87", 1)}


@pytest.mark.django_db
def test_capacities_are_summed_per_unit_and_period_never_across(client):
    year = {"capacity_period": "year", "kind": Facility.Kind.BATTERY_MATERIALS}
    FacilityFactory(capacity_amount=Decimal("20.5"), capacity_unit="GWh", **year)
    FacilityFactory(capacity_amount=Decimal("1.25"), capacity_unit="GWh", **year)
    FacilityFactory(capacity_amount=Decimal("3000"), capacity_unit="tonnes", **year)
    FacilityFactory(
        capacity_amount=Decimal("10"), capacity_unit="tonnes", capacity_period="month", kind="battery_materials"
    )
    FacilityFactory(kind=Facility.Kind.BATTERY_MATERIALS)
    body = client.get(FACILITIES, {"group_by": "kind"}).json()
    assert body["groups"] == [
        {
            "key": "battery_materials",
            "label": "Battery-materials plant",
            "facility_count": 5,
            "capacity": [
                {"unit": "GWh", "period": "year", "capacity_sum": "21.750", "facility_count": 2},
                {"unit": "tonnes", "period": "month", "capacity_sum": "10.000", "facility_count": 1},
                {"unit": "tonnes", "period": "year", "capacity_sum": "3000.000", "facility_count": 1},
            ],
            "facilities_without_capacity": 1,
        }
    ]


@pytest.mark.django_db
def test_drafts_and_unpublished_parties_are_not_counted(client):
    DealFactory(publication_status=PublicationStatus.DRAFT)
    deal = DealFactory()
    DealPartyFactory(deal=deal, company=CompanyFactory(kind=Company.Kind.AGENCY))
    DealPartyFactory(deal=deal, company=CompanyFactory(kind=Company.Kind.INVESTOR, publication_status="draft"))
    body = client.get(DEALS, {"group_by": "party_kind"}).json()
    assert body["totals"]["deal_count"] == 1
    assert _groups(body) == {"agency": (1, "10000000.00", 0), "government": (1, "10000000.00", 0)}


@pytest.mark.django_db
def test_a_commodity_parent_loop_stored_by_bare_sql_still_ends(client):
    a = CommodityFactory(slug="a")
    b = CommodityFactory(slug="b", parent=a)
    Commodity.objects.filter(pk=a.pk).update(parent=b)  # a → b → a: clean() refuses it, SQL does not
    DealFactory().commodities.add(b)
    body = client.get(DEALS, {"group_by": "commodity"}).json()
    assert _groups(body) == {"a": (1, "10000000.00", 0), "b": (1, "10000000.00", 0)}
    assert client.get("/api/v1/deals/", {"commodity": "a"}).json()["count"] == 1


# --- query counts and bad input -----------------------------------------------------------------------------


def _grow(n: int) -> None:
    magnets = CommodityFactory(slug="permanent-magnets")
    for i in range(n):
        deal = DealFactory(countries=["US", "KR"])
        deal.commodities.add(CommodityFactory(slug=f"magnet-{i}", parent=magnets))
        deal.stages.add(SupplyChainStage.objects.get(slug="magnets"))
        DealPartyFactory(deal=deal, company__kind=Company.Kind.AGENCY)
        FacilityFactory(capacity_amount=Decimal(i), capacity_unit=f"unit-{i}", capacity_period="year").commodities.add(
            magnets
        )


# The dataset version row (deals/caching.py), the `commodity` filter's slug check and the narrower commodities,
# then the selectors: one figures query (totals and groups from the same rows) and the labels (commodities, with
# the tree for the rollup, and stages; none for choices, countries and years).
QUERIES = {"commodity": 5, "stage": 5, "country": 4, "party_kind": 4, "announced_year": 4, "instrument": 4}


@pytest.mark.django_db
@pytest.mark.parametrize("group_by", list(QUERIES))
def test_deal_stats_query_count_does_not_grow(client, django_assert_num_queries, group_by):
    params = {"group_by": group_by, "commodity": "permanent-magnets"}
    _grow(2)
    client.get(DEALS, params)  # creates the version row
    with django_assert_num_queries(QUERIES[group_by]):
        assert client.get(DEALS, {**params, "status": "signed"}).status_code == 200
    for _ in range(20):
        _grow(1)
    with django_assert_num_queries(QUERIES[group_by]):
        body = client.get(DEALS, {**params, "status": "signed,closed"}).json()
    assert body["totals"]["deal_count"] == 22


@pytest.mark.django_db
@pytest.mark.parametrize("group_by", FACILITY_DIMENSIONS)
def test_facility_stats_query_count_does_not_grow(client, django_assert_num_queries, group_by):
    labels = 0 if group_by in ("kind", "status", "country") else 1
    expected = 3 + labels  # version row, totals, groups (+ commodity labels)
    client.get(FACILITIES, {"group_by": group_by})  # creates the version row
    # Each request a new URL, so that the response cache answers none of them.
    for size, status in ((1, "planned"), (20, "planned,operating")):
        for _ in range(size):
            _grow(1)
        with django_assert_num_queries(expected):
            body = client.get(FACILITIES, {"group_by": group_by, "status": status}).json()
        assert body["totals"]["facility_count"] == size + (1 if size == 20 else 0)


BAD = [
    (DEALS, {}, {"group_by": ["Required: the dimension to group by, one of " + ", ".join(DEAL_DIMENSIONS) + "."]}),
    (
        DEALS,
        {"group_by": "colour"},
        {"group_by": ["'colour' is not a dimension. Allowed: " + ", ".join(DEAL_DIMENSIONS) + "."]},
    ),
    (
        FACILITIES,
        {"group_by": "stage"},
        {"group_by": ["'stage' is not a dimension. Allowed: " + ", ".join(FACILITY_DIMENSIONS) + "."]},
    ),
    (DEALS, {"group_by": "stage", "page": "2"}, None),
    (DEALS, {"group_by": "stage", "party_kind": "king"}, None),
    (FACILITIES, {"group_by": "kind", "jobs_min": "-1"}, None),
    (DEALS, {"group_by": "stage", "format": "csv"}, {"format": ["Unknown format 'csv'. Allowed here: json."]}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "params", "expected"), BAD)
def test_bad_input_is_400_naming_the_parameter(client, url, params, expected):
    response = client.get(url, params)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    if expected is not None:
        assert body == expected
    else:
        assert set(body) == set(params) - {"group_by"}


@pytest.mark.django_db
def test_several_problems_are_reported_together(client):
    response = client.get(DEALS, {"group_by": "colour", "commodity": "unobtainium", "status": "pending"})
    assert response.status_code == 400
    assert set(response.json()) == {"group_by", "commodity", "status"}


@pytest.mark.django_db
def test_unknown_slug_alone_is_404_keyed_by_the_parameter(client):
    response = client.get(DEALS, {"group_by": "stage", "commodity": "unobtainium"})
    assert response.status_code == 404
    assert set(response.json()) == {"commodity"}


@pytest.mark.django_db
def test_group_by_given_twice_is_400(client):
    response = client.get(f"{DEALS}?group_by=stage&group_by=status")
    assert response.status_code == 400
    assert set(response.json()) == {"group_by"}


@pytest.mark.django_db
def test_writes_are_refused(client):
    assert client.post(DEALS, {"group_by": "stage"}).status_code == 405


@pytest.mark.django_db
def test_instrument_groups_carry_their_labels_and_leave_unstated_deals_ungrouped(client):
    DealFactory(instrument="loan", amount=Decimal("150000000"), amount_usd=Decimal("150000000"))
    DealFactory(instrument="loan", amount=None, currency="", amount_usd=None, value_qualifier="")
    DealFactory(terms=True, amount=Decimal("400000000"), amount_usd=Decimal("400000000"))  # a price floor
    DealFactory(amount=Decimal("5"), amount_usd=Decimal("5"))  # no instrument stated
    body = client.get(DEALS, {"group_by": "instrument"}).json()
    assert body["overlapping"] is False
    assert [(g["key"], g["label"]) for g in body["groups"]] == [
        ("price_floor", "Price floor"),
        ("loan", "Loan"),
    ]
    assert _groups(body) == {"price_floor": (1, "400000000.00", 0), "loan": (2, "150000000.00", 1)}
    assert _figures(body["totals"]["not_grouped"]) == (1, "5.00", 0)
    # The instrument filter and the dimension agree.
    filtered = client.get(DEALS, {"group_by": "instrument", "instrument": "loan"}).json()
    assert _groups(filtered) == {"loan": (2, "150000000.00", 1)}
