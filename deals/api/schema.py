"""OpenAPI helpers: error bodies, CSV and GeoJSON descriptions, the schema class and the query parameters'
constraints. The examples of every operation are in :mod:`deals.api.schema_examples`."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from deals.api.serializers import ErrorDetailSerializer

VALIDATION_ERROR_RESPONSE = OpenApiResponse(
    response={"$ref": "#/components/schemas/ValidationError"},
    description="Bad query parameter: unknown name, invalid value, unknown slug or choice, NUL byte, value "
    "longer than 200 characters, bad ordering field or page size above the maximum.",
)
LIST_NOT_FOUND_RESPONSE = OpenApiResponse(
    response=ErrorDetailSerializer, description="The page number lies past the last page."
)
DETAIL_NOT_FOUND_RESPONSE = OpenApiResponse(response=ErrorDetailSerializer, description="No record has this slug.")

FORMAT_PARAMETER = OpenApiParameter(
    name="format",
    type=str,
    enum=["json"],
    required=False,
    description="Response format: json, the only one of this operation. CSV is its own operation "
    "(`/api/v1/<collection>.csv`), and so is GeoJSON (`/api/v1/facilities.geojson`), so that this one is JSON only.",
)
CSV_DESCRIPTION = (
    "Every scalar field has its column (named as in the JSON); relations are slugs joined with `;` "
    "(`company-slug:role` where a role goes with them); `quotes` has one line per supporting quote, "
    "`<source-slug>: <quote>`. Empty cells are not stated. Cells starting with = + - @ TAB or CR get a leading "
    "apostrophe (plain numbers excepted) against spreadsheet formula injection. Errors are JSON."
)
GEOJSON_DESCRIPTION = (
    "Published facilities as a GeoJSON FeatureCollection (RFC 7946, `application/geo+json`), with the same filters, "
    "ordering and pages as `/api/v1/facilities/` (follow `next` or the `Link` header). Each feature's `properties` "
    "are the facility as the JSON list gives it, plus where its point comes from: `geometry_source` `exact` for "
    "coordinates a source states; `approximate` for a point of the stated locality, region or country from the "
    "bundled gazetteer (`geometry_level`, `geometry_place`), looked up when the response is made and never stored; "
    "or null, with a null geometry, when no place is stated. A locality or region is used only when the gazetteer "
    "identifies it unambiguously; otherwise the next coarser level is. Errors are JSON."
)


def slug_parameter(noun: str) -> OpenApiParameter:
    """The ``{slug}`` path parameter of a detail operation."""
    return OpenApiParameter(
        name="slug",
        type=str,
        location=OpenApiParameter.PATH,
        pattern=r"^[-a-zA-Z0-9_]+$",
        description=f"The {noun}'s slug (its stable identifier), e.g. from a list's `slug` field.",
    )


def decimal_pattern(*, whole_digits: int, decimal_places: int, signed: bool) -> str:
    """The exact shape DRF writes a decimal in (COERCE_DECIMAL_TO_STRING): at least one whole digit, and always
    ``decimal_places`` decimals, e.g. ``"10000000.00"`` for 2 places."""
    sign = "-?" if signed else ""
    decimals = rf"\.[0-9]{{{decimal_places}}}" if decimal_places else ""
    return rf"^{sign}[0-9]{{1,{max(whole_digits, 1)}}}{decimals}$"


class ApiAutoSchema(AutoSchema):
    """AutoSchema of the public API: no security requirement (the API has no authentication), decimals with the
    exact pattern they are sent in, CSV responses documented as text with their columns, and the CSV and GeoJSON
    operations given the list's filters and pagination parameters."""

    def get_auth(self):
        # drf-spectacular writes `security: [{}]` ("no authentication is also fine") when AllowAny is used;
        # generated clients then demand an authenticated client. The public API has no authentication at all.
        return []

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and schema.get("format") == "decimal":
            min_value = field.min_value
            schema["pattern"] = decimal_pattern(
                whole_digits=field.max_whole_digits or 1,
                decimal_places=field.decimal_places or 0,
                signed=min_value is None or min_value < 0,
            )
        return schema

    def _is_other_format_of_a_list(self) -> bool:
        # The CSV and GeoJSON operations take a list's filters and pages, while their bodies are not JSON arrays of
        # records (so drf-spectacular must not wrap them as a list).
        return getattr(self.view, "action", None) in ("csv", "geojson")

    def get_filter_backends(self):
        if self._is_other_format_of_a_list():
            return getattr(self.view, "filter_backends", [])
        return super().get_filter_backends()

    def _get_pagination_parameters(self):
        if self._is_other_format_of_a_list():
            return self._get_paginator().get_schema_operation_parameters(self.view)
        return super()._get_pagination_parameters()

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        content = response.get("content", {})
        if "text/csv" in content:
            view = self.view
            columns = view.csv_columns()
            content["text/csv"] = {
                "schema": {
                    "type": "string",
                    "description": f"CSV (RFC 4180, UTF-8) with a header row. Columns: {', '.join(columns)}.",
                },
                "example": ",".join(columns) + "\r\n",
            }
        return response


NOT_ACCEPTABLE_DESCRIPTION = (
    "The `Accept` header asks only for formats this endpoint does not serve (each operation serves one: JSON, or "
    "CSV for `….csv`, or GeoJSON for `/api/v1/facilities.geojson`)."
)
_SECONDS = {"type": "integer", "minimum": 0}
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": {"description": "Requests allowed per window to this client.", "schema": _SECONDS},
    "RateLimit-Remaining": {"description": "Requests left in the current window.", "schema": _SECONDS},
    "RateLimit-Reset": {"description": "Seconds until the current window ends.", "schema": _SECONDS},
}
RETRY_AFTER_HEADER = {"description": "Seconds to wait before retrying.", "schema": {"type": "integer", "minimum": 1}}
_ERROR_DETAIL = {"$ref": "#/components/schemas/ErrorDetail"}
# Error responses every operation may give, beyond its own 400/404 (the lead adds 410 to details the same way:
# status code → response object, in DETAIL_ERROR_RESPONSES).
COMMON_ERROR_RESPONSES = {
    "406": {"description": NOT_ACCEPTABLE_DESCRIPTION, "content": {"application/json": {"schema": _ERROR_DETAIL}}},
    "429": {
        "description": "Too many requests from this client: the rate limit (`RateLimit-*` headers, sent with every "
        "response) is used up. Retry after `Retry-After` seconds.",
        "headers": {"Retry-After": RETRY_AFTER_HEADER, **RATE_LIMIT_HEADERS},
        "content": {"application/json": {"schema": _ERROR_DETAIL}},
    },
    "503": {
        "description": "The database is unavailable or too slow. Retry after `Retry-After` seconds.",
        "headers": {"Retry-After": RETRY_AFTER_HEADER},
        "content": {"application/json": {"schema": _ERROR_DETAIL}},
    },
}
DETAIL_ERROR_RESPONSES: dict[str, dict] = {}
LIST_NOT_FOUND_SCHEMA = {
    "oneOf": [_ERROR_DETAIL, {"$ref": "#/components/schemas/ValidationError"}],
    "description": '`{"detail": …}` for a page past the end; keyed by the parameter, like a 400, for slugs '
    "naming no record.",
}
LIST_NOT_FOUND_DESCRIPTION = (
    "The page number lies past the last page, or a slug filter (e.g. `commodity`) names no existing record; the "
    "body then names the parameter and the unknown slug."
)
# Query parameters that are not filters: an empty value is a 400 (every filter treats empty as "no filter").
NON_FILTER_PARAMETERS = {"ordering", "page", "page_size", "format", "group_by"}
# Amounts of money: the exact shape deals.filtersets.UsdAmountField accepts (no exponent, sign or separator).
USD_PARAMETERS = {"value_usd_min", "value_usd_max"}
# Facility and deal-term bounds: periods (a year, month or day), quantities and whole numbers, as
# deals.range_filters reads them.
PATTERN_PARAMETERS = {
    "planned_start_after": "PERIOD_PATTERN",
    "planned_start_before": "PERIOD_PATTERN",
    "capacity_min": "QUANTITY_PATTERN",
    "capacity_max": "QUANTITY_PATTERN",
    "jobs_min": "WHOLE_PATTERN",
    "jobs_max": "WHOLE_PATTERN",
    # Deal terms: the same shapes.
    "unit_price_min": "QUANTITY_PATTERN",
    "unit_price_max": "QUANTITY_PATTERN",
    "term_months_min": "WHOLE_PATTERN",
    "term_months_max": "WHOLE_PATTERN",
    "output_share_min": "QUANTITY_PATTERN",
    "output_share_max": "QUANTITY_PATTERN",
}
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
NO_NUL_PATTERN = r"^[^\x00]*$"


def _slug_filter_names() -> set[str]:
    from deals.filtersets import (
        CommodityFilterSet,
        CompanyFilterSet,
        DealFilterSet,
        FacilityFilterSet,
        SlugFilter,
        SourceFilterSet,
    )

    filtersets = (DealFilterSet, CompanyFilterSet, FacilityFilterSet, SourceFilterSet, CommodityFilterSet)
    return {name for fs in filtersets for name, f in fs.base_filters.items() if isinstance(f, SlugFilter)}


def _parameter_constrain(parameter: dict, *, slug_filters: set[str]) -> None:
    """State on one query parameter the rules deals.api.query and deals.filtersets enforce."""
    from deals import range_filters
    from deals.api.query import MAX_PARAM_LENGTH, ORDERING_PARAM, PARAM_MAX_LENGTHS
    from deals.filtersets import USD_PATTERN

    name = parameter["name"]
    schema = parameter.setdefault("schema", {})
    if name in NON_FILTER_PARAMETERS or parameter.get("required"):
        parameter["allowEmptyValue"] = False
    else:
        parameter["allowEmptyValue"] = True
    if name == ORDERING_PARAM:
        schema["uniqueItems"] = True
        schema["minItems"] = 1
    if name in USD_PARAMETERS:
        parameter["schema"] = {"type": "string", "pattern": USD_PATTERN}
        return
    if name == "updated_since":
        from deals.api.updated_since import UPDATED_SINCE_SCHEMA

        parameter["schema"] = UPDATED_SINCE_SCHEMA
        return
    if name in PATTERN_PARAMETERS:
        pattern = getattr(range_filters, PATTERN_PARAMETERS[name])
        parameter["schema"] = {"type": "string", "pattern": pattern}
        if PATTERN_PARAMETERS[name] == "PERIOD_PATTERN":  # a year or a month, or a date
            parameter["schema"] = {"oneOf": [parameter["schema"], {"type": "string", "format": "date"}]}
        return
    target = schema.get("items", {}) if schema.get("type") == "array" else schema
    if target.get("type") != "string" or "enum" in target or "format" in target:
        return
    target["maxLength"] = PARAM_MAX_LENGTHS.get(name, MAX_PARAM_LENGTH)
    if name in slug_filters:
        target["pattern"] = SLUG_PATTERN
    else:
        target.setdefault("pattern", NO_NUL_PATTERN)


def query_parameters_constrain(result, generator, request, public):
    """Postprocessing hook: state in the schema the rules deals.api.query and the filters enforce, and the error
    responses every operation shares.

    - an empty filter value is no filter (``allowEmptyValue: true``); an empty ``ordering``, ``page``,
      ``page_size`` or ``format`` is a 400 (``allowEmptyValue: false``, ``ordering`` has ``minItems: 1``);
    - every free-text query value (no enum, not a date) is at most ``MAX_PARAM_LENGTH`` characters without NUL,
      and so is each value of a multi-valued parameter; slugs match ``SLUG_PATTERN``;
    - ``ordering`` names each item at most once (``uniqueItems``);
    - USD bounds are strings of the exact decimal shape the server accepts;
    - a list's 404 is also a slug filter naming no record;
    - every operation may answer 406, 429 and 503 (``COMMON_ERROR_RESPONSES``), details also
      ``DETAIL_ERROR_RESPONSES``. 405 (any write) is in the API's description: there is no write operation to attach
      it to, and an unused component is a lint warning.
    """
    slug_filters = _slug_filter_names()
    for path, methods in result.get("paths", {}).items():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    _parameter_constrain(parameter, slug_filters=slug_filters)
            responses = operation.setdefault("responses", {})
            # (Releases have no pages and no filters: their 404 is their own, see deals/api/releases.py.)
            if "404" in responses and "{" not in path and not path.startswith("/api/v1/releases/"):
                responses["404"]["description"] = LIST_NOT_FOUND_DESCRIPTION
                responses["404"]["content"] = {"application/json": {"schema": LIST_NOT_FOUND_SCHEMA}}
            responses.update(COMMON_ERROR_RESPONSES)
            if "{" in path:
                responses.update(DETAIL_ERROR_RESPONSES)
    return result
