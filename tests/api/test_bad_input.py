"""Section 3 of the API issue: every client mistake is a 400 keyed by the parameter, never a 500 (a slug naming
no record is a 404 with the same body).

Each case states the parameter, the value and a fragment the message must contain (what is wrong and what
is allowed). The cases run against the deals list unless they name another collection.
"""

from __future__ import annotations

import pytest
from django.urls import resolve

from deals.api.pagination import MAX_PAGE_SIZE
from deals.api.query import MAX_PARAM_LENGTH, filterset_repeatable
from deals.models import Commodity, Company, Deal, DealParty, Facility
from tests.factories import CommodityFactory, DealFactory, DealPartyFactory, EvidenceFactory, FacilityFactory

DATE = "Enter a date as YYYY-MM-DD, e.g. 2025-09-01."
USD = (
    "Enter a plain decimal number of US dollars: up to 16 digits, optionally a point and 1 or 2 decimals, "
    "e.g. 50000000 or 1250000.50."
)
NUL = "NUL bytes (\\x00) are not allowed in query parameters."
DEAL_ORDERING = (
    "Valid fields: announced_date, -announced_date, amount_usd, -amount_usd, title, -title, slug, -slug, "
    "evidence_count, -evidence_count, updated, -updated."
)
TOO_LONG = "Too long ({n} characters); at most {limit} characters are allowed."
LONGEST = MAX_PARAM_LENGTH + 1
COUNTRY = (
    "'{code}' is not an ISO 3166-1 alpha-2 country code. Allowed: two-letter codes such as US, CN, KR, JP, DE, AU."
)


def _choices(model_choices) -> str:
    """The allowed values as the message lists them: every choice value, in declaration order."""
    return ", ".join(model_choices.values)


def _unknown_slug(noun: str, slug: str, where: str) -> str:
    return f"Unknown {noun} slug '{slug}'. Use the slug of an existing {noun} ({where})."


COMMODITIES = "listed at /api/v1/commodities/"
COMPANIES = "listed at /api/v1/companies/"

CASES = [
    # invalid values: dates are exactly YYYY-MM-DD
    ("deals", "announced_after", "2025-13-01", DATE),
    ("deals", "announced_before", "yesterday", DATE),
    ("deals", "announced_after", "01/09/2025", DATE),
    ("sources", "published_after", "2025-02-30", DATE),
    ("deals", "announced_after", "2025-1-1", DATE),
    ("deals", "announced_before", "2025-01-01T00:00", DATE),
    ("deals", "announced_after", "\uff12\uff10\uff12\uff15-01-01", DATE),
    ("sources", "published_before", " 2025-01-01", DATE),
    # USD values are plain ASCII decimals: one message for every other shape
    ("deals", "value_usd_min", "ten", USD),
    ("deals", "value_usd_min", "NaN", USD),
    ("deals", "value_usd_max", "Infinity", USD),
    ("deals", "value_usd_max", "1e999999", USD),
    ("deals", "value_usd_max", "1e400", USD),
    ("deals", "value_usd_min", "1e3", USD),
    ("deals", "value_usd_min", "1_000", USD),
    ("deals", "value_usd_min", "\uff15", USD),
    ("deals", "value_usd_min", " 100 ", USD),
    ("deals", "value_usd_min", "-5", USD),
    ("deals", "value_usd_max", "+5", USD),
    ("deals", "value_usd_max", ".5", USD),
    ("deals", "value_usd_max", "5.", USD),
    ("deals", "value_usd_min", "1.001", USD),
    ("deals", "value_usd_max", "1" * 17, USD),
    # unknown choices
    ("deals", "status", "pending", f"'pending' is not a valid deal status. Allowed: {_choices(Deal.Status)}."),
    ("deals", "type", "bond", f"'bond' is not a valid deal type. Allowed: {_choices(Deal.Type)}."),
    ("deals", "instrument", "bond", f"'bond' is not a valid instrument. Allowed: {_choices(Deal.Instrument)}."),
    ("deals", "unit_price_unit", "ounce", f"'ounce' is not a valid price unit. Allowed: {_choices(Deal.PriceUnit)}."),
    ("deals", "term_unit", "days", f"'days' is not a valid term unit. Allowed: {_choices(Deal.TermUnit)}."),
    ("deals", "role", "owner", f"'owner' is not a valid party role. Allowed: {_choices(DealParty.Role)}."),
    ("deals", "country", "XX", COUNTRY.format(code="XX")),
    ("deals", "country", "USA", COUNTRY.format(code="USA")),
    ("deals", "party_country", "ZZ", COUNTRY.format(code="ZZ")),
    ("facilities", "kind", "factory", f"'factory' is not a valid facility kind. Allowed: {_choices(Facility.Kind)}."),
    ("facilities", "status", "open", f"'open' is not a valid facility status. Allowed: {_choices(Facility.Status)}."),
    ("companies", "kind", "person", f"'person' is not a valid company kind. Allowed: {_choices(Company.Kind)}."),
    ("commodities", "kind", "metal", f"'metal' is not a valid commodity kind. Allowed: {_choices(Commodity.Kind)}."),
    # ordering, pagination, format
    ("deals", "ordering", "price", f"Unknown ordering field 'price'. {DEAL_ORDERING}"),
    ("deals", "ordering", "title,", f"Empty ordering field. {DEAL_ORDERING}"),
    ("deals", "ordering", "title,title", "'title' is given more than once."),
    ("deals", "ordering", "-title,slug,-title", "'-title' is given more than once."),
    (
        "companies",
        "ordering",
        "-size",
        "Unknown ordering field '-size'. Valid fields: name, -name, slug, -slug, deal_count, -deal_count, "
        "facility_count, -facility_count, evidence_count, -evidence_count, updated, -updated.",
    ),
    (
        "deals",
        "page_size",
        str(MAX_PAGE_SIZE + 1),
        f"{MAX_PAGE_SIZE + 1} is out of range; enter a whole number from 1 to {MAX_PAGE_SIZE}.",
    ),
    ("deals", "page_size", "0", f"0 is out of range; enter a whole number from 1 to {MAX_PAGE_SIZE}."),
    ("deals", "page", "two", "'two' is not a whole number; enter a whole number of at least 1."),
    ("deals", "page", "0", "0 is out of range; enter a whole number of at least 1."),
    ("deals", "format", "xml", "Unknown format 'xml'. Allowed here: json."),
    # NUL bytes and oversized values, in every kind of parameter
    ("deals", "q", "lith\x00ium", NUL),
    ("deals", "status", "signed\x00", NUL),
    ("deals", "commodity", "\x00", NUL),
    ("deals", "announced_after", "2025-01-01\x00", NUL),
    ("sources", "publisher", "Reu\x00ters", NUL),
    ("deals", "page", "1\x00", NUL),
    ("deals", "ordering", "title\x00", NUL),
    ("deals", "q", "a" * LONGEST, TOO_LONG.format(n=LONGEST, limit=MAX_PARAM_LENGTH)),
    # Under the 4096-byte query-string limit (see test_query_string_over_the_limit_is_400_keyed_by_query).
    ("sources", "publisher", "R" * 4000, TOO_LONG.format(n=4000, limit=MAX_PARAM_LENGTH)),
    ("deals", "commodity", "x" * LONGEST, TOO_LONG.format(n=LONGEST, limit=MAX_PARAM_LENGTH)),
]


# Unknown slugs are well-formed requests naming no record: a 404 (the schema cannot list the valid slugs), keyed by
# the parameter like a 400.
UNKNOWN_SLUG_CASES = [
    ("deals", "commodity", "unobtainium", _unknown_slug("commodity", "unobtainium", COMMODITIES)),
    ("deals", "company", "nobody", _unknown_slug("company", "nobody", COMPANIES)),
    ("deals", "source", "no-such-article", _unknown_slug("source", "no-such-article", "listed at /api/v1/sources/")),
    (
        "deals",
        "stage",
        "smelting",
        _unknown_slug("supply-chain stage", "smelting", "see a deal's stages")
        + " Allowed: batteries-components, battery-materials, magnets, metals-alloys, mining, recycling, "
        "separation-refining.",
    ),
    ("facilities", "commodity", "unobtainium", _unknown_slug("commodity", "unobtainium", COMMODITIES)),
    ("facilities", "company", "nobody", _unknown_slug("company", "nobody", COMPANIES)),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("collection", "param", "value", "message"),
    UNKNOWN_SLUG_CASES,
    ids=[f"{c[1]}={c[2]!r}" for c in UNKNOWN_SLUG_CASES],
)
def test_unknown_slug_is_404_keyed_by_parameter(client, collection, param, value, message):
    DealFactory()
    response = client.get(f"/api/v1/{collection}/", {param: value})
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {param: [message]}


@pytest.mark.django_db
def test_unknown_slug_with_another_problem_is_one_400(client):
    response = client.get("/api/v1/deals/", {"commodity": "unobtainium", "status": "pending"})
    assert response.status_code == 400
    assert set(response.json()) == {"commodity", "status"}
    assert response.json()["commodity"] == [_unknown_slug("commodity", "unobtainium", COMMODITIES)]


@pytest.mark.django_db
def test_ordering_a_field_both_ways_keeps_the_first(client):
    DealFactory(title="Alpha")
    DealFactory(title="Beta")
    both = client.get("/api/v1/deals/", {"ordering": "-title,title"})
    assert both.status_code == 200
    assert [row["title"] for row in both.json()["results"]] == ["Beta", "Alpha"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("collection", "param", "value", "message"), CASES, ids=[f"{c[1]}={c[2][:20]!r}" for c in CASES]
)
def test_bad_value_is_400_keyed_by_parameter(client, collection, param, value, message):
    DealFactory()
    response = client.get(f"/api/v1/{collection}/", {param: value})
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {param: [message]}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/deals/", "/api/v1/deals/some-deal/", "/api/v1/", "/api/schema/"])
def test_query_string_over_the_limit_is_400_keyed_by_query(client, path, settings, django_assert_num_queries):
    """A query string longer than REEXAPI_MAX_QUERY_STRING (4096 bytes, below the server's 8190-byte request line)
    is a JSON 400 before anything parses it; one at the limit is read as usual."""
    limit = settings.REEXAPI_MAX_QUERY_STRING
    at_limit = "q=" + "a" * (limit - 2)
    with django_assert_num_queries(0):
        response = client.get(f"{path}?{at_limit}x")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "query": [f"Query string too long ({limit + 1} bytes); at most {limit} bytes are allowed."]
    }
    assert client.get(f"/api/v1/deals/?{at_limit}").json() != response.json()  # at the limit: the usual checks


@pytest.mark.django_db
@pytest.mark.parametrize("collection", ["deals", "companies", "facilities", "sources", "commodities"])
def test_unknown_parameter_is_400_naming_the_valid_ones(client, collection):
    response = client.get(f"/api/v1/{collection}/", {"search": "lithium"})
    assert response.status_code == 400
    view = resolve(f"/api/v1/{collection}/").func.cls
    valid = sorted({*view.filterset_class.base_filters, "format", "ordering", "page", "page_size", "cursor"})
    assert response.json() == {"search": [f"Unknown query parameter. Valid parameters: {', '.join(valid)}."]}


@pytest.mark.django_db
def test_unknown_parameter_message_lists_the_filters(client):
    message = client.get("/api/v1/deals/", {"commodities": "x"}).json()["commodities"][0]
    assert message == (
        "Unknown query parameter. Valid parameters: announced_after, announced_before, commodity, commodity_exact, "
        "company, country, cursor, format, instrument, ordering, output_share_max, output_share_min, page, page_size, "
        "party_country, party_kind, q, role, source, stage, status, term_months_max, term_months_min, term_unit, "
        "type, unit_price_currency, unit_price_max, unit_price_min, unit_price_unit, updated_since, value_usd_max, "
        "value_usd_min."
    )


@pytest.mark.django_db
def test_nul_byte_in_parameter_name_is_400(client):
    response = client.get("/api/v1/deals/?st%00atus=signed")
    assert response.status_code == 400
    assert response.json() == {"st\\x00atus": ["NUL bytes (\\x00) are not allowed in query parameters."]}


@pytest.mark.django_db
def test_single_valued_parameter_given_twice_is_400(client):
    response = client.get("/api/v1/deals/?page=1&page=2")
    assert response.status_code == 400
    assert response.json()["page"][0].startswith("Given 2 times; only these parameters may be repeated: ")
    response = client.get("/api/v1/deals/?q=a&q=b")
    assert list(response.json()) == ["q"]


@pytest.mark.django_db
def test_several_problems_are_reported_together(client):
    response = client.get("/api/v1/deals/", {"foo": "1", "bar": "2"})
    assert response.status_code == 400
    assert set(response.json()) == {"foo", "bar"}
    response = client.get("/api/v1/deals/", {"status": "nope", "announced_after": "soon"})
    assert set(response.json()) == {"status", "announced_after"}


@pytest.mark.django_db
def test_bad_input_touches_no_database(client, django_assert_num_queries):
    """Parameter names, NUL bytes and lengths are checked before any query is made: the only query is the dataset
    version row, which the cache middleware reads first and which no client input reaches."""
    from deals.caching import dataset_version_get

    dataset_version_get()  # the row exists (in a fresh test database, the first request creates it)
    for params in ({"foo": "1"}, {"q": "a\x00"}, {"q": "x" * 500}, {"page_size": "1000"}, {"ordering": "x"}):
        with django_assert_num_queries(1) as queries:
            assert client.get("/api/v1/deals/", params).status_code == 400
        assert "deals_datasetversion" in queries.captured_queries[0]["sql"]


@pytest.mark.django_db
def test_valid_multi_value_with_one_unknown_slug_is_404(client):
    CommodityFactory(slug="graphite")
    response = client.get("/api/v1/deals/", {"commodity": "graphite,unobtainium"})
    assert response.status_code == 404
    assert response.json() == {"commodity": [_unknown_slug("commodity", "unobtainium", COMMODITIES)]}


@pytest.mark.django_db
def test_empty_filter_values_are_ignored(client):
    deal = DealFactory()
    response = client.get("/api/v1/deals/", {"status": "", "commodity": ",", "q": ""})
    assert response.status_code == 200
    assert [row["slug"] for row in response.json()["results"]] == [deal.slug]


@pytest.mark.django_db
@pytest.mark.parametrize("collection", ["deals", "companies", "facilities", "sources", "commodities"])
def test_every_empty_filter_is_no_filter(client, collection):
    """Documented (docs/api.md, "Empty values"): an empty filter value, as an HTML form submits it, filters nothing;
    so do a blank `q` and a list of nothing but commas."""
    evidence = EvidenceFactory()
    evidence.deal.commodities.add(CommodityFactory())
    DealPartyFactory(deal=evidence.deal)
    FacilityFactory()
    everything = client.get(f"/api/v1/{collection}/").json()
    assert everything["count"] >= 1
    view = resolve(f"/api/v1/{collection}/").func.cls
    for name in view.filterset_class.base_filters:
        for value in ("", ",") if name in filterset_repeatable(view.filterset_class) else ("",):
            response = client.get(f"/api/v1/{collection}/", {name: value})
            assert response.status_code == 200, (name, value, response.content)
            assert response.json() == everything, (name, value)
    assert client.get(f"/api/v1/{collection}/", {"q": " "}).json() == everything


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("page", "'' is not a whole number; enter a whole number of at least 1."),
        ("page_size", f"'' is not a whole number; enter a whole number from 1 to {MAX_PAGE_SIZE}."),
        ("ordering", f"Empty ordering field. {DEAL_ORDERING}"),
        ("format", "Unknown format ''. Allowed here: json."),
        ("value_usd_min", USD),  # a blank that is not empty is a malformed value, not "no filter"
        ("announced_after", DATE),
    ],
)
def test_empty_or_blank_non_filters_are_400(client, param, message):
    value = " " if param in ("value_usd_min", "announced_after") else ""
    response = client.get("/api/v1/deals/", {param: value})
    assert response.status_code == 400
    assert response.json() == {param: [message]}


@pytest.mark.django_db
def test_q_without_letters_or_digits_is_no_filter(client):
    """No terms: nothing to match, so every record is listed, as for an empty q (the schema states no rule on
    the words of q; see deals.filtersets.SearchFilter)."""
    deals = {DealFactory().slug, DealFactory().slug}
    for q in ("!!! ...", "!", "_", " - "):
        response = client.get("/api/v1/deals/", {"q": q})
        assert response.status_code == 200, q
        assert {row["slug"] for row in response.json()["results"]} == deals


@pytest.mark.django_db
def test_q_may_have_many_terms_within_its_length(client):
    deal = DealFactory(summary=" ".join(f"w{i}" for i in range(30)))
    DealFactory()
    response = client.get("/api/v1/deals/", {"q": " ".join(f"w{i}" for i in range(30))})
    assert response.status_code == 200
    assert [row["slug"] for row in response.json()["results"]] == [deal.slug]
