"""A detail's row from SQL compiled once per thread (deals/api/fast/compiled.py): the same rows as the ORM's for
every record of every resource, one statement whatever the record, and the ORM again as soon as the request has
a query parameter."""

from __future__ import annotations

import threading

import pytest

from deals import selectors
from deals.api.fast import compiled
from deals.api.fast.commodities import _ROW_FIELDS as COMMODITY_FIELDS
from deals.api.fast.companies import _ROW_FIELDS as COMPANY_FIELDS
from deals.api.fast.deals import _ROW_FIELDS as DEAL_FIELDS
from deals.api.fast.facilities import _ROW_FIELDS as FACILITY_FIELDS
from deals.api.fast.sources import _ROW_FIELDS as SOURCE_FIELDS
from deals.caching import dataset_version_get
from tests.api.fast_dataset import random_deals_create

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
