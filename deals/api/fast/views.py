"""The fast read path in the viewsets: a viewset that declares ``fast_records`` serves its JSON list and detail
through it; every other action (the CSV and GeoJSON operations, history) and every viewset without it keep DRF's
serializers. Filters, ordering, pages, the publication lifecycle (301/410), errors and caching are unchanged: only
the step from rows to records differs."""

from __future__ import annotations

from rest_framework.response import Response

from deals.api.fast.compiled import list_compiled, lookup_rows
from deals.api.fast.record_cache import record_store_get
from deals.api.fast.search import ranked_list


class FastReadMixin:
    """Serves ``list`` and ``retrieve`` with ``fast_records`` (``staticmethod(<resource>_records)``, see
    :mod:`deals.api.fast`) when the viewset declares it. Below :class:`PublicationLifecycleMixin` in the MRO, so a
    detail that finds no published record still raises the same 404 there."""

    fast_records = None
    # ``staticmethod(<resource>_search_page)``: lists asked for only ``q`` are ranked from the search levels.
    fast_search = None

    def list(self, request, *args, **kwargs):
        # The csv action calls list() too: only the JSON list takes the fast path.
        if self.fast_records is None or getattr(self, "action", None) != "list" or self.paginator is None:
            return super().list(request, *args, **kwargs)
        base = self.get_queryset()
        # Counted and read from statements compiled once per query string and dataset version (fast/compiled.py).
        key = (type(self), self.action)

        def compiled():
            return list_compiled(request=request, key=key, queryset=lambda: self.filter_queryset(base))

        ranked = ranked_list(request=request, base=base, search=self.fast_search, fallback=compiled)
        paged = ranked if ranked is not None else compiled()
        rows = self.paginator.page_queryset(paged, request, self)
        store = record_store_get(request=request, resource=base.model._meta.label, detail=False)
        return self.get_paginated_response(self.fast_records(rows=rows, request=request, store=store))

    def retrieve(self, request, *args, **kwargs):
        if self.fast_records is None:
            return super().retrieve(request, *args, **kwargs)
        # As get_object(): the filtered queryset, looked up by the URL's slug.
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        queryset = self.filter_queryset(self.get_queryset())
        value = self.kwargs[lookup_url_kwarg]
        if request.query_params:
            rows = queryset.filter(**{self.lookup_field: value})
        else:
            # No parameter, so no filter: the same SQL for every record but its slug, compiled once (fast/compiled.py).
            key = (type(self), self.action)
            rows = lookup_rows(queryset=queryset, field=self.lookup_field, value=value, key=key)
        store = record_store_get(request=request, resource=queryset.model._meta.label, detail=True)
        records = self.fast_records(rows=rows, request=request, detail=True, store=store)
        if len(records) != 1:
            # Not found (or, impossibly for a unique slug, several): DRF's own path raises exactly what it always
            # did, which the publication lifecycle turns into a 301 or 410 where one applies.
            return super().retrieve(request, *args, **kwargs)
        # Permissions are AllowAny on every resource, so there is no object permission to check.
        return Response(records[0])
