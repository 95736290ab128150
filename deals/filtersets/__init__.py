"""django-filter FilterSets of the public API: one ``<Model>FilterSet`` per model.

Conventions, documented in the OpenAPI schema through each filter's ``help_text``:

- Every choice, slug and country filter accepts **several values**, either repeated (``?status=signed&status=closed``)
  or comma-separated (``?status=signed,closed``); a record matches when it matches **any** of them.
- Different filters combine with AND.
- Related records are filtered by slug; an unknown slug is a 404 and a bad choice a 400, each keyed by the parameter.
- ``q`` is the full-text search described in :mod:`deals.selectors`.

Modules: :mod:`.base` (fields and filters), :mod:`.deals` (``DealFilterSet``), :mod:`.records` (the other
resources).
"""

from deals.filtersets.base import UNKNOWN_SLUG_CODE, USD_PATTERN, SearchFilter, SlugFilter, UsdAmountField
from deals.filtersets.deals import DealFilterSet
from deals.filtersets.records import CommodityFilterSet, CompanyFilterSet, FacilityFilterSet, SourceFilterSet

__all__ = [
    "CommodityFilterSet",
    "CompanyFilterSet",
    "DealFilterSet",
    "FacilityFilterSet",
    "SearchFilter",
    "SlugFilter",
    "SourceFilterSet",
    "UNKNOWN_SLUG_CODE",
    "USD_PATTERN",
    "UsdAmountField",
]
