"""/api/v1/facilities.geojson: a valid GeoJSON FeatureCollection (checked with the geojson package), each
facility's JSON fields as properties, filters and pages as on the list, and points three ways: exact (stated),
approximate (a bundled-gazetteer point of the stated place, inside its country) or null (no place stated)."""

from __future__ import annotations

from decimal import Decimal

import geojson
import pytest
import shapely.geometry
from countryinfo import CountryInfo
from django.core.management import call_command

from deals.api.serializers import FacilitySerializer
from deals.caching import dataset_version_get
from deals.models import Facility
from tests.factories import FacilityFactory

URL = "/api/v1/facilities.geojson"
# countryinfo's outlines are Natural Earth's 1:110m ones, generalised by up to about 10 km: Narva (EE) lies on the
# Estonian bank of the border river, 0.094 degrees outside the generalised Estonia. Points may be that far out.
OUTLINE_TOLERANCE_DEGREES = 0.1


def _collection(response) -> dict:
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    body = geojson.loads(response.content.decode("utf-8"))
    assert body.is_valid, body.errors()
    assert body["type"] == "FeatureCollection"
    return body


def _country_outline(code: str):
    return shapely.geometry.shape(CountryInfo(code).geo_json()["features"][0]["geometry"])


def _geometry_of(body: dict) -> dict[str, tuple]:
    return {
        f["id"]: (
            f["properties"]["geometry_source"],
            f["properties"]["geometry_level"],
            f["properties"]["geometry_place"],
            None if f["geometry"] is None else f["geometry"]["type"],
        )
        for f in body["features"]
    }


@pytest.mark.django_db
def test_seed_dataset_on_a_map(client):
    """The five seed facilities: none has stated coordinates, so each gets the point of its most precise place."""
    call_command("load_dataset", verbosity=0)
    body = _collection(client.get(URL))
    assert body["count"] == 5
    assert _geometry_of(body) == {
        "group14-south-korea-facilities": ("approximate", "country", "South Korea", "Point"),
        "js-link-columbus-ndfeb-magnet-plant": ("approximate", "locality", "Columbus", "Point"),
        "neo-performance-materials-narva-magnet-plant": ("approximate", "locality", "Narva", "Point"),
        "reelement-principal-mineral-separation-and-metals-hub": ("approximate", "country", "United States", "Point"),
        "strange-lake-deposit": ("approximate", "region", "Quebec", "Point"),
    }
    for feature in body["features"]:
        code = feature["properties"]["country"]["code"]
        point = shapely.geometry.Point(feature["geometry"]["coordinates"])
        outline = _country_outline(code)
        assert outline.contains(point) or outline.distance(point) <= OUTLINE_TOLERANCE_DEGREES, (feature["id"], code)
        # Derived, never stored: the record's own coordinates stay those a source states (none).
        assert (feature["properties"]["latitude"], feature["properties"]["longitude"]) == (None, None)
    assert set(Facility.objects.values_list("latitude", flat=True)) == {None}


@pytest.mark.django_db
def test_a_derived_point_outside_its_country_would_be_caught():
    """The containment check can fail: Columbus, Georgia is nowhere near Canada."""
    point = shapely.geometry.Point(-84.98771, 32.46098)
    assert _country_outline("US").contains(point)
    assert _country_outline("CA").distance(point) > OUTLINE_TOLERANCE_DEGREES


@pytest.mark.django_db
def test_exact_approximate_and_null(client):
    FacilityFactory(
        slug="a-exact",
        country="US",
        locality="Columbus",
        latitude=Decimal("32.500000"),
        longitude=Decimal("-84.900000"),
        location_precision="exact",
    )
    FacilityFactory(slug="b-region", country="CA", region="Quebec", region_code="CA-QC", location_precision="region")
    FacilityFactory(slug="c-nowhere", country="")
    body = _collection(client.get(URL, {"ordering": "slug"}))
    features = {f["id"]: f for f in body["features"]}
    assert features["a-exact"]["geometry"] == {"type": "Point", "coordinates": [-84.9, 32.5]}
    assert _geometry_of(body) == {
        "a-exact": ("exact", None, None, "Point"),
        "b-region": ("approximate", "region", "Quebec", "Point"),
        "c-nowhere": (None, None, None, None),
    }
    assert features["c-nowhere"]["geometry"] is None
    assert "ODbL" in body["attribution"]


@pytest.mark.django_db
def test_properties_are_the_facility_json_fields(client):
    FacilityFactory(slug="plant", country="US", region="Georgia", region_code="US-GA", jobs=500)
    (feature,) = _collection(client.get(URL))["features"]
    extra = {"geometry_source", "geometry_level", "geometry_place"}
    assert set(feature["properties"]) == set(FacilitySerializer.Meta.fields) | extra
    listed = client.get("/api/v1/facilities/").json()["results"][0]
    assert {k: v for k, v in feature["properties"].items() if k not in extra} == listed


@pytest.mark.django_db
def test_filters_ordering_and_pages_apply(client):
    FacilityFactory(slug="ca-1", country="CA", region="Quebec", region_code="CA-QC")
    for n in range(3):
        FacilityFactory(slug=f"us-{n}", country="US")
    body = _collection(client.get(URL, {"region_code": "ca-qc"}))
    assert [f["id"] for f in body["features"]] == ["ca-1"]
    response = client.get(URL, {"country": "US", "ordering": "-slug", "page_size": 2})
    body = _collection(response)
    assert [f["id"] for f in body["features"]] == ["us-2", "us-1"]
    assert body["count"] == 3 and body["previous"] is None
    assert body["next"].startswith("http://testserver/api/v1/facilities.geojson?") and "page=2" in body["next"]
    assert 'rel="next"' in response["Link"]
    assert client.get(URL, {"page": 9}).status_code == 404


@pytest.mark.django_db
def test_errors_are_json_and_the_list_points_here(client):
    response = client.get(URL, {"kind": "castle"})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    response = client.get("/api/v1/facilities/", {"format": "geojson"})
    assert response.status_code == 400
    assert "GeoJSON is its own operation: /api/v1/facilities.geojson" in response.json()["format"][0]
    assert client.get(URL, HTTP_ACCEPT="application/json").status_code == 406


@pytest.mark.django_db
def test_query_count_is_the_lists(client, django_assert_num_queries):
    for n in range(5):
        FacilityFactory(slug=f"f-{n}", country="US", region="Georgia", region_code="US-GA", locality="Columbus")
    dataset_version_get()
    with django_assert_num_queries(4):  # the version row, then the JSON list's three (tests/api/test_endpoints.py)
        assert client.get(URL, {"page_size": 50}).status_code == 200
