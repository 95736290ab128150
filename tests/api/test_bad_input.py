"""Section 3 of the API issue: every client mistake is a 400 keyed by the parameter, never a 500.

Each case states the parameter, the value and a fragment the message must contain (what is wrong and what
is allowed). The cases run against the deals list unless they name another collection.
"""

from __future__ import annotations

import pytest

from deals.api.pagination import MAX_PAGE_SIZE
from deals.api.query import MAX_PARAM_LENGTH
from tests.factories import CommodityFactory, DealFactory

CASES = [
    # invalid values
    ("deals", "announced_after", "2025-13-01", "Enter a date as YYYY-MM-DD"),
    ("deals", "announced_before", "yesterday", "Enter a date as YYYY-MM-DD"),
    ("deals", "announced_after", "01/09/2025", "Enter a date as YYYY-MM-DD"),
    ("sources", "published_after", "2025-02-30", "Enter a date as YYYY-MM-DD"),
    ("deals", "value_usd_min", "ten", "Enter a plain decimal number"),
    ("deals", "value_usd_min", "NaN", "Enter a plain decimal number"),
    ("deals", "value_usd_max", "Infinity", "Enter a plain decimal number"),
    ("deals", "value_usd_max", "1e999999", "at most 16 digits"),
    ("deals", "value_usd_min", "-5", "at least 0"),
    ("deals", "value_usd_min", "1.001", "at most 2 decimal places"),
    ("deals", "status", "pending", "'pending' is not a valid deal status. Allowed: announced, non_binding"),
    ("deals", "type", "loan", "'loan' is not a valid deal type. Allowed: equity_funding"),
    ("deals", "role", "owner", "'owner' is not a valid party role. Allowed: lead_investor"),
    ("deals", "country", "XX", "'XX' is not an ISO 3166-1 alpha-2 country code"),
    ("deals", "country", "USA", "'USA' is not an ISO 3166-1 alpha-2 country code"),
    ("facilities", "kind", "factory", "'factory' is not a valid facility kind. Allowed: mine"),
    ("facilities", "status", "open", "'open' is not a valid facility status"),
    ("companies", "kind", "person", "'person' is not a valid company kind"),
    ("commodities", "kind", "metal", "'metal' is not a valid commodity kind"),
    # unknown slugs
    ("deals", "commodity", "unobtainium", "Unknown commodity slug 'unobtainium'"),
    ("deals", "company", "nobody", "Unknown company slug 'nobody'"),
    ("deals", "source", "no-such-article", "Unknown source slug 'no-such-article'"),
    ("deals", "stage", "smelting", "Allowed: batteries-components, battery-materials"),
    ("facilities", "commodity", "unobtainium", "Unknown commodity slug"),
    ("facilities", "company", "nobody", "Unknown company slug"),
    # search
    ("deals", "q", "!!! ...", "at least one letter or digit"),
    ("deals", "q", " ".join(f"w{i}" for i in range(11)), "At most 10 search terms"),
    # ordering, pagination
    ("deals", "ordering", "price", "Unknown ordering field 'price'. Valid fields: announced_date, -announced_date"),
    ("deals", "ordering", "title,", "Empty ordering field"),
    ("deals", "ordering", "title,-title", "'title' is given more than once"),
    ("companies", "ordering", "-size", "Valid fields: name, -name"),
    ("deals", "page_size", str(MAX_PAGE_SIZE + 1), "from 1 to 100"),
    ("deals", "page_size", "0", "from 1 to 100"),
    ("deals", "page", "two", "'two' is not a whole number"),
    ("deals", "page", "0", "at least 1"),
    ("deals", "format", "xml", "Unknown format 'xml'. Allowed here: json, csv"),
    # NUL bytes and oversized values, in every kind of parameter
    ("deals", "q", "lith\x00ium", "NUL bytes"),
    ("deals", "status", "signed\x00", "NUL bytes"),
    ("deals", "commodity", "\x00", "NUL bytes"),
    ("deals", "announced_after", "2025-01-01\x00", "NUL bytes"),
    ("sources", "publisher", "Reu\x00ters", "NUL bytes"),
    ("deals", "page", "1\x00", "NUL bytes"),
    ("deals", "ordering", "title\x00", "NUL bytes"),
    ("deals", "q", "a" * (MAX_PARAM_LENGTH + 1), f"at most {MAX_PARAM_LENGTH} characters"),
    ("sources", "publisher", "R" * 5000, f"at most {MAX_PARAM_LENGTH} characters"),
    ("deals", "commodity", "x" * (MAX_PARAM_LENGTH + 1), f"at most {MAX_PARAM_LENGTH} characters"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("collection", "param", "value", "fragment"), CASES, ids=[f"{c[1]}={c[2][:20]!r}" for c in CASES]
)
def test_bad_value_is_400_keyed_by_parameter(client, collection, param, value, fragment):
    DealFactory()
    response = client.get(f"/api/v1/{collection}/", {param: value})
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == [param]
    assert any(fragment in message for message in body[param]), body


@pytest.mark.django_db
@pytest.mark.parametrize("collection", ["deals", "companies", "facilities", "sources", "commodities"])
def test_unknown_parameter_is_400_naming_the_valid_ones(client, collection):
    response = client.get(f"/api/v1/{collection}/", {"search": "lithium"})
    assert response.status_code == 400
    message = response.json()["search"][0]
    assert message.startswith("Unknown query parameter. Valid parameters: ")
    for name in ("format", "ordering", "page", "page_size", "q"):
        assert name in message


@pytest.mark.django_db
def test_unknown_parameter_message_lists_the_filters(client):
    message = client.get("/api/v1/deals/", {"commodities": "x"}).json()["commodities"][0]
    assert "commodity" in message and "value_usd_min" in message and "announced_after" in message


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
    """Parameter names, NUL bytes and lengths are checked before any query is made."""
    for params in ({"foo": "1"}, {"q": "a\x00"}, {"q": "x" * 500}, {"page_size": "1000"}, {"ordering": "x"}):
        with django_assert_num_queries(0):
            assert client.get("/api/v1/deals/", params).status_code == 400


@pytest.mark.django_db
def test_valid_multi_value_with_one_unknown_slug_is_400(client):
    CommodityFactory(slug="graphite")
    response = client.get("/api/v1/deals/", {"commodity": "graphite,unobtainium"})
    assert response.status_code == 400
    assert "unobtainium" in response.json()["commodity"][0]


@pytest.mark.django_db
def test_empty_filter_values_are_ignored(client):
    deal = DealFactory()
    response = client.get("/api/v1/deals/", {"status": "", "commodity": ",", "q": ""})
    assert response.status_code == 200
    assert [row["slug"] for row in response.json()["results"]] == [deal.slug]
