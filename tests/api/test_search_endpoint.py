"""``/api/v1/search/``: ranked published hits of every type with highlighted fragments, strict parameters, a
fixed number of queries; and ``q`` on the lists costs no query of its own."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deals.caching import dataset_version_get
from deals.models import PublicationStatus
from tests.factories import CommodityFactory, CompanyFactory, DealFactory, FacilityFactory

URL = "/api/v1/search/"


def hits(client, **params) -> list[tuple[str, str]]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return [(hit["type"], hit["slug"]) for hit in response.json()["results"]]


@pytest.mark.django_db
def test_every_type_ranked_names_first_published_only(client):
    deal = DealFactory(slug="d-title", title="Graphite offtake")
    company = CompanyFactory(slug="c-description", name="Anode Co", description="Makes graphite anodes.")
    facility = FacilityFactory(slug="f-name", name="Graphite mill")
    commodity = CommodityFactory(slug="graphite", name="Graphite", symbol="C")
    DealFactory(slug="d-draft", title="Graphite draft", publication_status=PublicationStatus.DRAFT)
    CompanyFactory(slug="c-other", name="Other Co")
    found = hits(client, q="graphite")
    assert set(found) == {
        ("deal", deal.slug),
        ("company", company.slug),
        ("facility", facility.slug),
        ("commodity", commodity.slug),
    }
    assert found[-1] == ("company", company.slug)  # the only one with the word in a description, not a name
    assert hits(client, q="graphite", type="company,facility") == [
        ("facility", facility.slug),
        ("company", company.slug),
    ]


@pytest.mark.django_db
def test_hit_fields_url_and_highlighted_escaped_fragment(client):
    deal = DealFactory(slug="magnet-deal", title="<b>Magnet</b> offtake & more", summary="Buys magnets.")
    body = client.get(URL, {"q": "magnet"}).json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    (hit,) = body["results"]
    assert hit["type"] == "deal" and hit["slug"] == deal.slug and hit["name"] == deal.title
    assert hit["url"] == f"http://testserver/api/v1/deals/{deal.slug}/"
    assert re.fullmatch(r"[0-9]+\.[0-9]{6}", hit["rank"]) and float(hit["rank"]) > 0
    # The text is escaped; the matched words (stemmed: "magnets" too) are the only markup.
    assert "<mark>Magnet</mark>&lt;/b&gt; offtake" in hit["fragment"]
    assert "&amp;" in hit["fragment"] and "<b>" not in hit["fragment"]
    assert client.get(hit["url"]).status_code == 200


@pytest.mark.django_db
def test_pages_and_link_header(client):
    for n in range(3):
        DealFactory(slug=f"lithium-{n}", title="Lithium offtake")
    first = client.get(URL, {"q": "lithium", "page_size": 2})
    body = first.json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert 'rel="next"' in first["Link"]
    second = client.get(body["next"]).json()
    assert [hit["slug"] for hit in body["results"] + second["results"]] == ["lithium-0", "lithium-1", "lithium-2"]
    assert client.get(URL, {"q": "lithium", "page": 3}).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "magnet", "type": "deal,source"}, "type"),
        ({"q": "magnet", "type": ["deal", "company"]}, "type"),
        ({"q": "magnet", "page_size": "101"}, "page_size"),
        ({"q": "magnet", "page": "0"}, "page"),
        ({"q": "magnet", "ordering": "slug"}, "ordering"),
    ],
)
def test_bad_parameters_are_400s_naming_the_parameter(client, params, parameter):
    response = client.get(URL, params)
    assert response.status_code == 400, response.content
    assert parameter in response.json()


@pytest.mark.django_db
def test_a_query_without_terms_finds_nothing(client):
    DealFactory(title="Offtake")
    for q in ("!!!", "   "):
        assert client.get(URL, {"q": q}).json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 20])
def test_search_query_count_does_not_grow(client, django_assert_num_queries, size):
    for n in range(size):
        DealFactory(title=f"Cobalt deal {n}")
        FacilityFactory(name=f"Cobalt plant {n}")
    dataset_version_get()
    # The dataset version row, the count, the page of hits, their fragments.
    with django_assert_num_queries(4):
        response = client.get(URL, {"q": "cobalt", "page_size": 2 * size})
    assert len(response.json()["results"]) == 2 * size


@pytest.mark.django_db
@pytest.mark.parametrize("collection", ["deals", "companies", "facilities", "sources", "commodities"])
def test_q_adds_no_query_to_a_list(client, collection, settings):
    DealFactory(title="Cobalt deal")
    dataset_version_get()
    # Both requests build their records (a warm record cache would spare the second its relations query).
    settings.REEXAPI_RECORD_CACHE_BYTES = 0

    def queries(**params) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/api/v1/{collection}/", params).status_code == 200
        return len(captured)

    assert queries(q="cobalt") == queries()
