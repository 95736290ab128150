"""deal_records (deals/api/fast/deals.py) against the reference serializers, over the fixture dataset and a seeded
random one: the same keys in the same order and the same values, for list pages and details, in two queries."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.utils.encoders import JSONEncoder

from deals import selectors
from deals.api.fast.deals import deal_records
from deals.api.serializers import DealDetailSerializer, DealSerializer
from deals.models import Deal
from tests.api.fast_dataset import random_deals_create


def _text(data) -> str:
    """The data as JSON text in its own key order: equal texts mean equal keys, order, values and value types."""
    return json.dumps(data, cls=JSONEncoder, ensure_ascii=False)


def _request():
    return RequestFactory().get("/api/v1/deals/")


def _reference(rows, *, detail: bool = False) -> list:
    serializer = DealDetailSerializer if detail else DealSerializer
    return serializer(list(rows), many=True, context={"request": _request()}).data


def _assert_pages_equal(queryset, *, size: int) -> int:
    """Compare every page of ``queryset``; return how many records were compared."""
    total = queryset.count()
    for start in range(0, total, size):
        page = queryset[start : start + size]
        expected = _reference(page)
        got = deal_records(rows=queryset[start : start + size], request=_request())
        assert _text(got) == _text(expected), f"page starting at {start}"
    return total


def _assert_details_equal(queryset) -> int:
    compared = 0
    for deal in queryset:
        expected = _reference([deal], detail=True)
        got = deal_records(rows=queryset.filter(pk=deal.pk), request=_request(), detail=True)
        assert _text(got) == _text(expected), deal.slug
        compared += 1
    return compared


@pytest.fixture
def fixture_dataset(db):
    call_command("load_dataset", verbosity=0)


@pytest.fixture(scope="module")
def _random_rows(django_db_setup, django_db_blocker):
    """The random dataset once for the module (creating it takes most of these tests' time), rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        random_deals_create()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def random_dataset(_random_rows, db):
    """Each test runs in its own savepoint inside the module's transaction."""


def test_fixture_list_pages_equal_the_serializer(fixture_dataset):
    assert _assert_pages_equal(selectors.deal_list(), size=4) == Deal.objects.public().count() > 0
    assert _assert_pages_equal(selectors.deal_list(), size=100) > 0


def test_fixture_details_equal_the_serializer(fixture_dataset):
    assert _assert_details_equal(selectors.deal_list()) == Deal.objects.public().count()


def test_random_dataset_exercises_what_the_comparison_is_about(random_dataset):
    """The random dataset holds the cases the comparison must cover (else the equality tests prove little)."""
    public = selectors.deal_list()
    assert public.count() >= 100
    assert Deal.objects.exclude(publication_status="published").exists()
    assert public.filter(amount__isnull=True).exists() and public.filter(amount__isnull=False).exists()
    assert public.filter(currency="").exists() and public.filter(instrument="").exists()
    assert public.filter(party_links__isnull=True).exists() and public.filter(evidence__isnull=True).exists()
    assert public.filter(announced_date__isnull=True).exists()
    details = DealDetailSerializer(list(public), many=True, context={"request": _request()}).data
    assert any(item["claims"] for deal in details for item in deal["field_provenance"])
    assert any(not item["supported"] for deal in details for item in deal["field_provenance"])
    assert any(deal["countries"] == [] for deal in details) and any(len(deal["countries"]) > 1 for deal in details)


def test_random_list_pages_equal_the_serializer(random_dataset):
    for size in (1, 7, 25, 100):
        assert _assert_pages_equal(selectors.deal_list(), size=size) >= 100
    for ordering in (("title", "slug"), ("-amount_usd", "slug"), ("-updated", "slug"), ("slug",)):
        assert _assert_pages_equal(selectors.deal_list().order_by(*ordering), size=50) >= 100


def test_random_details_equal_the_serializer(random_dataset):
    assert _assert_details_equal(selectors.deal_list()) >= 100


def test_two_queries_whatever_the_page_size(random_dataset):
    counts = set()
    for detail in (False, True):
        for size in (1, 25, 100):
            with CaptureQueriesContext(connection) as queries:
                records = deal_records(rows=selectors.deal_list()[:size], request=_request(), detail=detail)
            assert len(records) == size
            counts.add(len(queries))
    assert counts == {2}
    with CaptureQueriesContext(connection) as queries:
        assert deal_records(rows=selectors.deal_list().filter(slug="no-such-deal"), request=_request()) == []
    assert len(queries) == 1
