"""The fast read path: API records built as plain dicts from ``values()`` rows, without model instances or DRF fields.

Contract of every ``<resource>_records(*, rows, request, detail=False) -> list[dict]`` here: ``rows`` is the page's
rows as an unevaluated (sliced) queryset, e.g. from ``paginator.page_queryset(...)``, or a queryset of one row for a
detail; the result is exactly what the resource's serializer (``detail``: its detail serializer) returns for those
rows, in their order: the same keys in the same order and the same values (decimals as strings, dates as ISO text,
absolute URLs, null for what is not stated), in at most two queries whatever the page size. The serializers stay the
schema's source, and tests/api/test_fast_*.py compare the two outputs over the fixture and a random dataset.
Shared building blocks (links, formats, the one-query relation fetch) are in :mod:`deals.api.fast.base`.
"""
