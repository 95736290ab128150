"""The fast record builders of companies, facilities, sources and commodities (deals/api/fast/<resource>.py) return
exactly what the reference serializers return, for lists (every ordering, several pages) and details, over the
fixture dataset and over a seeded random one; and each builder's query count is fixed whatever the page size."""

from __future__ import annotations

import datetime
import json
import random
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deals import models, selectors
from deals.api import serializers
from deals.api.fast.commodities import commodity_records
from deals.api.fast.companies import company_records
from deals.api.fast.facilities import facility_records
from deals.api.fast.sources import source_records
from deals.api.query import StrictOrderingFilter
from deals.api.views import CommodityViewSet, CompanyViewSet, FacilityViewSet, SourceViewSet
from deals.coverage import coverage_field_names
from deals.gazetteer import facility_point
from tests.factories import (
    CommodityFactory,
    CompanyFactory,
    DealFactory,
    DealPartyFactory,
    EvidenceFactory,
    FacilityCompanyFactory,
    FacilityFactory,
    SourceFactory,
)

_PUBLISHED = models.PublicationStatus.PUBLISHED


class Resource:
    """One resource: its selector, reference serializers, builder and viewset (for the orderings it accepts)."""

    def __init__(self, name, *, selector, serializer, detail_serializer, builder, viewset, plural):
        self.name = name
        self.selector = selector
        self.serializer = serializer
        self.detail_serializer = detail_serializer
        self.builder = builder
        self.viewset = viewset
        self.plural = plural

    def __repr__(self):
        return self.name


RESOURCES = [
    Resource(
        "company",
        selector=lambda detail: selectors.company_list(detail=detail),
        serializer=serializers.CompanySerializer,
        detail_serializer=serializers.CompanyDetailSerializer,
        builder=company_records,
        viewset=CompanyViewSet,
        plural="companies",
    ),
    Resource(
        "facility",
        selector=lambda detail: selectors.facility_list(),
        serializer=serializers.FacilitySerializer,
        detail_serializer=serializers.FacilityDetailSerializer,
        builder=facility_records,
        viewset=FacilityViewSet,
        plural="facilities",
    ),
    Resource(
        "source",
        selector=lambda detail: selectors.source_list(detail=detail),
        serializer=serializers.SourceSerializer,
        detail_serializer=serializers.SourceDetailSerializer,
        builder=source_records,
        viewset=SourceViewSet,
        plural="sources",
    ),
    Resource(
        "commodity",
        selector=lambda detail: selectors.commodity_list(),
        serializer=serializers.CommoditySerializer,
        detail_serializer=serializers.CommoditySerializer,
        builder=commodity_records,
        viewset=CommodityViewSet,
        plural="commodities",
    ),
]
# Queries of one builder call, list and detail: the rows, and the relations of all of them (none for a commodity,
# nor for a source list, whose records have no relations).
BUILDER_QUERIES = {"company": (2, 2), "facility": (2, 2), "source": (1, 2), "commodity": (1, 1)}


def _request(resource):
    return RequestFactory().get(f"/api/v1/{resource.plural}/")


def _assert_same(got, expected):
    """Equal values, and equal as JSON text too: the same keys in the same order, the same types."""
    expected = json.loads(json.dumps(expected))
    assert got == expected
    assert json.dumps(got) == json.dumps(expected)


# --- datasets --------------------------------------------------------------------------------------------------


def _seed_random(*, seed: int = 9) -> None:
    """A few hundred records with a fixed seed: nulls and blanks, decimals and dates, every publication state,
    aliases, parents (published or not), relations of 0 to 4 items, and evidence that states current values or
    (after the records change) old ones."""
    rng = random.Random(seed)
    maybe = lambda p: rng.random() < p  # noqa: E731
    when = timezone.make_aware(datetime.datetime(2026, 1, 2, 3, 4, 5))

    def state() -> dict:
        status = rng.choice([_PUBLISHED] * 6 + [models.PublicationStatus.DRAFT, models.PublicationStatus.WITHDRAWN])
        if status == models.PublicationStatus.WITHDRAWN:
            return {"publication_status": status, "withdrawn_reason": "Duplicate.", "withdrawn_at": when}
        return {"publication_status": status}

    commodities = []
    for n in range(25):
        commodities.append(
            CommodityFactory(
                slug=f"rc-{n:02d}{rng.choice(['', '-oxide', '_metal'])}",
                name=f"Random commodity {n}",
                kind=rng.choice(models.Commodity.Kind.values),
                symbol=rng.choice(["", "Nd", "Dy"]),
                description=rng.choice(["", "A commodity."]),
                parent=rng.choice(commodities) if commodities and maybe(0.4) else None,
            )
        )
    sources = []
    for n in range(40):
        dated = maybe(0.7)
        sources.append(
            SourceFactory(
                slug=f"rs-{n:02d}{rng.choice(['', '-a', '_b'])}",
                publisher=rng.choice(["", "Reuters", "Mining Weekly"]),
                author=rng.choice(["", "A. Writer"]),
                published_date=datetime.date(2020 + n % 6, 1 + n % 12, 1) if dated else None,
                published_date_precision=rng.choice(["day", "month", "year"]) if dated else "",
                url=rng.choice(["", f"https://news.example/{n}"]),
                kind=rng.choice(models.Source.Kind.values),
                redistribution_licensed=maybe(0.4),
            )
        )
    companies = []
    for n in range(120):
        companies.append(
            CompanyFactory(
                slug=f"rco-{n:03d}{rng.choice(['', '-inc', '_ltd'])}",
                name=rng.choice([f"Company {n}", f"company {n}", f"Ünïcode {n}"]),
                kind=rng.choice(models.Company.Kind.values),
                country=rng.choice(["", "US", "CA", "DE", "JP", "AU"]),
                locality=rng.choice(["", "Seattle", "Tokyo"]),
                aliases=rng.sample(["VAC", "Alpha", "beta", "Zeta Corp"], rng.randint(0, 3)),
                parent=rng.choice(companies) if companies and maybe(0.3) else None,
                description=rng.choice(["", "Makes magnets."]),
                website=rng.choice(["", f"https://company{n}.example"]),
                **state(),
            )
        )
    facilities = []
    for n in range(100):
        country = rng.choice(["", "US", "CA", "DE"])
        located = maybe(0.4)
        capacity = maybe(0.5)
        planned = maybe(0.5)
        jobs = maybe(0.5)
        invested = maybe(0.5)
        facility = FacilityFactory(
            slug=f"rf-{n:03d}{rng.choice(['', '-plant', '_mine'])}",
            name=f"Facility {rng.randint(0, 60)}",
            kind=rng.choice(models.Facility.Kind.values),
            status=rng.choice(models.Facility.Status.values),
            country=country,
            region="Georgia" if country == "US" and maybe(0.5) else rng.choice(["", "Somewhere"]),
            locality=rng.choice(["", "Columbus"]),
            latitude=Decimal(f"{rng.uniform(-90, 90):.6f}") if located else None,
            longitude=Decimal(f"{rng.uniform(-180, 180):.6f}") if located else None,
            location_precision=rng.choice(models.Facility.LocationPrecision.values) if located else "",
            capacity_amount=Decimal(rng.choice(["3000", "0.125", "12.5", "0"])) if capacity else None,
            capacity_unit="tonnes" if capacity else "",
            capacity_period=rng.choice(models.Facility.CapacityPeriod.values) if capacity else "",
            capacity_qualifier=rng.choice(["", *models.ValueQualifier.values]) if capacity else "",
            planned_start=datetime.date(2027, 1 + n % 12, 1) if planned else None,
            planned_start_precision=rng.choice(["day", "month", "year"]) if planned else "",
            jobs=rng.randint(0, 900) if jobs else None,
            jobs_qualifier=rng.choice(["", *models.ValueQualifier.values]) if jobs else "",
            investment_amount=Decimal(rng.choice(["1000000", "2.50", "99999999.99"])) if invested else None,
            investment_currency=rng.choice(["USD", "EUR"]) if invested else "",
            investment_amount_usd=Decimal("1200000.00") if invested and maybe(0.5) else None,
            investment_qualifier=rng.choice(["", *models.ValueQualifier.values]) if invested else "",
            description=rng.choice(["", "A plant."]),
            **state(),
        )
        if facility.region == "Georgia":
            models.Facility.objects.filter(pk=facility.pk).update(region_code="US-GA")
            facility.region_code = "US-GA"
        facility.commodities.set(rng.sample(commodities, rng.randint(0, 4)))
        for company in rng.sample(companies, rng.randint(0, 3)):
            FacilityCompanyFactory(
                facility=facility, company=company, role=rng.choice(models.FacilityCompany.Role.values)
            )
        facilities.append(facility)
    deals = []
    for n in range(60):
        deal = DealFactory(slug=f"rd-{n:03d}", title=f"Deal {n}", **state())
        deal.facilities.set(rng.sample(facilities, rng.randint(0, 3)))
        deal.commodities.set(rng.sample(commodities, rng.randint(0, 3)))
        for company in rng.sample(companies, rng.randint(0, 3)):
            DealPartyFactory(deal=deal, company=company, role=rng.choice(models.DealParty.Role.values))
        deals.append(deal)

    spans = iter(range(0, 10**6, 7))
    for targets, kind in ((companies, "company"), (facilities, "facility"), (deals, "deal")):
        names = coverage_field_names(model=type(targets[0]))
        for record in targets:
            for _ in range(rng.randint(0, 3)):
                start = next(spans)
                EvidenceFactory(
                    **{"deal": None, kind: record},
                    source=rng.choice(sources),
                    start=start,
                    end=start + 5,
                    quote=f"Quote {start}",
                    fields=rng.sample(names, rng.randint(0, 4)),
                )
    # Changes after the quotes were taken: those quotes become claims of the old values.
    for company in rng.sample(companies, 30):
        models.Company.objects.filter(pk=company.pk).update(
            name=company.name + " (renamed)", aliases=["New alias"], kind=models.Company.Kind.UNKNOWN, country=""
        )
    for facility in rng.sample(facilities, 30):
        models.Facility.objects.filter(pk=facility.pk).update(status=models.Facility.Status.UNKNOWN, locality="")
        facility.commodities.set(list(facility.commodities.all()[:1]))


@pytest.fixture(scope="module", params=["fixture", "random"])
def dataset(request, django_db_setup, django_db_blocker):
    """The fixture dataset (``load_dataset``) or the random one, built once for the module's tests in a transaction
    rolled back at the end (as ``setUpTestData`` does; each test still runs in its own savepoint)."""
    with django_db_blocker.unblock(), transaction.atomic():
        if request.param == "fixture":
            call_command("load_dataset", stdout=StringIO())
        else:
            _seed_random()
        yield request.param
        transaction.set_rollback(True)


@pytest.mark.parametrize("dataset", ["random"], indirect=True)
def test_the_random_dataset_covers_the_cases(dataset, db):
    """The random dataset has what the equivalence tests rely on: every publication state, unpublished parents,
    empty and full relations, claims, licensed and unlicensed sources."""
    assert set(models.Company.objects.values_list("publication_status", flat=True)) == set(
        models.PublicationStatus.values
    )
    assert models.Company.objects.public().exclude(parent__publication_status=_PUBLISHED).exclude(parent=None).exists()
    assert models.Facility.objects.public().filter(commodities=None).exists()
    assert models.Facility.objects.public().filter(capacity_amount__isnull=False, latitude__isnull=False).exists()
    assert selectors.source_list().filter(redistribution_licensed=True).exists()
    assert selectors.source_list().filter(redistribution_licensed=False).exists()
    claims = [
        item
        for company in selectors.company_list(detail=True)
        for item in serializers.CompanyDetailSerializer(company, context={"request": _request(RESOURCES[0])}).data[
            "field_provenance"
        ]
        if item["claims"]
    ]
    assert claims


# --- equivalence -----------------------------------------------------------------------------------------------


def _orderings(resource) -> list[list | None]:
    """The default order, and every ordering field of the viewset each way (ties by slug, as the view does)."""
    raws = [name for field in resource.viewset.ordering_fields for name in (field, f"-{field}")]
    return [None, *(StrictOrderingFilter().get_ordering(view=resource.viewset, raw=raw) for raw in raws)]


@pytest.mark.parametrize("resource", RESOURCES, ids=repr)
def test_list_records_equal_the_serializer(dataset, db, resource):
    request = _request(resource)
    for ordering in _orderings(resource):
        queryset = resource.selector(False)
        if ordering is not None:
            queryset = queryset.order_by(*ordering)
        total = queryset.count()
        assert total
        for start, stop in ((7, 32), (0, total)):
            rows = queryset[start:stop]
            expected = resource.serializer(list(rows), many=True, context={"request": request}).data
            assert len(expected) == len(range(total)[start:stop])
            _assert_same(resource.builder(rows=rows, request=request), expected)


@pytest.mark.parametrize("resource", RESOURCES, ids=repr)
def test_detail_records_equal_the_detail_serializer(dataset, db, resource):
    request = _request(resource)
    records = list(resource.selector(True))
    assert records
    for record in records:
        expected = resource.detail_serializer(record, context={"request": request}).data
        got = resource.builder(rows=resource.selector(True).filter(pk=record.pk), request=request, detail=True)
        _assert_same(got, [expected])


@pytest.mark.parametrize("resource", RESOURCES, ids=repr)
def test_an_empty_page_is_an_empty_list(db, resource):
    assert resource.builder(rows=resource.selector(False).none(), request=_request(resource)) == []


@pytest.mark.parametrize("resource", RESOURCES, ids=repr)
def test_json_endpoints_send_the_serializers_records(dataset, db, client, resource):
    """Through the views (FastReadMixin, deals/api/fast/views.py): every page of the JSON list and every detail
    is the reference serializers' output."""
    request = _request(resource)
    queryset = resource.selector(False)
    total = queryset.count()
    for page in range(1, max(1, -(-total // 40)) + 1):
        response = client.get(reverse(f"api:{resource.name}-list"), {"page_size": 40, "page": page})
        assert response.status_code == 200
        expected = resource.serializer(
            list(queryset[(page - 1) * 40 : page * 40]), many=True, context={"request": request}
        )
        _assert_same(response.json()["results"], expected.data)
    for record in resource.selector(True):
        response = client.get(reverse(f"api:{resource.name}-detail", kwargs={"slug": record.slug}))
        assert response.status_code == 200
        _assert_same(response.json(), resource.detail_serializer(record, context={"request": request}).data)


def test_geojson_features_are_the_serializers_facilities(dataset, db, client):
    """The GeoJSON operation's properties are FacilitySerializer's records, and its points those of
    deals.gazetteer.facility_point for the model instances."""
    facilities = list(selectors.facility_list()[:100])
    expected = serializers.FacilitySerializer(facilities, many=True, context={"request": _request(RESOURCES[1])}).data
    body = json.loads(client.get(reverse("api:facility-geojson"), {"page_size": 100}).content)
    assert len(body["features"]) == len(facilities)
    for facility, properties, feature in zip(facilities, expected, body["features"], strict=True):
        point = facility_point(facility=facility)
        assert feature["id"] == facility.slug
        assert feature["geometry"] == (
            None if point is None else {"type": "Point", "coordinates": [point.longitude, point.latitude]}
        )
        where = {"geometry_source": None, "geometry_level": None, "geometry_place": None}
        if point is not None:
            where = {"geometry_source": point.source, "geometry_level": point.level, "geometry_place": point.place}
        _assert_same(feature["properties"], {**properties, **where})


# --- query counts ----------------------------------------------------------------------------------------------


def _queries(resource, rows, *, detail=False) -> int:
    with CaptureQueriesContext(connection) as captured:
        resource.builder(rows=rows, request=_request(resource), detail=detail)
    return len(captured)


@pytest.mark.parametrize("resource", RESOURCES, ids=repr)
def test_builder_queries_do_not_grow_with_the_page(dataset, db, resource):
    list_queries, detail_queries = BUILDER_QUERIES[resource.name]
    queryset = resource.selector(False)
    total = queryset.count()
    assert total >= 3
    assert [_queries(resource, queryset[:size]) for size in (1, 2, total)] == [list_queries] * 3
    assert list_queries <= 2
    detail = resource.selector(True)
    pks = list(detail.values_list("pk", flat=True)[:5])
    assert [_queries(resource, detail.filter(pk=pk), detail=True) for pk in pks] == [detail_queries] * len(pks)
    assert detail_queries <= 2
