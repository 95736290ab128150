"""Commodities on the fast read path: :func:`commodity_records` is ``CommoditySerializer`` as dicts from one
``values()`` query (the parent and the counts are columns of the rows; a commodity has no detail serializer of its
own, so ``detail`` changes nothing)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import HttpRequest

from deals.api.fast.base import link_maker
from deals.api.fast.compiled import rows_values
from deals.api.fast.record_parts import serializer_layout

if TYPE_CHECKING:
    from deals.api.fast.record_cache import RecordStore


_ROW_FIELDS = (
    "id",  # the record cache's key
    "slug",
    "name",
    "kind",
    "symbol",
    "parent_id",
    "parent__slug",
    "parent__name",
    "description",
    "deal_count",
    "facility_count",
)


def _layout():
    from deals.api.serializers import CommoditySerializer

    return serializer_layout(CommoditySerializer)


def commodity_records(
    *, rows: QuerySet, request: HttpRequest, detail: bool = False, store: RecordStore | None = None
) -> list:
    """The commodities of ``rows`` (an unevaluated queryset of :func:`deals.selectors.commodity_list`, usually a
    page slice) exactly as ``CommoditySerializer`` returns them, in one query."""
    found = rows_values(rows=rows, fields=_ROW_FIELDS)
    build = functools.partial(_commodities_build, request=request)
    return store.reuse(found=found, build=build) if store else build(found)


def _commodities_build(found: list[dict], *, request: HttpRequest) -> list[dict]:
    """The records of the rows ``found``, one per row and in their order."""
    layout = _layout()
    link = link_maker(request=request, view_name="api:commodity-detail")
    records = []
    for row in found:
        parent = None
        if row["parent_id"] is not None:
            parent = {"slug": row["parent__slug"], "name": row["parent__name"], "url": link(row["parent__slug"])}
        record = {
            "slug": row["slug"],
            "url": link(row["slug"]),
            "name": row["name"],
            "kind": layout.scalar("kind", row["kind"]),
            "symbol": row["symbol"],
            "parent": parent,
            "description": row["description"],
            "deal_count": row["deal_count"],
            "facility_count": row["facility_count"],
        }
        records.append({name: record[name] for name in layout.order})
    return records
