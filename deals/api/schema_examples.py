"""One example per operation of the OpenAPI schema (``example(...)`` and the ``*_EXAMPLE`` bodies).

The examples are illustrative (``example-…`` slugs, example.org addresses); they are documentation, not data.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

from deals.gazetteer import GAZETTEER_ATTRIBUTION


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
    "unit_price": None,
    "unit_price_currency": None,
    "unit_price_unit": None,
    "term_length": 5,
    "term_unit": "years",
    "output_share_percent": None,
    "output_share_of": None,
    "instrument": "offtake",
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
    "facilities": [{**_brief("facilities", "example-magnets-plant", "Example Magnets plant"), "role": "owner"}],
    "evidence_count": 1,
    "provenance": [{**PROVENANCE_EXAMPLE, "fields": ["name", "locality"]}],
    "updated": "2025-10-01T12:00:00Z",
}
COMPANY_DETAIL_EXAMPLE = {
    **COMPANY_EXAMPLE,
    "deals": [
        {**_brief("deals", DEAL_EXAMPLE["slug"], DEAL_EXAMPLE["title"], "title"), "role": "buyer"},
    ],
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
    "region_code": "US-OH",
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
    "jobs_qualifier": None,
    "investment_amount": None,
    "investment_currency": None,
    "investment_amount_usd": None,
    "investment_qualifier": None,
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
    "redistribution_licensed": False,
    "evidence_count": 3,
    "updated": "2025-10-01T12:00:00Z",
}
SOURCE_DETAIL_EXAMPLE = {
    **SOURCE_EXAMPLE,
    # Not licensed for redistribution: the text is null, the digests and the quotes' offsets are still published.
    "text": None,
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
GEOJSON_EXAMPLE = {
    "type": "FeatureCollection",
    "count": 1,
    "next": None,
    "previous": None,
    "attribution": GAZETTEER_ATTRIBUTION,
    "features": [
        {
            "type": "Feature",
            "id": FACILITY_EXAMPLE["slug"],
            "geometry": {"type": "Point", "coordinates": [-82.99879, 39.96118]},
            "properties": {
                **FACILITY_EXAMPLE,
                "geometry_source": "approximate",
                "geometry_level": "locality",
                "geometry_place": "Columbus",
            },
        }
    ],
}
INDEX_EXAMPLE = {
    "deals": "http://127.0.0.1:8000/api/v1/deals/",
    "companies": "http://127.0.0.1:8000/api/v1/companies/",
    "facilities": "http://127.0.0.1:8000/api/v1/facilities/",
    "sources": "http://127.0.0.1:8000/api/v1/sources/",
    "commodities": "http://127.0.0.1:8000/api/v1/commodities/",
    "releases": "http://127.0.0.1:8000/api/v1/releases/",
    "changes": "http://127.0.0.1:8000/api/v1/changes/",
    "deal_stats": "http://127.0.0.1:8000/api/v1/stats/deals/",
    "facility_stats": "http://127.0.0.1:8000/api/v1/stats/facilities/",
    "search": "http://127.0.0.1:8000/api/v1/search/",
    "schema": "http://127.0.0.1:8000/api/schema/",
    "docs": "http://127.0.0.1:8000/api/docs/",
    "redoc": "http://127.0.0.1:8000/api/redoc/",
    "license": {
        "id": "CC-BY-4.0",
        "name": "Creative Commons Attribution 4.0 International",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    },
    "citation": "ReexAPI editors. ReexAPI: critical-mineral deals with verbatim provenance [Data set]. Creative "
    "Commons Attribution 4.0 International (CC-BY-4.0). http://127.0.0.1:8000/",
}


def example(name: str, value: dict, media_type: str = "application/json") -> OpenApiExample:
    """A response example (200; JSON unless ``media_type`` says otherwise)."""
    return OpenApiExample(name, value=value, response_only=True, status_codes=["200"], media_type=media_type)
