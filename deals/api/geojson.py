"""The GeoJSON operation (``/api/v1/facilities.geojson``): a page of facilities as an RFC 7946 FeatureCollection.

Each feature's ``properties`` are the facility exactly as the JSON list gives it, plus where its point comes from
(deals/gazetteer.py): ``geometry_source`` ``exact`` (stated coordinates), ``approximate`` (a gazetteer point of
the stated locality, region or country, named by ``geometry_level`` and ``geometry_place``) or null with a null
geometry (no place stated). The collection carries the page's ``count`` (null on a cursor page), ``next`` and
``previous`` (also in the ``Link`` header) and the gazetteer's ``attribution`` as foreign members.
"""

from __future__ import annotations

from rest_framework.renderers import BaseRenderer

from deals.api.renderers_json import FastJSONRenderer
from deals.gazetteer import GAZETTEER_ATTRIBUTION, GeometryLevel, GeometrySource, facility_record_point

MEDIA_TYPE = "application/geo+json"


class GeoJsonRenderer(BaseRenderer):
    """JSON with the GeoJSON media type (RFC 7946 §12: ``application/geo+json``, no charset parameter).

    Not a JSONRenderer subclass, so that an error of this operation is still answered as plain JSON
    (StrictQueryMixin.finalize_response)."""

    media_type = MEDIA_TYPE
    format = "geojson"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return FastJSONRenderer().render(data, FastJSONRenderer.media_type, renderer_context)


def facility_feature(*, properties: dict) -> dict:
    """One facility as a GeoJSON Feature (``id`` is its slug), from the facility as the JSON list gives it."""
    point = facility_record_point(record=properties)
    geometry = None if point is None else {"type": "Point", "coordinates": [point.longitude, point.latitude]}
    return {
        "type": "Feature",
        "id": properties["slug"],
        "geometry": geometry,
        "properties": {
            **properties,
            "geometry_source": None if point is None else point.source,
            "geometry_level": None if point is None else point.level,
            "geometry_place": None if point is None else point.place,
        },
    }


def facility_feature_collection(*, properties: list[dict], page: dict) -> dict:
    """The body of the GeoJSON operation: the page's facilities (their JSON list records) as features."""
    return {
        "type": "FeatureCollection",
        "count": page["count"],
        "next": page["next"],
        "previous": page["previous"],
        "attribution": GAZETTEER_ATTRIBUTION,
        "features": [facility_feature(properties=props) for props in properties],
    }


_PAGE_LINK = {"type": "string", "format": "uri", "nullable": True}
GEOJSON_SCHEMA = {
    "type": "object",
    "description": "A GeoJSON FeatureCollection (RFC 7946): one page of facilities, one Feature each.",
    "required": ["type", "count", "next", "previous", "attribution", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"], "description": "Always FeatureCollection."},
        "count": {
            "type": "integer",
            "nullable": True,
            "minimum": 0,
            "description": "Number of matching facilities on all pages; null on a cursor page.",
        },
        "next": {**_PAGE_LINK, "description": "URL of the next page; null on the last page."},
        "previous": {**_PAGE_LINK, "description": "URL of the previous page; null on the first page."},
        "attribution": {"type": "string", "description": "Where the approximate points come from, and its licence."},
        "features": {
            "type": "array",
            "description": "The facilities of this page.",
            "items": {
                "type": "object",
                "description": "A facility as a GeoJSON Feature.",
                "required": ["type", "id", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"], "description": "Always Feature."},
                    "id": {"type": "string", "description": "The facility's slug."},
                    "geometry": {
                        "type": "object",
                        "nullable": True,
                        "description": "The facility's point, or null when no place is stated.",
                        "required": ["type", "coordinates"],
                        "properties": {
                            "type": {"type": "string", "enum": ["Point"], "description": "Always Point."},
                            "coordinates": {
                                "type": "array",
                                "items": {"type": "number"},
                                "minItems": 2,
                                "maxItems": 2,
                                "description": "[longitude, latitude] in WGS84 degrees.",
                            },
                        },
                    },
                    "properties": {
                        "description": "The facility as in the JSON list, plus where its point comes from.",
                        "allOf": [
                            {"$ref": "#/components/schemas/Facility"},
                            {
                                "type": "object",
                                "required": ["geometry_source", "geometry_level", "geometry_place"],
                                "properties": {
                                    "geometry_source": {
                                        "type": "string",
                                        "nullable": True,
                                        "enum": [GeometrySource.EXACT, GeometrySource.APPROXIMATE, None],
                                        "description": "exact: the coordinates a source states; approximate: a "
                                        "gazetteer point of the stated place (never stored); null: no place stated.",
                                    },
                                    "geometry_level": {
                                        "type": "string",
                                        "nullable": True,
                                        "enum": [
                                            GeometryLevel.LOCALITY,
                                            GeometryLevel.REGION,
                                            GeometryLevel.COUNTRY,
                                            None,
                                        ],
                                        "description": "For an approximate point, the place it stands for; "
                                        "otherwise null.",
                                    },
                                    "geometry_place": {
                                        "type": "string",
                                        "nullable": True,
                                        "description": "For an approximate point, the gazetteer entry's name, e.g. "
                                        "Columbus; otherwise null.",
                                    },
                                },
                            },
                        ],
                    },
                },
            },
        },
    },
}
