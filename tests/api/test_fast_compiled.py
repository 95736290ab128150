"""Rows from SQL compiled once per thread (deals/api/fast/compiled.py): a detail's row and a list's count and page
are the ORM's for every record, page and resource, one statement whatever the record or page, and the ORM again
as soon as the request has a query parameter that is not a page's."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from deals import selectors
from deals.api.fast import compiled
from deals.api.fast.commodities import _ROW_FIELDS as COMMODITY_FIELDS
from deals.api.fast.companies import _ROW_FIELDS as COMPANY_FIELDS
from deals.api.fast.deals import _ROW_FIELDS as DEAL_FIELDS
from deals.api.fast.facilities import _ROW_FIELDS as FACILITY_FIELDS
from deals.api.fast.sources import _ROW_FIELDS as SOURCE_FIELDS
from deals.api.views.resources import DealViewSet
from deals.caching import dataset_version_bump, dataset_version_get
from deals.models import Commodity, Facility
from tests.api.fast_dataset import random_deals_create
from tests.factories import CommodityFactory, DealFactory

RESOURCES = {
    "deal": (selectors.deal_list, DEAL_FIELDS),
    "company": (lambda: selectors.company_list(detail=True), COMPANY_FIELDS),
    "facility": (selectors.facility_list, FACILITY_FIELDS),
    "source": (lambda: selectors.source_list(detail=True), (*SOURCE_FIELDS, "text")),
    "commodity": (selectors.commodity_list, COMMODITY_FIELDS),
}


@pytest.fixture
def dataset(db, settings):
    random_deals_create(deals=40)
    dataset_version_get()
    settings.REEXAPI_RESPONSE_CACHE = False
    settings.REEXAPI_RECORD_CACHE_BYTES = 0  # every detail reads its row
    compiled.compiled_clear()
    yield
    compiled.compiled_clear()


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_compiled_rows_are_the_orm_rows(dataset, resource):
    """Every record's row (decimals, dates, JSON, countries, annotations), compiled once, equals the ORM's."""
    selector, fields = RESOURCES[resource]
    base = selector()
    slugs = list(base.values_list("slug", flat=True))
    assert len(slugs) >= 3
    for slug in [*slugs, "no-such-record"]:
        marked = compiled.lookup_rows(queryset=base, field="slug", value=slug, key=resource)
        expected = list(base.filter(slug=slug).prefetch_related(None).values(*fields))
        assert compiled.rows_values(rows=marked, fields=fields) == expected
    assert len(compiled._compiled.statements) == 1


def _details(client, resource: str, count: int) -> list[str]:
    collection = {"deal": "deals", "company": "companies", "facility": "facilities", "source": "sources"}[resource]
    results = client.get(f"/api/v1/{collection}/", {"page_size": count}).json()["results"]
    return [record["url"].removeprefix("http://testserver") for record in results]


@pytest.mark.parametrize("resource", ["deal", "company", "facility", "source"])
def test_details_without_parameters_share_one_statement(client, dataset, resource):
    urls = _details(client, resource, 3)
    compiled.compiled_clear()
    bodies = [client.get(url).content for url in urls]
    assert len(compiled._compiled.statements) == 1
    # With a parameter the ORM compiles the row query as before: no statement is added, and the answer is the same.
    assert [client.get(url, {"format": "json"}).content for url in urls] == bodies
    assert len(compiled._compiled.statements) == 1


def test_each_thread_compiles_its_own(client, dataset):
    """The kept compiler converts with its thread's connection: another thread never uses it."""
    url = _details(client, "deal", 1)[0]
    compiled.compiled_clear()
    client.get(url)
    mine = dict(compiled._compiled.statements)
    seen = []
    thread = threading.Thread(target=lambda: seen.append(getattr(compiled._compiled, "statements", None)))
    thread.start()
    thread.join()
    assert len(mine) == 1 and seen == [None]


def test_an_unknown_slug_is_still_404(client, dataset):
    assert client.get("/api/v1/deals/no-such-deal/").status_code == 404


LISTS = {
    "deal": "deals",
    "company": "companies",
    "facility": "facilities",
    "source": "sources",
    "commodity": "commodities",
}


def _request(query: str = "", version: str | None = "v1") -> SimpleNamespace:
    """What list_compiled reads of a request: its query parameters and its dataset version."""
    return SimpleNamespace(query_params=QueryDict(query), reexapi_dataset_version=version)


# Statements a kept list saves by counting and reading its page at once (PostgreSQL only).
_JOINED = 1 if connection.vendor == "postgresql" else 0


def _answer(client, url: str) -> tuple[int, bytes, list[str | None]]:
    """The status, body and SQL statements of a GET (``None``: a prepared statement, see the README)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    # Read at once: the next request empties the query log that the context slices.
    return response.status_code, response.content, [query["sql"] for query in queries]


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_compiled_lists_count_and_page_as_the_orm(dataset, resource):
    """Every page of every list (the last one short, one past the end empty), and the count, equal the ORM's."""
    selector, fields = RESOURCES[resource]
    base = selector().order_by("-slug")
    total = base.count()
    assert total >= 3
    built = []

    def filtered():
        built.append(1)
        return base

    listed = compiled.list_compiled(request=_request("page_size=2"), key=resource, queryset=filtered)
    assert isinstance(listed, compiled.CompiledList)
    assert listed.count() == total  # kept from the ORM's own count
    assert listed.count() == total  # run from the kept statement
    for start in range(0, total + 2, 2):
        page = listed[start : start + 2]
        expected = list(base.prefetch_related(None).values(*fields)[start : start + 2])
        assert compiled.rows_values(rows=page, fields=fields) == expected
    # Another page of the same list: the kept statements, without building the queryset.
    again = compiled.list_compiled(request=_request("page=2&page_size=2"), key=resource, queryset=filtered)
    assert again.count() == total
    assert compiled.rows_values(rows=again[2:4], fields=fields) == list(
        base.prefetch_related(None).values(*fields)[2:4]
    )
    assert built == [1] and len(compiled._compiled.lists) == 1


def test_what_is_never_compiled(dataset):
    base = selectors.deal_list()
    # No dataset version (the request did not pass the cache middleware, or the database was down), a cursor page.
    for request in (_request(version=None), _request("cursor="), _request("cursor=&status=signed")):
        assert compiled.list_compiled(request=request, key="deal", queryset=lambda: base) is base
    # A queryset whose count and slice could not be kept: DISTINCT, or no ordering.
    distinct = base.distinct()
    assert compiled.list_compiled(request=_request(), key="deal", queryset=lambda: distinct) is distinct
    unordered = selectors.deal_list().order_by()
    unordered.query.default_ordering = False
    assert compiled.list_compiled(request=_request(), key="deal", queryset=lambda: unordered) is unordered
    assert not compiled._compiled.lists


@pytest.mark.parametrize("resource", list(LISTS))
def test_each_query_string_keeps_its_statements(client, dataset, resource):
    url = f"/api/v1/{LISTS[resource]}/"
    compiled.compiled_clear()
    pages = [client.get(url, {"page_size": 2, "page": page}).json() for page in (1, 2)]
    assert len(compiled._compiled.lists) == 1  # the count and the rows, for both pages
    # The ORM's answers (the same filters, compiled afresh for each request) are the same.
    for page, body in zip((1, 2), pages, strict=True):
        compiled.compiled_clear()
        assert client.get(url, {"page_size": 2, "page": page}).json() == body
    # Other parameters, other statements: the same records for a parameter that filters nothing.
    assert client.get(url, {"page_size": 2, "format": "json"}).json()["results"] == pages[0]["results"]
    assert len(compiled._compiled.lists) == 2


def test_a_kept_list_neither_builds_nor_validates_its_filters_again(client, dataset, monkeypatch):
    """The commodity filter reads the commodity and its descendants (two queries) to build its SQL: a request
    that finds the kept statements sends neither, and answers the same."""
    slug = Commodity.objects.filter(deals__isnull=False).values_list("slug", flat=True).first()
    url = f"/api/v1/deals/?commodity={slug}&ordering=title&page_size=3"
    status, body, first = _answer(client, url)
    again, same, second = _answer(client, url)
    assert status == again == 200 and same == body
    lookups = [sql for sql in first if (sql or "").startswith('SELECT "deals_commodity"."id"')]
    # On PostgreSQL its count and rows are one statement too (test_a_kept_list_counts_and_reads_its_page_at_once).
    assert len(lookups) == 2 and len(second) == len(first) - 2 - _JOINED
    assert not any(sql in lookups for sql in second)
    built = []
    monkeypatch.setattr(DealViewSet, "filter_queryset", lambda self, qs: built.append(1) or qs)
    assert client.get(url.replace("page_size=3", "page_size=3&page=2")).status_code == 200
    assert built == []


def test_a_write_gives_new_statements(client, dataset):
    """A filter's SQL depends on the data (a commodity's descendants): the statements are kept per dataset
    version, so a deal of a new sub-commodity is found at once (response and record caches off)."""
    parent = CommodityFactory(slug="compiled-parent", name="Compiled parent")
    url = "/api/v1/deals/?commodity=compiled-parent"
    assert client.get(url).json()["count"] == 0
    assert client.get(url).json()["count"] == 0  # from the kept statements
    child = CommodityFactory(slug="compiled-child", name="Compiled child", parent=parent)
    DealFactory(slug="compiled-deal").commodities.add(child)
    dataset_version_bump()
    assert [deal["slug"] for deal in client.get(url).json()["results"]] == ["compiled-deal"]


def test_a_compiled_list_counts_and_reads_what_is_there_now(client, dataset):
    """The statements are kept, not their answers: every request runs them (response and record caches off)."""
    first = client.get("/api/v1/commodities/").json()
    CommodityFactory(slug="aaa-new-commodity", name="Aaa new commodity")
    again = client.get("/api/v1/commodities/").json()
    assert again["count"] == first["count"] + 1
    assert again["results"][0]["slug"] == "aaa-new-commodity"


def test_an_invalid_filter_is_never_kept_and_comes_before_the_page(client, dataset):
    for _ in range(2):
        response = client.get("/api/v1/deals/", {"status": "no-such-status", "page": "0"})
        assert response.status_code == 400 and "status" in response.json()
    assert not compiled._compiled.lists


def test_each_thread_keeps_at_most_lists_kept(client, dataset, monkeypatch):
    monkeypatch.setattr(compiled, "LISTS_KEPT", 3)
    for ordering in ("title", "-title", "slug", "-slug", "updated"):
        assert client.get("/api/v1/deals/", {"page_size": 2, "ordering": ordering}).status_code == 200
    assert len(compiled._compiled.lists) == 3


def test_a_kept_list_counts_and_reads_its_page_at_once(client, dataset):
    """Once its statements are kept, a list's count and page are one statement on PostgreSQL (two on SQLite, where
    a statement costs no round trip): the same answer in one query less for a full page and the last one, and the
    same 404 past the end."""
    pages = -(-Facility.objects.filter(publication_status="published").count() // 2)
    assert pages >= 2

    for page in (1, pages, pages + 1):
        url = f"/api/v1/facilities/?page_size=2&page={page}"
        compiled.compiled_clear()
        status, body, orm = _answer(client, url)
        client.get("/api/v1/facilities/?page_size=2")  # a page with rows: the statements are all kept
        kept = _answer(client, url)
        assert kept[:2] == (status, body)
        # Past the end the ORM read no rows either.
        assert len(kept[2]) == len(orm) - (_JOINED if page <= pages else 0)
        assert status == (200 if page <= pages else 404)


def test_a_page_number_beyond_any_count_is_a_404(client, dataset):
    """A kept list reads its page with the count on PostgreSQL: a page whose offset no bigint holds is not read,
    and is the 404 of any page past the end."""
    assert client.get("/api/v1/sources/").status_code == 200  # the statements are kept
    for page in (2**40, 2**64 // 25 + 1, 10**30):
        response = client.get("/api/v1/sources/", {"page": page})
        assert response.status_code == 404 and "does not exist" in response.json()["detail"], page
