"""The fast read path's record cache (deals/api/fast/record_cache.py): warm answers are the cold bytes, a warm page
skips its relations query, a write is seen at once, links follow the request's host, and the cache keeps to its
budget."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from deals.api.fast.record_cache import RecordStore, record_cache
from deals.api.views import DealViewSet
from deals.caching import dataset_version_get
from tests.api.fast_dataset import random_deals_create
from tests.factories import CompanyFactory, DealFactory, DealPartyFactory

URLS = [
    "/api/v1/deals/?page_size=40",
    "/api/v1/deals/?page_size=15&ordering=-amount_usd",
    "/api/v1/deals/?page_size=15&ordering=-amount_usd&page=2",
    "/api/v1/companies/?page_size=40",
    "/api/v1/facilities/",
    "/api/v1/sources/",
    "/api/v1/commodities/",
    "/api/v1/deals/?page_size=5&cursor=",
]


@pytest.fixture
def dataset(db, settings):
    """A seeded random dataset, the version row, and the response cache off so that every request runs its view."""
    random_deals_create(deals=60)
    dataset_version_get()
    settings.REEXAPI_RESPONSE_CACHE = False


def _get(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.content[:300]
    return response.content


def _detail_urls(client) -> list[str]:
    urls = []
    for resource in ("deals", "companies", "facilities", "sources"):
        results = client.get(f"/api/v1/{resource}/", {"page_size": 3}).json()["results"]
        urls += [record["url"].removeprefix("http://testserver") for record in results]
    return urls


@pytest.mark.parametrize("accept", ["application/json", "application/json; indent=2"])
def test_warm_answers_are_the_cold_bytes(client, dataset, settings, accept):
    """Every list and detail, compact and indented (DRF's encoder, which parses the stored records back), sends the
    same bytes whether its records were built now or taken from the cache."""
    settings.REEXAPI_RECORD_CACHE_BYTES = 0
    urls = URLS + _detail_urls(client)
    cold = {url: _get(client, url, accept=accept) for url in urls}
    assert len(record_cache()) == 0
    settings.REEXAPI_RECORD_CACHE_BYTES = 8 * 1024 * 1024
    first = {url: _get(client, url, accept=accept) for url in urls}
    stored = len(record_cache())
    assert stored > 60
    again = {url: _get(client, url, accept=accept) for url in urls}
    assert first == cold and again == cold
    assert len(record_cache()) == stored  # the second round stored nothing new: every record came from the cache


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("resource", ["deals", "companies", "facilities"])
def test_a_warm_page_skips_its_relations_query(client, dataset, resource):
    """Cold: the version, the count, the rows, their relations. Warm: no relations query. A page with records not
    seen yet fetches the relations of those alone, in one query whatever their number. (After the first request the
    list's statements are kept, whatever the page size: on PostgreSQL they count and read the page at once.)"""
    joined = 1 if connection.vendor == "postgresql" else 0
    url = f"/api/v1/{resource}/?page_size=10"
    assert _queries(client, url) == 4
    assert _queries(client, url) == 3 - joined
    assert _queries(client, f"/api/v1/{resource}/?page_size=30") == 4 - joined
    assert _queries(client, f"/api/v1/{resource}/?page_size=30") == 3 - joined


def test_a_write_is_seen_at_once(client, db, settings, django_capture_on_commit_callbacks):
    """A committed write replaces the dataset version, so no record rendered before it is reused: neither the
    edited deal nor a deal whose party (another record) was renamed."""
    settings.REEXAPI_RESPONSE_CACHE = False
    with django_capture_on_commit_callbacks(execute=True):
        company = CompanyFactory(slug="acme", name="Acme")
        deal = DealFactory(slug="alpha", title="Alpha offtake")
        DealPartyFactory(deal=deal, company=company)
    dataset_version_get()
    assert client.get("/api/v1/deals/alpha/").json()["title"] == "Alpha offtake"
    assert client.get("/api/v1/deals/").json()["results"][0]["parties"][0]["name"] == "Acme"
    with django_capture_on_commit_callbacks(execute=True):
        deal.title = "Alpha offtake, amended"
        deal.save()
        company.name = "Acme Rare Earths"
        company.save()
    assert client.get("/api/v1/deals/alpha/").json()["title"] == "Alpha offtake, amended"
    assert client.get("/api/v1/deals/").json()["results"][0]["parties"][0]["name"] == "Acme Rare Earths"


def test_links_follow_the_request_host(client, dataset, settings):
    settings.ALLOWED_HOSTS = ["a.example", "b.example"]
    a = client.get("/api/v1/deals/", headers={"host": "a.example"}).json()["results"]
    b = client.get("/api/v1/deals/", headers={"host": "b.example"}).json()["results"]
    assert a[0]["url"].startswith("http://a.example/") and b[0]["url"].startswith("http://b.example/")
    assert [record["slug"] for record in a] == [record["slug"] for record in b]
    assert b[0]["parties"] == [] or b[0]["parties"][0]["url"].startswith("http://b.example/")


def test_the_cache_keeps_to_its_budget(client, dataset, settings):
    """Least recently used records leave first; the page is still whole and right."""
    settings.REEXAPI_RECORD_CACHE_BYTES = 0
    cold = _get(client, "/api/v1/deals/?page_size=40")
    settings.REEXAPI_RECORD_CACHE_BYTES = 6000
    assert _get(client, "/api/v1/deals/?page_size=40") == cold
    assert 0 < record_cache().nbytes <= 6000
    assert 0 < len(record_cache()) < 40
    assert _get(client, "/api/v1/deals/?page_size=40") == cold


def test_no_dataset_version_no_cache(dataset):
    """A request that did not pass the caching middleware has no version to key records by: nothing is stored."""
    view = DealViewSet.as_view({"get": "list"})
    response = view(RequestFactory().get("/api/v1/deals/"))
    response.render()
    assert response.status_code == 200 and len(response.data["results"]) > 0
    assert len(record_cache()) == 0


def test_versions_and_variants_never_share_records():
    """The key holds the version (a request of the previous version may still be running in another thread), the
    variant and the links' origin."""
    built = []

    def build(rows):
        built.extend(rows)
        return [{"n": len(built)} for _row in rows]

    rows = [{"id": 1}]
    prefix = ("v1", "deals.Deal", False, "http://a.example", "/", None)
    RecordStore(prefix=prefix, budget=10_000).reuse(found=rows, build=build)
    RecordStore(prefix=prefix, budget=10_000).reuse(found=rows, build=build)
    assert len(built) == 1
    for other in (("v2", *prefix[1:]), (*prefix[:2], True, *prefix[3:]), (*prefix[:3], "http://b.example", "/", None)):
        RecordStore(prefix=other, budget=10_000).reuse(found=rows, build=build)
    assert len(built) == 4
