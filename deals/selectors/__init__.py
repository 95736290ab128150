"""Read-side selectors, one module per area: ``records`` (each model's API querysets), ``search`` (full-text
search). Import from the area's module; the names below are re-exported for existing callers."""

from deals.selectors.records import (
    commodity_list,
    company_list,
    deal_list,
    evidence_public,
    facility_list,
    source_list,
    source_public,
    source_records,
)
from deals.selectors.search import records_search, search_terms

__all__ = [
    "commodity_list",
    "company_list",
    "deal_list",
    "evidence_public",
    "facility_list",
    "records_search",
    "search_terms",
    "source_list",
    "source_public",
    "source_records",
]
