"""Views of the public read API: declarations only (queryset from a selector, serializers, filters, ordering).

Shared behaviour lives in :class:`ReadOnlyResourceViewSet` (:mod:`.base`): strict query parameters, JSON errors,
the CSV operation beside each list (``/api/v1/<collection>.csv``, the ``csv`` action), and the OpenAPI error
responses. :mod:`.resources` declares the five resources; :mod:`.index` the API root, the schema view and the JSON
answers for what no view serves.
"""

from deals.api.views.base import ReadOnlyResourceViewSet, StrictQueryMixin, query_params_get, selector_queryset
from deals.api.views.index import ApiIndexView, SchemaView, api_fallback, api_not_found, api_server_error
from deals.api.views.resources import (
    CommodityViewSet,
    CompanyViewSet,
    DealViewSet,
    FacilityViewSet,
    SourceViewSet,
)

__all__ = [
    "ApiIndexView",
    "CommodityViewSet",
    "CompanyViewSet",
    "DealViewSet",
    "FacilityViewSet",
    "ReadOnlyResourceViewSet",
    "SchemaView",
    "SourceViewSet",
    "StrictQueryMixin",
    "api_fallback",
    "api_not_found",
    "api_server_error",
    "query_params_get",
    "selector_queryset",
]
