"""Cursor (keyset) pagination on every list (deals/api/pagination.py ``ListPagination``, deals/api/cursor.py).

A walk follows the ``next`` links of cursor pages from ``cursor=`` to the end, then the ``previous`` links back to
the start; both must give exactly the order that page numbers give (no gaps, no duplicates), for every list and
format, every ordering option, filters and search, on the fixture dataset and on a factory dataset with ties and
NULLs in every orderable field.
"""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import json
import re
from decimal import Decimal
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deals.api import cursor as cursor_module
from deals.api.views import CommodityViewSet, CompanyViewSet, DealViewSet, FacilityViewSet, SourceViewSet
from deals.caching import dataset_version_get
from deals.models import Commodity, Company, DatePrecision, Deal, Facility, Source
from tests.factories import (
    CitedSourceFactory,
    CommodityFactory,
    CompanyFactory,
    DealFactory,
    DealPartyFactory,
    EvidenceFactory,
    FacilityCompanyFactory,
    FacilityFactory,
)

pytestmark = pytest.mark.django_db

VIEWSETS = {
    "deal": DealViewSet,
    "company": CompanyViewSet,
    "facility": FacilityViewSet,
    "source": SourceViewSet,
    "commodity": CommodityViewSet,
}
LINK_RE = re.compile(r'<([^>]+)>; rel="(next|prev)"')


def _links(response) -> dict[str, str]:
    return {rel: url for url, rel in LINK_RE.findall(response.get("Link", ""))}


def _page(client, url: str, params: dict | None = None) -> tuple[list[str], dict[str, str | None], object]:
    """One page: its slugs, its next/prev links (from the body, checked against the Link header), the response."""
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content[:500]
    links = _links(response)
    if response["Content-Type"].startswith("text/csv"):
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
        return [row["slug"] for row in rows], {"next": links.get("next"), "prev": links.get("prev")}, response
    body = response.json()
    if "features" in body:
        found = [feature["id"] for feature in body["features"]]
    else:
        found = [row["slug"] for row in body["results"]]
    cursor_page = "cursor" in (params or {}) or "cursor=" in url
    assert (body["count"] is None) is cursor_page  # counted on numbered pages only
    # The Link header says exactly what the body says.
    assert (body["next"], body["previous"]) == (links.get("next"), links.get("prev"))
    return found, {"next": body["next"], "prev": body["previous"]}, response


def _numbered_order(client, url: str, params: dict) -> list[str]:
    """The list's order through page numbers (the reference)."""
    found: list[str] = []
    page = 1
    while True:
        slugs, links, _ = _page(client, url, {**params, "page": page, "page_size": 100})
        found += slugs
        if not links["next"]:
            return found
        page += 1


def _walk(client, url: str, params: dict, *, page_size: int) -> tuple[list[str], list[str]]:
    """The order a cursor walk gives forwards (next links) and then backwards (previous links from the end)."""
    slugs, links, _ = _page(client, url, {**params, "cursor": "", "page_size": page_size})
    assert links["prev"] is None  # the first page has no previous page
    pages = [slugs]
    while links["next"]:
        assert len(pages[-1]) == page_size  # only the last page may be short
        slugs, links, _ = _page(client, links["next"])
        pages.append(slugs)
        assert len(pages) < 500, "the walk does not end"
    forward = list(itertools.chain.from_iterable(pages))
    backward_pages = [pages[-1]]
    links_back = links
    while links_back["prev"]:
        slugs, links_back, _ = _page(client, links_back["prev"])
        assert links_back["next"], "a page reached backwards has a next page"
        backward_pages.append(slugs)
        assert len(backward_pages) < 500, "the walk back does not end"
    backward = list(itertools.chain.from_iterable(reversed(backward_pages)))
    return forward, backward


def _assert_walks(client, basename: str, params: dict, *, operation: str = "list", page_size: int = 2) -> list[str]:
    url = reverse(f"api:{basename}-{operation}")
    expected = _numbered_order(client, url, params)
    forward, backward = _walk(client, url, params, page_size=page_size)
    assert forward == expected
    assert backward == expected
    assert len(set(expected)) == len(expected)
    return expected


def _orderings(basename: str) -> list[str]:
    """Every ordering option of the list, each both ways, and a few combinations of two."""
    names = list(VIEWSETS[basename].ordering_fields)
    single = [value for name in names for value in (name, f"-{name}")]
    pairs = [f"-{a},{b}" for a, b in zip(names, names[1:], strict=False)] + [f"{names[-1]},-{names[0]}"]
    return single + pairs


# --- the fixture dataset ------------------------------------------------------------------------------------------


@pytest.fixture
def fixture_dataset(db):
    call_command("load_dataset", stdout=StringIO())


@pytest.mark.parametrize("basename", list(VIEWSETS))
def test_fixture_walk_default_order_every_format(client, fixture_dataset, basename):
    operations = ["list", "csv"] + (["geojson"] if basename == "facility" else [])
    for operation in operations:
        order = _assert_walks(client, basename, {}, operation=operation, page_size=2)
        assert len(order) >= 3  # the walk crossed pages


@pytest.mark.parametrize("basename", list(VIEWSETS))
def test_fixture_walk_every_ordering(client, fixture_dataset, basename):
    for ordering in _orderings(basename):
        _assert_walks(client, basename, {"ordering": ordering}, page_size=3)


@pytest.mark.parametrize(
    ("basename", "params"),
    [
        ("deal", {"q": "magnet"}),
        ("deal", {"q": "rare earth"}),
        ("company", {"q": "magnet"}),
        ("facility", {"q": "magnet"}),
        ("source", {"q": "magnet"}),
        ("deal", {"q": "magnet", "ordering": "-amount_usd"}),
        ("deal", {"status": "signed"}),
        ("deal", {"commodity": "rare-earth-elements"}),
        ("company", {"country": "US", "ordering": "-deal_count"}),
        ("facility", {"country": "US", "ordering": "capacity_amount"}),
    ],
)
def test_fixture_walk_with_search_and_filters(client, fixture_dataset, basename, params):
    order = _assert_walks(client, basename, params, page_size=1)
    assert order, "the case finds records, so the walk is not trivially empty"


def test_fixture_search_without_ordering_walks_by_rank_on_postgresql(client, fixture_dataset):
    """With ``q`` and no ``ordering`` the list is by relevance on PostgreSQL (``search_rank``): the cursor keys
    are the rank, then id (ties in creation order), so the walk is the ranked order."""
    url = reverse("api:deal-list")
    first, links, _ = _page(client, url, {"q": "magnet", "cursor": "", "page_size": 1})
    token = parse_qs(urlsplit(links["next"]).query)["cursor"][0]
    document = json.loads(cursor_module._b64decode(token.split(".")[0]))
    tags = [tag for tag, _ in document["v"]]
    if connection.vendor == "postgresql":
        assert tags == ["f", "i"]  # search_rank (a float), id
    else:
        assert tags[-1] == "i"


# --- a factory dataset with ties and NULLs in every orderable field ----------------------------------------------


@pytest.fixture
def tied_dataset(db):
    """Few distinct values per orderable field, NULLs in every nullable one, and equal ``updated`` times."""
    dates = [None, datetime.date(2024, 5, 1), datetime.date(2024, 5, 1), datetime.date(2023, 1, 1)]
    amounts = [None, Decimal("5000000"), Decimal("5000000"), Decimal("7000000.50")]
    titles = ["Alpha offtake", "Alpha offtake", "Beta magnet grant"]
    commodities = [CommodityFactory(slug=f"tied-commodity-{i}", name=f"Tied commodity {i}") for i in range(4)]
    companies = [CompanyFactory(name=["Acme", "Acme", "Zeta"][i % 3]) for i in range(9)]
    facilities = []
    for i in range(9):
        capacity = [None, Decimal("3000"), Decimal("3000"), Decimal("10")][i % 4]
        start = dates[(i + 1) % 4]
        facilities.append(
            FacilityFactory(
                name=["Plant", "Plant", "Mine"][i % 3],
                planned_start=start,
                planned_start_precision=DatePrecision.YEAR if start else "",
                capacity_amount=capacity,
                capacity_unit="tonnes" if capacity is not None else "",
            )
        )
    for i in range(13):
        amount, date = amounts[i % 4], dates[(i // 2) % 4]
        deal = DealFactory(
            title=titles[i % 3],
            announced_date=date,
            announced_date_precision=DatePrecision.DAY if date else "",
            amount=amount,
            currency="USD" if amount is not None else "",
            amount_usd=amount,
            value_qualifier="exact" if amount is not None else "",
        )
        deal.commodities.add(*commodities[: i % 3])
        if i % 4:
            DealPartyFactory(deal=deal, company=companies[i % 5])
        for _ in range(i % 3):
            EvidenceFactory(deal=deal)
    for i, facility in enumerate(facilities):
        facility.commodities.add(*commodities[: i % 2])
        if i % 3:
            FacilityCompanyFactory(facility=facility, company=companies[i % 4])
        if i % 2:
            EvidenceFactory(deal=None, facility=facility)
    for i, company in enumerate(companies[:5]):
        for _ in range(i % 2):
            EvidenceFactory(deal=None, company=company)
    for i in range(7):
        date = dates[i % 4]
        CitedSourceFactory(
            title=["Report", "Report", "News"][i % 3],
            publisher=["Example", "", "Example"][i % 3],
            published_date=date,
            published_date_precision=DatePrecision.DAY if date else "",
        )
    # Equal modification times (update() bypasses auto_now), so that ordering by ``updated`` has ties too.
    moments = [timezone.now() - datetime.timedelta(days=n, microseconds=123) for n in (1, 2)]
    for model in (Deal, Company, Facility, Source, Commodity):
        for i, pk in enumerate(model.objects.order_by("pk").values_list("pk", flat=True)):
            model.objects.filter(pk=pk).update(updated=moments[i % 2])


@pytest.mark.parametrize("basename", list(VIEWSETS))
def test_tied_walk_default_order(client, tied_dataset, basename):
    order = _assert_walks(client, basename, {}, page_size=2)
    assert len(order) >= 4


@pytest.mark.parametrize("basename", list(VIEWSETS))
def test_tied_walk_every_ordering(client, tied_dataset, basename):
    for ordering in _orderings(basename):
        _assert_walks(client, basename, {"ordering": ordering}, page_size=2)


@pytest.mark.parametrize(
    ("basename", "params"),
    [
        ("deal", {"q": "alpha"}),
        ("deal", {"q": "alpha", "ordering": "announced_date,-amount_usd"}),
        ("deal", {"commodity": "tied-commodity-0", "ordering": "-evidence_count"}),
        ("facility", {"q": "plant", "ordering": "-planned_start"}),
        ("company", {"q": "acme"}),
    ],
)
def test_tied_walk_with_search_and_filters(client, tied_dataset, basename, params):
    assert _assert_walks(client, basename, params, page_size=1)


def test_tied_walk_in_csv_and_geojson_with_an_ordering(client, tied_dataset):
    _assert_walks(client, "deal", {"ordering": "-amount_usd,title"}, operation="csv", page_size=2)
    _assert_walks(client, "facility", {"ordering": "capacity_amount"}, operation="geojson", page_size=2)


def test_page_size_may_change_along_the_walk(client, tied_dataset):
    url = reverse("api:deal-list")
    expected = _numbered_order(client, url, {})
    slugs, links, _ = _page(client, url, {"cursor": "", "page_size": 2})
    found = list(slugs)
    size = 3
    while links["next"]:
        slugs, links, _ = _page(client, re.sub(r"page_size=[0-9]+", f"page_size={size}", links["next"]))
        assert len(slugs) <= size
        found += slugs
        size = 5 - size  # 3, 2, 3, …
    assert found == expected


# --- responses, links and the schema ------------------------------------------------------------------------------


def test_cursor_page_count_is_null_and_numbered_pages_keep_it(client, tied_dataset):
    url = reverse("api:deal-list")
    numbered = client.get(url, {"page_size": 2}).json()
    assert list(numbered) == ["count", "next", "previous", "results"]
    assert "page=2" in numbered["next"]
    cursor_page = client.get(url, {"page_size": 2, "cursor": ""}).json()
    assert list(cursor_page) == ["count", "next", "previous", "results"] and cursor_page["count"] is None
    assert "cursor=" in cursor_page["next"] and "page=" not in cursor_page["next"].replace("page_size", "")
    assert cursor_page["results"] == numbered["results"]
    geojson = client.get(reverse("api:facility-geojson"), {"page_size": 2, "cursor": ""}).json()
    assert geojson["count"] is None and geojson["next"].startswith("http://testserver/api/v1/facilities.geojson?")


def test_link_header_of_a_middle_cursor_page_has_next_and_prev(client, tied_dataset):
    url = reverse("api:company-csv")
    first = client.get(url, {"page_size": 2, "cursor": ""})
    middle = client.get(_links(first)["next"])
    links = _links(middle)
    assert set(links) == {"next", "prev"}
    assert all(link.startswith("http://testserver/api/v1/companies.csv?cursor=") for link in links.values())
    assert middle["Link"].endswith('rel="license"')
    # The previous page of the second page is the first page.
    assert client.get(links["prev"]).content == first.content


def test_an_empty_list_has_one_empty_cursor_page(client, db):
    body = client.get(reverse("api:deal-list"), {"cursor": ""}).json()
    assert body == {"count": None, "next": None, "previous": None, "results": []}


def test_schema_describes_cursor_pages(client):
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    for path in ("/api/v1/deals/", "/api/v1/companies.csv", "/api/v1/facilities.geojson", "/api/v1/commodities/"):
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        cursor = parameters["cursor"]
        assert cursor["schema"]["maxLength"] == cursor_module.CURSOR_MAX_LENGTH
        assert cursor["allowEmptyValue"] is True
        assert "count" in cursor["description"]
    page = schema["components"]["schemas"]["PaginatedDealList"]
    assert page["required"] == ["count", "next", "previous", "results"]
    assert page["properties"]["count"]["type"] == ["integer", "null"]
    assert "null on a cursor page" in page["properties"]["count"]["description"]


# --- bad cursors --------------------------------------------------------------------------------------------------


@pytest.fixture
def few_deals(db):
    """Enough deals for a second page (the bad-cursor tests need a real cursor, not ties)."""
    for i in range(5):
        DealFactory(title=f"Alpha deal {i}", status=["signed", "closed"][i % 2])
    CompanyFactory.create_batch(3)


def _next_cursor(client, basename: str = "deal", **params) -> str:
    body = client.get(reverse(f"api:{basename}-list"), {"page_size": 2, "cursor": "", **params}).json()
    return parse_qs(urlsplit(body["next"]).query)["cursor"][0]


def _assert_cursor_400(response, *words: str, status: int = 400) -> None:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert list(body) == ["cursor"], body
    for word in words:
        assert word in body["cursor"][0]


def _signed(document: dict) -> str:
    """A token with a valid signature around ``document`` (as if the server had made it)."""
    payload = cursor_module._b64encode(json.dumps(document).encode("utf-8"))
    return f"{payload}.{cursor_module._signature(payload)}"


@pytest.mark.parametrize(
    "token",
    ["abc", "abc.def", ".", "eyJ2Ijpb.", "é.é", "a" * 100 + "." + "b" * 16, "!!!.???"],
)
def test_malformed_cursor_is_400_and_a_well_formed_foreign_one_404(client, few_deals, token):
    status = 404 if re.fullmatch(r"[-A-Za-z0-9_.]*", token) else 400
    _assert_cursor_400(client.get(reverse("api:deal-list"), {"cursor": token}), "cursor", status=status)


def test_tampered_cursor_is_400(client, few_deals):
    token = _next_cursor(client)
    payload, signature = token.split(".")
    document = json.loads(cursor_module._b64decode(payload))
    document["v"][-1][1] = "aaa"  # another boundary row, signature kept
    forged = cursor_module._b64encode(json.dumps(document).encode("utf-8")) + "." + signature
    _assert_cursor_400(client.get(reverse("api:deal-list"), {"cursor": forged}), "altered", status=404)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    _assert_cursor_400(client.get(reverse("api:deal-list"), {"cursor": flipped}), "altered", status=404)


@pytest.mark.parametrize(
    ("params", "basename"),
    [
        ({"ordering": "title"}, "deal"),  # another ordering
        ({"status": "signed"}, "deal"),  # another filter set
        ({"q": "alpha"}, "deal"),  # a search
        ({}, "company"),  # another list
    ],
)
def test_cursor_from_another_list_ordering_or_filter_set_is_404(client, few_deals, params, basename):
    token = _next_cursor(client)
    response = client.get(reverse(f"api:{basename}-list"), {"cursor": token, **params})
    _assert_cursor_400(response, "another list, ordering, search or set of filters", status=404)


def test_cursor_of_a_filtered_list_is_refused_without_the_filter(client, few_deals):
    token = _next_cursor(client, status="signed", ordering="-amount_usd")
    _assert_cursor_400(
        client.get(reverse("api:deal-list"), {"cursor": token, "ordering": "-amount_usd"}), "filters", status=404
    )
    ok = client.get(reverse("api:deal-list"), {"cursor": token, "ordering": "-amount_usd", "status": "signed"})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "document",
    [
        {"v": [["d", "2024-05-01"]], "b": 0, "i": 0},  # too few keys
        {"v": [["d", "yesterday"], ["s", "x"]], "b": 0, "i": 0},  # an unreadable date
        {"v": [["m", "1e"], ["s", "x"]], "b": 0, "i": 0},  # an unreadable decimal
        {"v": [["?", "x"], ["s", "x"]], "b": 0, "i": 0},  # an unknown type
        {"v": [["s", 1], ["s", "x"]], "b": 0, "i": 0},  # not text
        {"v": [["n", ""], ["s", "x"]], "b": 7, "i": 0},  # no direction
        {"v": "x", "b": 0, "i": 0},
    ],
)
def test_signed_but_unusable_cursor_is_404_not_500(client, few_deals, document):
    token = _next_cursor(client)
    fingerprint = json.loads(cursor_module._b64decode(token.split(".")[0]))["f"]
    response = client.get(reverse("api:deal-list"), {"cursor": _signed({**document, "f": fingerprint})})
    _assert_cursor_400(response, "cursor", status=404)


def test_cursor_wins_over_page_but_a_malformed_page_is_still_400(client, few_deals):
    first = client.get(reverse("api:deal-list"), {"cursor": "", "page_size": 2})
    assert client.get(reverse("api:deal-list"), {"cursor": "", "page_size": 2, "page": "3"}).json() == first.json()
    token = _next_cursor(client)
    second = client.get(reverse("api:deal-csv"), {"cursor": token, "page_size": 2})
    with_page = client.get(reverse("api:deal-csv"), {"cursor": token, "page_size": 2, "page": "2"})
    assert with_page.status_code == 200 and with_page.content == second.content
    bad = client.get(reverse("api:deal-list"), {"cursor": "", "page": "x"})
    assert bad.status_code == 400 and list(bad.json()) == ["page"]


def test_overlong_cursor_is_400(client, few_deals):
    response = client.get(reverse("api:deal-list"), {"cursor": "a" * (cursor_module.CURSOR_MAX_LENGTH + 1)})
    _assert_cursor_400(response, "Too long")


def test_cursor_of_a_long_title_fits(client, db):
    """A boundary row's title can be 300 characters of any script: its cursor still fits the length limit."""
    for i in range(3):
        DealFactory(title="稀" * 299 + str(i))
    _assert_walks(client, "deal", {"ordering": "title"}, page_size=1)


# --- query counts -------------------------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("basename", list(VIEWSETS))
def test_cursor_pages_cost_what_numbered_pages_cost_whatever_the_page_size(client, tied_dataset, basename, settings):
    """The key query replaces the count: a cursor page costs as many queries as a numbered page, whatever its
    size or depth (and ``count`` is never run)."""
    # Every page pays for its records' relations, not only the first (a warm record cache would spare the others
    # that query; tests/api/test_fast_record_cache.py counts that case).
    settings.REEXAPI_RECORD_CACHE_BYTES = 0
    dataset_version_get()
    url = reverse(f"api:{basename}-list")
    numbered = _queries(client, f"{url}?page_size=2")
    first_small = _queries(client, f"{url}?page_size=1&cursor=")
    first_large = _queries(client, f"{url}?page_size=100&cursor=")
    second = client.get(url, {"page_size": 1, "cursor": ""}).json()["next"]
    deep = _queries(client, second)
    assert first_small == first_large == deep == numbered
    with CaptureQueriesContext(connection) as captured:
        client.get(second)
    assert not any("__count" in query["sql"] for query in captured)  # no COUNT over the list


def test_an_ordering_expression_becomes_a_key_annotation(few_deals):
    """A list ordered by an expression (not a field name, e.g. a search rank function) still pages by keyset: the
    expression is annotated and compared like any key."""
    from django.db.models.functions import Length
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from deals.api.pagination import ListPagination

    DealFactory(title="Alpha deal 10")  # longer than the others, which tie on the length (then -title decides)
    queryset = Deal.objects.order_by(Length("title").desc(), "-title")
    expected = list(queryset.values_list("slug", flat=True))
    url, found = "/api/v1/deals/?cursor=&page_size=2", []
    while url:
        paginator = ListPagination()
        request = Request(APIRequestFactory().get(url))
        found += [deal.slug for deal in paginator.paginate_queryset(queryset, request, view=None)]
        url = paginator.get_next_link()
    assert found == expected and len(found) == 6
