"""The fast read path through HTTP: the deal endpoints' JSON equals the reference serializers' output, the query
count is flat in the page size, CSV and errors keep their path, and every JSON response is rendered by orjson with
the meaning DRF's renderer gives it."""

from __future__ import annotations

import datetime
import decimal
import json

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict

from deals import selectors
from deals.api.query import StrictOrderingFilter
from deals.api.renderers_json import FastJSONRenderer
from deals.api.serializers import DealDetailSerializer, DealSerializer
from deals.api.views import DealViewSet
from deals.caching import dataset_version_get
from deals.models import Deal, PublicationStatus
from tests.api.fast_dataset import random_deals_create

LIST = "/api/v1/deals/"


@pytest.fixture(scope="module")
def _random_rows(django_db_setup, django_db_blocker):
    """The random dataset once for the module (creating it takes most of these tests' time), rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        random_deals_create(deals=160)
        dataset_version_get()  # the version row exists, as on any database that has served a request
        yield
        transaction.set_rollback(True)


@pytest.fixture
def random_dataset(_random_rows, db):
    """Each test runs in its own savepoint inside the module's transaction."""


def _reference_page(url: str, queryset, *, start: int, size: int) -> list:
    """What DealSerializer makes of the page, linked like the view's response (same host)."""
    request = RequestFactory().get(url)
    return json.loads(
        JSONRenderer().render(
            DealSerializer(list(queryset[start : start + size]), many=True, context={"request": request}).data
        )
    )


# (query parameters, the order they ask for, first row of the page, page size)
_PAGES = [
    ({"page_size": 1}, None, 0, 1),
    ({"page_size": 25, "page": 3}, None, 50, 25),
    ({"page_size": 100}, None, 0, 100),
    ({"page_size": 50, "ordering": "title"}, "title", 0, 50),
    ({"page_size": 30, "ordering": "-amount_usd,announced_date", "page": 2}, "-amount_usd,announced_date", 30, 30),
]


def test_list_bodies_equal_the_serializer(client, random_dataset):
    for params, ordering, start, size in _PAGES:
        response = client.get(LIST, params)
        assert response.status_code == 200
        body = response.json()
        queryset = selectors.deal_list()
        if ordering:
            queryset = queryset.order_by(*StrictOrderingFilter().get_ordering(view=DealViewSet(), raw=ordering))
        assert body["count"] == selectors.deal_list().count()
        expected = _reference_page(response.request["PATH_INFO"], queryset, start=start, size=size)
        assert len(body["results"]) == size
        assert body["results"] == expected, params


def test_detail_body_equals_the_serializer(client, random_dataset):
    published = list(selectors.deal_list())
    assert len(published) >= 50
    for deal in published:
        response = client.get(reverse("api:deal-detail", kwargs={"slug": deal.slug}))
        assert response.status_code == 200
        request = RequestFactory().get(response.request["PATH_INFO"])
        expected = json.loads(JSONRenderer().render(DealDetailSerializer(deal, context={"request": request}).data))
        assert response.json() == expected, deal.slug


def test_list_queries_are_at_most_four_and_flat_in_the_page_size(client, random_dataset):
    counts = {}
    for size in (1, 25, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, {"page_size": size})
        assert response.status_code == 200 and len(response.json()["results"]) == size
        counts[size] = len(queries)
    # The dataset version, the count, the page's rows, their relations. The list's statements are kept after the
    # first request, whatever the page size: on PostgreSQL they then count and read the page at once.
    joined = 1 if connection.vendor == "postgresql" else 0
    assert counts == {1: 4, 25: 4 - joined, 100: 4 - joined}, counts


def test_detail_queries_are_at_most_three(client, random_dataset):
    deal = selectors.deal_list().first()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("api:deal-detail", kwargs={"slug": deal.slug})).status_code == 200
    assert len(queries) == 3  # the dataset version, the row, its relations


def test_unpublished_details_keep_their_lifecycle_answers(client, random_dataset):
    draft = Deal.objects.filter(publication_status=PublicationStatus.DRAFT).first()
    withdrawn = Deal.objects.filter(publication_status=PublicationStatus.WITHDRAWN).first()
    response = client.get(reverse("api:deal-detail", kwargs={"slug": draft.slug}))
    assert response.status_code == 404 and response.json() == {"detail": "No Deal matches the given query."}
    response = client.get(reverse("api:deal-detail", kwargs={"slug": withdrawn.slug}))
    assert response.status_code == 410 and response.json()["reason"] == "A duplicate."


def test_csv_keeps_the_serializer_path(client, random_dataset):
    """The CSV operation calls list() too; it must not be answered with the JSON records."""
    response = client.get(reverse("api:deal-csv"), {"page_size": 5})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines()[0].startswith("slug,")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/",
        "/api/v1/deals/",
        "/api/v1/deals/?page_size=abc",
        "/api/v1/companies/",
        "/api/v1/stats/deals/?group_by=status",
        "/api/v1/changes/",
        "/api/v1/releases/",
        "/api/v1/deals.csv?page=abc",
    ],
)
def test_every_json_response_is_rendered_by_orjson(client, db, url):
    call_command("load_dataset", verbosity=0)
    response = client.get(url)
    assert response["Content-Type"] == "application/json"
    assert isinstance(response.accepted_renderer, FastJSONRenderer)


def test_geojson_is_rendered_by_orjson(client, db):
    call_command("load_dataset", verbosity=0)
    response = client.get("/api/v1/facilities.geojson")
    assert response.status_code == 200
    assert response.content == FastJSONRenderer().render(response.data)


def test_renderer_means_what_drf_renders():
    data = ReturnDict(
        {
            "text": 'Café “quoted” \u2028 \u2029 \\ "',
            "when": datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC),
            "day": datetime.date(2026, 1, 2),
            "amount": decimal.Decimal("12.50"),
            "lazy": gettext_lazy("Not found."),
            "nested": [{"a": None, "b": True, "c": 1.5, "d": [1, 2]}],
            "big": 2**70,
        },
        serializer=None,
    )
    fast, drf = FastJSONRenderer().render(data), JSONRenderer().render(data)
    assert json.loads(fast) == json.loads(drf)
    assert b"\\u2028" in fast and "\u2028".encode() not in fast  # still a strict JavaScript subset
    del data["big"]  # within 64 bits, orjson itself renders it: byte for byte DRF's compact output
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)
    assert FastJSONRenderer().render(None) == b""
