"""OpenAPI helpers: error bodies, CSV responses, and one example per operation.

The examples are illustrative (``example-…`` slugs, example.org addresses); they are documentation, not data.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

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
    enum=["json", "csv"],
    required=False,
    description="Response format: json (default) or csv (same as `Accept: text/csv`). CSV has one flat row per "
    "record, lists semicolon-joined, and cells starting with = + - @ TAB or CR prefixed by an apostrophe "
    "(plain numbers excepted) against spreadsheet formula injection. Pagination is the same as for JSON; "
    "the `Link` header carries the next/previous page URLs.",
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


def blank_enum_describe(result, generator, request, public):
    """Postprocessing hook: give drf-spectacular's shared ``BlankEnum`` (the empty choice) a description."""
    blank = result.get("components", {}).get("schemas", {}).get("BlankEnum")
    if blank is not None:
        blank["description"] = "Empty: not stated."
    return result


class ApiAutoSchema(AutoSchema):
    """AutoSchema that documents CSV list responses as text with their columns, instead of the JSON schema."""

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


def _brief(kind: str, slug: str, label: str, name: str = "name") -> dict:
    return {"slug": slug, name: label, "url": f"http://127.0.0.1:8000/api/v1/{kind}/{slug}/"}


SOURCE_BRIEF_EXAMPLE = {
    **_brief("sources", "example-news-2025-09-12", "Example Magnets signs offtake with Example Metals", "title"),
    "publisher": "Example News",
    "published_date": "2025-09-12",
    "document_url": "https://example.org/news/example-offtake",
}
PROVENANCE_EXAMPLE = {
    "source": SOURCE_BRIEF_EXAMPLE,
    "quote": "Example Magnets signed a $10 million offtake with Example Metals.",
    "start": 120,
    "end": 185,
    "fields": ["title", "amount", "parties"],
}
DEAL_EXAMPLE = {
    "slug": "example-magnets-example-metals-offtake-2025",
    "url": "http://127.0.0.1:8000/api/v1/deals/example-magnets-example-metals-offtake-2025/",
    "title": "Example Magnets signs $10M offtake with Example Metals",
    "deal_type": "offtake",
    "status": "signed",
    "announced_date": "2025-09-01",
    "announced_date_precision": "month",
    "amount": "10000000.00",
    "currency": "USD",
    "amount_usd": "10000000.00",
    "value_qualifier": "exact",
    "summary": "Example Magnets will buy NdPr oxide from Example Metals.",
    "countries": [{"code": "US", "name": "United States of America"}],
    "commodities": [_brief("commodities", "ndpr-oxide", "NdPr oxide")],
    "stages": [{"slug": "magnet-manufacturing", "name": "Magnet manufacturing", "segment": "downstream"}],
    "parties": [
        {**_brief("companies", "example-magnets", "Example Magnets"), "role": "buyer"},
        {**_brief("companies", "example-metals", "Example Metals"), "role": "supplier"},
    ],
    "facilities": [_brief("facilities", "example-magnets-plant", "Example Magnets plant")],
    "evidence_count": 1,
    "provenance": [PROVENANCE_EXAMPLE],
    "updated": "2025-10-01T12:00:00Z",
}
_FIELD_QUOTE_EXAMPLE = {
    "source": SOURCE_BRIEF_EXAMPLE["slug"],
    "quote": PROVENANCE_EXAMPLE["quote"],
    "start": PROVENANCE_EXAMPLE["start"],
    "end": PROVENANCE_EXAMPLE["end"],
}
DEAL_DETAIL_EXAMPLE = {
    **DEAL_EXAMPLE,
    "field_provenance": [
        {
            "field": "title",
            "label": "Title",
            "value": DEAL_EXAMPLE["title"],
            "supported": True,
            "quotes": [_FIELD_QUOTE_EXAMPLE],
            "claims": [],
        },
        {
            "field": "amount",
            "label": "Amount",
            "value": "10000000",
            "supported": True,
            "quotes": [_FIELD_QUOTE_EXAMPLE],
            "claims": [
                {
                    "value": "8000000",
                    "quotes": [
                        {
                            "source": "example-wire-2025-09-10",
                            "quote": "an offtake said to be worth $8 million",
                            "start": 40,
                            "end": 78,
                        }
                    ],
                }
            ],
        },
        {
            "field": "parties",
            "label": "Parties",
            "value": [["example-magnets", "buyer"], ["example-metals", "supplier"]],
            "supported": True,
            "quotes": [_FIELD_QUOTE_EXAMPLE],
            "claims": [],
        },
    ],
}
COMPANY_EXAMPLE = {
    "slug": "example-magnets",
    "url": "http://127.0.0.1:8000/api/v1/companies/example-magnets/",
    "name": "Example Magnets",
    "kind": "company",
    "country": {"code": "US", "name": "United States of America"},
    "locality": "Columbus",
    "aliases": ["EMI"],
    "parent": None,
    "description": "Makes sintered NdFeB magnets.",
    "website": None,
    "deal_count": 1,
    "facility_count": 1,
    "evidence_count": 1,
    "provenance": [{**PROVENANCE_EXAMPLE, "fields": ["name", "locality"]}],
    "updated": "2025-10-01T12:00:00Z",
}
COMPANY_DETAIL_EXAMPLE = {
    **COMPANY_EXAMPLE,
    "deals": [
        {**_brief("deals", DEAL_EXAMPLE["slug"], DEAL_EXAMPLE["title"], "title"), "role": "buyer"},
    ],
    "facilities": [{**_brief("facilities", "example-magnets-plant", "Example Magnets plant"), "role": "owner"}],
    "field_provenance": [
        {
            "field": "name",
            "label": "Name",
            "value": "Example Magnets",
            "supported": True,
            "quotes": [_FIELD_QUOTE_EXAMPLE],
            "claims": [],
        }
    ],
}
FACILITY_EXAMPLE = {
    "slug": "example-magnets-plant",
    "url": "http://127.0.0.1:8000/api/v1/facilities/example-magnets-plant/",
    "name": "Example Magnets plant",
    "kind": "magnet",
    "status": "planned",
    "country": {"code": "US", "name": "United States of America"},
    "region": "Ohio",
    "locality": "Columbus",
    "latitude": None,
    "longitude": None,
    "location_precision": "locality",
    "capacity_amount": "3000.000",
    "capacity_unit": "tonnes",
    "capacity_period": "year",
    "capacity_qualifier": "exact",
    "planned_start": "2027-01-01",
    "planned_start_precision": "year",
    "jobs": None,
    "jobs_qualifier": "",
    "investment_amount": None,
    "investment_currency": "",
    "investment_amount_usd": None,
    "investment_qualifier": "",
    "description": "A sintered magnet plant.",
    "companies": [{**_brief("companies", "example-magnets", "Example Magnets"), "role": "owner"}],
    "commodities": [_brief("commodities", "ndfeb-magnets", "NdFeB magnets")],
    "deals": [_brief("deals", DEAL_EXAMPLE["slug"], DEAL_EXAMPLE["title"], "title")],
    "evidence_count": 1,
    "provenance": [{**PROVENANCE_EXAMPLE, "fields": ["capacity_amount", "locality"]}],
    "updated": "2025-10-01T12:00:00Z",
}
FACILITY_DETAIL_EXAMPLE = {
    **FACILITY_EXAMPLE,
    "field_provenance": [
        {
            "field": "name",
            "label": "Name",
            "value": FACILITY_EXAMPLE["name"],
            "supported": True,
            "quotes": [_FIELD_QUOTE_EXAMPLE],
            "claims": [],
        }
    ],
}
SOURCE_EXAMPLE = {
    "slug": SOURCE_BRIEF_EXAMPLE["slug"],
    "url": SOURCE_BRIEF_EXAMPLE["url"],
    "title": SOURCE_BRIEF_EXAMPLE["title"],
    "publisher": "Example News",
    "author": "A. Reporter",
    "published_date": "2025-09-12",
    "published_date_precision": "day",
    "document_url": SOURCE_BRIEF_EXAMPLE["document_url"],
    "kind": "news",
    "raw_sha256": "0" * 64,
    "text_sha256": "1" * 64,
    "evidence_count": 3,
    "updated": "2025-10-01T12:00:00Z",
}
SOURCE_DETAIL_EXAMPLE = {
    **SOURCE_EXAMPLE,
    "text": "… Example Magnets signed a $10 million offtake with Example Metals. …",
    "deals": [_brief("deals", DEAL_EXAMPLE["slug"], DEAL_EXAMPLE["title"], "title")],
    "companies": [_brief("companies", "example-magnets", "Example Magnets")],
    "facilities": [_brief("facilities", "example-magnets-plant", "Example Magnets plant")],
}
COMMODITY_EXAMPLE = {
    "slug": "dysprosium",
    "url": "http://127.0.0.1:8000/api/v1/commodities/dysprosium/",
    "name": "Dysprosium",
    "kind": "element",
    "symbol": "Dy",
    "parent": _brief("commodities", "rare-earth-elements", "Rare earth elements"),
    "description": "A heavy rare earth element used in high-temperature magnets.",
    "deal_count": 2,
    "facility_count": 1,
}
INDEX_EXAMPLE = {
    "deals": "http://127.0.0.1:8000/api/v1/deals/",
    "companies": "http://127.0.0.1:8000/api/v1/companies/",
    "facilities": "http://127.0.0.1:8000/api/v1/facilities/",
    "sources": "http://127.0.0.1:8000/api/v1/sources/",
    "commodities": "http://127.0.0.1:8000/api/v1/commodities/",
    "schema": "http://127.0.0.1:8000/api/schema/",
    "docs": "http://127.0.0.1:8000/api/docs/",
    "redoc": "http://127.0.0.1:8000/api/redoc/",
}


def example(name: str, value: dict) -> OpenApiExample:
    """A response example (JSON, 200)."""
    return OpenApiExample(name, value=value, response_only=True, status_codes=["200"])


NOT_ACCEPTABLE_DESCRIPTION = (
    "The `Accept` header asks only for formats this endpoint does not serve (lists: JSON or CSV; details and "
    "the index: JSON)."
)
# Query parameters that are amounts of money: never negative (deals.filtersets.usd_filter).
NON_NEGATIVE_PARAMETERS = {"value_usd_min", "value_usd_max"}


def query_parameters_constrain(result, generator, request, public):
    """Postprocessing hook: state in the schema the limits deals.api.query and the filters enforce.

    - every free-text query value (no enum, not a date) is at most ``MAX_PARAM_LENGTH`` characters, and so is
      each value of a multi-valued parameter;
    - ``ordering`` names each field at most once (``uniqueItems``);
    - USD bounds are at least 0;
    - every operation may answer 406 when the Accept header names no format it serves.
    """
    from deals.api.query import MAX_PARAM_LENGTH, ORDERING_PARAM

    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                schema = parameter.get("schema", {})
                if parameter["name"] == ORDERING_PARAM:
                    schema["uniqueItems"] = True
                if parameter["name"] in NON_NEGATIVE_PARAMETERS:
                    schema["minimum"] = 0
                target = schema.get("items", {}) if schema.get("type") == "array" else schema
                if target.get("type") == "string" and "enum" not in target and "format" not in target:
                    target["maxLength"] = MAX_PARAM_LENGTH
            operation.setdefault("responses", {})["406"] = {
                "description": NOT_ACCEPTABLE_DESCRIPTION,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorDetail"}}},
            }
    return result
