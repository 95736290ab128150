"""deals.gazetteer: stated coordinates are exact; otherwise the most precise stated place the bundled gazetteer
identifies unambiguously gives an approximate point; nothing stated gives none."""

from __future__ import annotations

from decimal import Decimal

import pytest

from deals.gazetteer import GeometryLevel, GeometrySource, facility_point, place_point
from tests.factories import FacilityFactory


def test_locality_within_the_region_code():
    point = place_point(country="US", region_code="US-GA", region="Georgia", locality="Columbus")
    assert (point.source, point.level, point.place) == (GeometrySource.APPROXIMATE, GeometryLevel.LOCALITY, "Columbus")
    # Columbus, Georgia, not Columbus, Ohio (39.96 N, 83.00 W).
    assert (round(point.latitude, 2), round(point.longitude, 2)) == (32.46, -84.99)


def test_locality_within_a_region_named_without_code():
    point = place_point(country="US", region="georgia", locality="columbus")
    assert point.level == GeometryLevel.LOCALITY and round(point.latitude, 2) == 32.46


def test_an_ambiguous_locality_falls_back_to_the_country():
    """A dozen US towns are called Columbus: without the region, picking one would be a guess."""
    point = place_point(country="US", locality="Columbus")
    assert (point.level, point.place) == (GeometryLevel.COUNTRY, "United States")


def test_a_unique_locality_needs_no_region():
    point = place_point(country="EE", locality="Narva")
    assert (point.level, point.place) == (GeometryLevel.LOCALITY, "Narva")


def test_region_by_code():
    point = place_point(country="CA", region_code="CA-QC", region="Quebec")
    assert (point.level, point.place) == (GeometryLevel.REGION, "Quebec")


def test_an_unknown_region_does_not_pick_a_same_named_town_elsewhere():
    point = place_point(country="US", region="Nowhere County", locality="Columbus")
    assert point.level == GeometryLevel.COUNTRY


def test_country_only_and_nothing():
    assert place_point(country="KR").level == GeometryLevel.COUNTRY
    assert place_point(country="") is None
    assert place_point(country="", locality="Columbus") is None


@pytest.mark.django_db
def test_stated_coordinates_are_exact_and_win():
    facility = FacilityFactory(
        country="US",
        region="Georgia",
        region_code="US-GA",
        locality="Columbus",
        latitude=Decimal("32.500000"),
        longitude=Decimal("-84.900000"),
        location_precision="exact",
    )
    point = facility_point(facility=facility)
    assert (point.source, point.level, point.longitude, point.latitude) == (GeometrySource.EXACT, None, -84.9, 32.5)


def test_a_lookup_keeps_only_its_answer_not_the_parsed_data_files():
    """A locality without a region parses every city of the country (28 MB for the United States): the package's
    caches of parsed files are emptied after each lookup, and the answer alone is kept."""
    from countrystatecity_countries.loaders import DataLoader

    place_point.cache_clear()
    first = place_point(country="US", locality="Columbus")
    loaders = (DataLoader.load_countries, DataLoader.load_states, DataLoader.load_cities)
    assert [loader.cache_info().currsize for loader in loaders] == [0, 0, 0]
    # Asked again, the answer comes from this module's own cache.
    hits = place_point.cache_info().hits
    assert place_point(country="US", locality="Columbus") == first
    assert place_point.cache_info().hits == hits + 1
