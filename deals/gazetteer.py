"""Where a facility is on a map: its stated coordinates, or else a gazetteer point of its stated place.

The gazetteer is the bundled offline copy of the countries-states-cities database (package
``countrystatecity-countries``, pinned; ODbL 1.0, attribution in :data:`GAZETTEER_ATTRIBUTION`): countries,
states/provinces with their ISO 3166-2 codes, and cities, each with a point. A point is looked up at read time
and never stored: the record's ``latitude``/``longitude`` hold only coordinates a source states, and a derived point
says so (``approximate``, with its level), so it can never pass for a stated one.

Rules, most precise first; each level needs an unambiguous match, since guessing is worse than a coarser point:

1. **exact**: the facility's stated ``latitude``/``longitude``;
2. **locality**: a city of that name (case-insensitive) in the facility's region (its ``region_code``, or a state
   whose name is the stated ``region``), or in its country when no region is known; exactly one match;
3. **region**: the state whose ISO 3166-2 code is the ``region_code``, or else the one state named like ``region``;
4. **country**: the country's point;
5. nothing stated: no geometry.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

# countrystatecity_countries is imported where a point is looked up, not here: it brings pydantic (about 7 MB of
# modules in every gunicorn worker), and only the GeoJSON format looks points up. The API schema and the GeoJSON
# module import this one for GAZETTEER_ATTRIBUTION and the level/source names at start-up.

GAZETTEER_ATTRIBUTION = (
    "Approximate points: countries-states-cities-database (countrystatecity-countries 2.0.1), "
    "Open Database License (ODbL) 1.0, https://github.com/dr5hn/countries-states-cities-database"
)


class GeometrySource:
    """Where a feature's point comes from (``geometry_source``)."""

    EXACT = "exact"
    APPROXIMATE = "approximate"


class GeometryLevel:
    """Which stated place an approximate point stands for (``geometry_level``)."""

    LOCALITY = "locality"
    REGION = "region"
    COUNTRY = "country"


@dataclass(frozen=True)
class PlacePoint:
    """A point (WGS84 degrees) and what it is: ``source`` exact or approximate, the ``level`` and ``place`` name of
    the gazetteer entry for an approximate one."""

    longitude: float
    latitude: float
    source: str
    level: str | None = None
    place: str | None = None


def _folded(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold().strip()


@functools.lru_cache(maxsize=4096)
def _state(country: str, region_code: str, region: str):
    """The gazetteer's state for the region code, or else the only state named ``region``; None if neither."""
    from countrystatecity_countries import get_states_of_country

    states = get_states_of_country(country)
    if region_code:
        by_code = [s for s in states if s.iso3166_2 == region_code]
        if len(by_code) == 1:
            return by_code[0]
    if region:
        by_name = [s for s in states if _folded(s.name) == _folded(region)]
        if len(by_name) == 1:
            return by_name[0]
    return None


def _point(entry, *, level: str) -> PlacePoint | None:
    if entry is None or not entry.latitude or not entry.longitude:
        return None
    return PlacePoint(
        longitude=float(entry.longitude),
        latitude=float(entry.latitude),
        source=GeometrySource.APPROXIMATE,
        level=level,
        place=entry.name,
    )


@functools.lru_cache(maxsize=4096)
def place_point(*, country: str, region_code: str = "", region: str = "", locality: str = "") -> PlacePoint | None:
    """The gazetteer point of the most precise stated place that it identifies unambiguously (see the module
    docstring); None without a country, or for a country the gazetteer does not know."""
    from countrystatecity_countries.loaders import DataLoader

    try:
        return _place_point_lookup(country=country, region_code=region_code, region=region, locality=locality)
    finally:
        # The package keeps every data file it has parsed (lru_caches of up to 5,000 states' cities): a locality
        # without a region parses a whole country's cities, 28 MB kept for the United States alone, and a worker
        # placing facilities in a few countries kept them all. The answers are cached here (small PlacePoints), so
        # the parsed files are dropped; parsing again costs no more than building the package's objects from its
        # cache did (tens of milliseconds, once per distinct place).
        DataLoader.clear_cache()


def _place_point_lookup(*, country: str, region_code: str, region: str, locality: str) -> PlacePoint | None:
    from countrystatecity_countries import get_cities_of_country, get_cities_of_state, get_country_by_code

    if not country or get_country_by_code(country) is None:
        return None
    state = _state(country, region_code, region)
    if locality:
        if state is not None:
            cities = get_cities_of_state(country, state.state_code)
        elif not region_code and not region:
            cities = get_cities_of_country(country)
        else:
            cities = []  # a region is stated but not found: a same-named town elsewhere in the country is a guess
        matches = [c for c in cities if _folded(c.name) == _folded(locality)]
        if len(matches) == 1:
            return _point(matches[0], level=GeometryLevel.LOCALITY)
    if state is not None:
        found = _point(state, level=GeometryLevel.REGION)
        if found is not None:
            return found
    return _point(get_country_by_code(country), level=GeometryLevel.COUNTRY)


def facility_point(*, facility) -> PlacePoint | None:
    """Where ``facility`` goes on a map: its stated coordinates (exact), else :func:`place_point` of its stated
    country, region and locality (approximate), else None."""
    if facility.latitude is not None and facility.longitude is not None:
        return PlacePoint(
            longitude=float(facility.longitude), latitude=float(facility.latitude), source=GeometrySource.EXACT
        )
    country = facility.country.code if facility.country else ""
    return place_point(
        country=country, region_code=facility.region_code, region=facility.region, locality=facility.locality
    )


def facility_record_point(*, record: dict) -> PlacePoint | None:
    """:func:`facility_point` of a facility as the API sends it (a ``FacilitySerializer`` record, or the fast read
    path's ``facility_records``): latitude and longitude as decimal text, the country as ``{code, name}``, a blank
    region code as null. The GeoJSON operation places its features from these records."""
    if record["latitude"] is not None and record["longitude"] is not None:
        return PlacePoint(
            longitude=float(record["longitude"]), latitude=float(record["latitude"]), source=GeometrySource.EXACT
        )
    country = record["country"]["code"] if record["country"] else ""
    return place_point(
        country=country, region_code=record["region_code"] or "", region=record["region"], locality=record["locality"]
    )
