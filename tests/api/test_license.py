"""The dataset licence on the API: ``Link: rel="license"`` on every answer (combined with pagination's links into one
RFC 8288 header) and the licence and citation in the API index."""

from __future__ import annotations

import pytest

from deals.api.license_link import LICENSE_LINK
from deals.licensing import DATASET_LICENSE
from tests.factories import DealFactory

LICENSE = '<https://creativecommons.org/licenses/by/4.0/>; rel="license"'


def link_values(response) -> list[str]:
    """The link-values of the response's one ``Link`` header (none of our URLs contains a comma)."""
    assert len([name for name in response.headers if name.lower() == "link"]) == 1
    return [value.strip() for value in response["Link"].split(",")]


def test_the_link_is_built_from_the_licensing_module():
    assert LICENSE_LINK == LICENSE
    assert DATASET_LICENSE["url"] in LICENSE_LINK


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/",
        "/api/v1/deals/",
        "/api/v1/deals.csv",
        "/api/v1/companies/",
        "/api/v1/facilities/",
        "/api/v1/sources/",
        "/api/v1/commodities/",
        "/api/schema/",
    ],
)
def test_every_collection_index_and_schema_carries_the_licence(client, path):
    DealFactory()
    response = client.get(path)
    assert response.status_code == 200
    assert link_values(response) == [LICENSE]


@pytest.mark.django_db
def test_detail_and_csv_carry_the_licence(client):
    deal = DealFactory()
    detail = client.get(f"/api/v1/deals/{deal.slug}/")
    assert detail.status_code == 200 and link_values(detail) == [LICENSE]
    csv = client.get("/api/v1/deals.csv")
    assert csv["Content-Type"].startswith("text/csv") and link_values(csv) == [LICENSE]


@pytest.mark.django_db
def test_pagination_links_and_the_licence_share_one_header(client):
    DealFactory.create_batch(3)
    middle = client.get("/api/v1/deals/", {"page_size": 1, "page": 2})
    base = "http://testserver/api/v1/deals/"
    assert link_values(middle) == [
        f'<{base}?page=3&page_size=1>; rel="next"',
        f'<{base}?page=1&page_size=1>; rel="prev"',
        LICENSE,
    ]
    csv = client.get("/api/v1/deals.csv", {"page_size": 1})
    assert link_values(csv) == ['<http://testserver/api/v1/deals.csv?page=2&page_size=1>; rel="next"', LICENSE]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/deals/?status=pending", 400),
        ("get", "/api/v1/deals/?colour=red", 400),
        ("get", "/api/v1/deals/no-such-deal/", 404),
        ("get", "/api/v1/no-such-resource/", 404),
        ("get", "/api/v1/deals/?page=9", 404),
        ("post", "/api/v1/deals/", 405),
        ("get", "/api/v1/deals/?" + "q=" + "x" * 5000, 400),
    ],
)
def test_errors_carry_the_licence(client, method, path, status):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert link_values(response) == [LICENSE]


@pytest.mark.django_db
def test_not_acceptable_carries_the_licence(client):
    response = client.get("/api/v1/", headers={"Accept": "text/csv"})
    assert response.status_code == 406
    assert link_values(response) == [LICENSE]


@pytest.mark.django_db
def test_cached_hits_and_304s_carry_the_licence_once(client, django_assert_num_queries):
    DealFactory.create_batch(2)
    first = client.get("/api/v1/deals/", {"page_size": 1})
    with django_assert_num_queries(1):  # the version row: a replay from the response cache, no view
        replay = client.get("/api/v1/deals/", {"page_size": 1})
    assert replay.content == first.content
    assert (
        link_values(replay)
        == link_values(first)
        == [
            '<http://testserver/api/v1/deals/?page=2&page_size=1>; rel="next"',
            LICENSE,
        ]
    )
    with django_assert_num_queries(1):
        not_modified = client.get("/api/v1/deals/", {"page_size": 1}, headers={"If-None-Match": first["ETag"]})
    assert not_modified.status_code == 304
    assert link_values(not_modified) == [LICENSE]


@pytest.mark.django_db
def test_rate_limited_answers_carry_the_licence(client, settings):
    settings.REEXAPI_API_RATE_LIMIT = "1/minute"
    assert client.get("/api/v1/").status_code == 200
    limited = client.get("/api/v1/")
    assert limited.status_code == 429
    assert link_values(limited) == [LICENSE]


@pytest.mark.django_db
def test_pages_outside_the_api_do_not_claim_the_dataset_licence(client):
    response = client.get("/admin/login/")
    assert "Link" not in response


@pytest.mark.django_db
def test_index_names_the_licence_and_how_to_cite(client):
    body = client.get("/api/v1/").json()
    assert body["license"] == {
        "id": "CC-BY-4.0",
        "name": "Creative Commons Attribution 4.0 International",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    }
    assert body["citation"] == (
        "ReexAPI editors. ReexAPI: critical-mineral deals with verbatim provenance [Data set]. Creative Commons "
        "Attribution 4.0 International (CC-BY-4.0). http://testserver/"
    )
