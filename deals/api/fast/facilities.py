"""Facilities on the fast read path: :func:`facility_records` is ``FacilitySerializer`` (and
``FacilityDetailSerializer``) as dicts from ``values()`` rows, in two queries per page (the rows; the relations of
all of them, see :func:`deals.api.fast.base.relations_fetch`). The GeoJSON operation uses the list's records as
its features' properties."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import HttpRequest

from deals.api.fast.base import (
    RelationPart,
    country_item,
    date_text,
    datetime_text,
    link_maker,
    owner_ids,
    relations_fetch_compiled,
)
from deals.api.fast.compiled import rows_values
from deals.api.fast.record_parts import (
    evidence_part,
    field_provenance_items,
    provenance_items,
    serializer_layout,
)
from deals.coverage import coverage_field_names, value_canonical
from deals.models import Deal, Facility, FacilityCompany, PublicationStatus
from deals.models.facility import FACILITY_DESCRIPTIVE_FIELDS

if TYPE_CHECKING:
    from deals.api.fast.record_cache import RecordStore


_PUBLISHED = PublicationStatus.PUBLISHED
# The model's columns the serializer sends as they are (after blank-as-null and decimal formatting); the country and
# the planned start are formatted apart.
_FORMATTED = ("country", "planned_start")
_PLAIN = ("slug", "name", *(name for name in FACILITY_DESCRIPTIVE_FIELDS if name not in _FORMATTED), "evidence_count")
_ROW_FIELDS = ("id", *_PLAIN, *_FORMATTED, "updated")


def _layout():
    from deals.api.serializers import FacilityDetailSerializer, FacilitySerializer

    return serializer_layout(FacilitySerializer, FacilityDetailSerializer)


def _relation_parts(*, detail: bool) -> list[RelationPart]:
    ids = owner_ids()  # bound per call by relations_fetch_compiled
    return [
        RelationPart(
            name="companies",
            queryset=FacilityCompany.objects.filter(facility_id__in=ids, company__publication_status=_PUBLISHED),
            owner="facility_id",
            columns=("company__slug", "company__name", "role"),
            order_by=("role", "company__slug"),
        ),
        RelationPart(
            name="commodities",
            queryset=Facility.commodities.through.objects.filter(facility_id__in=ids),
            owner="facility_id",
            columns=("commodity__slug", "commodity__name"),
            order_by=("commodity__slug",),
        ),
        RelationPart(
            name="deals",
            queryset=Deal.facilities.through.objects.filter(facility_id__in=ids, deal__publication_status=_PUBLISHED),
            owner="facility_id",
            columns=("deal__slug", "deal__title"),
            order_by=("deal__slug",),
        ),
        evidence_part(owner="facility_id", ids=ids, detail=detail),
    ]


def facility_records(
    *, rows: QuerySet, request: HttpRequest, detail: bool = False, store: RecordStore | None = None
) -> list:
    """The facilities of ``rows`` (an unevaluated queryset of :func:`deals.selectors.facility_list`, usually a page
    slice) exactly as ``FacilitySerializer`` (``detail``: ``FacilityDetailSerializer``) returns them, in two
    queries."""
    found = rows_values(rows=rows, fields=_ROW_FIELDS)
    build = functools.partial(_facilities_build, request=request, detail=detail, using=rows.db)
    return store.reuse(found=found, build=build) if store else build(found)


def _facilities_build(found: list[dict], *, request: HttpRequest, detail: bool, using: str) -> list[dict]:
    """The records of the rows ``found``, one per row and in their order (their relations in one more query)."""
    if not found:
        return []
    layout = _layout()
    relations = relations_fetch_compiled(
        key=f"facilities:{detail}",
        parts=functools.partial(_relation_parts, detail=detail),
        owners=[row["id"] for row in found],
        using=using,
    )
    facility_link = link_maker(request=request, view_name="api:facility-detail")
    company_link = link_maker(request=request, view_name="api:company-detail")
    commodity_link = link_maker(request=request, view_name="api:commodity-detail")
    deal_link = link_maker(request=request, view_name="api:deal-detail")
    source_link = link_maker(request=request, view_name="api:source-detail")
    companies_of = relations.get("companies", {})
    commodities_of = relations.get("commodities", {})
    deals_of = relations.get("deals", {})
    evidence_of = relations.get("evidence", {})
    records = []
    for row in found:
        pk = row["id"]
        companies = companies_of.get(pk, ())
        commodities = commodities_of.get(pk, ())
        evidence = evidence_of.get(pk, ())
        values = {name: layout.scalar(name, row[name]) for name in _PLAIN}
        values["url"] = facility_link(row["slug"])
        values["country"] = dict(country_item(row["country"])) if row["country"] else None
        values["planned_start"] = date_text(row["planned_start"])
        values["companies"] = [
            {"slug": slug, "name": name, "url": company_link(slug), "role": role or None}
            for slug, name, role in companies
        ]
        values["commodities"] = [
            {"slug": slug, "name": name, "url": commodity_link(slug)} for slug, name in commodities
        ]
        values["deals"] = [
            {"slug": slug, "title": title, "url": deal_link(slug)} for slug, title in deals_of.get(pk, ())
        ]
        values["provenance"] = provenance_items(evidence=evidence, source_link=source_link)
        values["updated"] = datetime_text(row["updated"])
        if detail:
            values["field_provenance"] = _field_provenance(
                row=row, companies=companies, commodities=commodities, evidence=evidence
            )
        records.append({name: values[name] for name in (layout.detail_order if detail else layout.order)})
    return records


def _field_provenance(*, row: dict, companies, commodities, evidence) -> list[dict]:
    """``FacilityDetailSerializer.get_field_provenance`` from the plain rows: the canonical current values as
    :func:`deals.coverage.record_values` gives them (companies as ``[slug, role]`` pairs of published companies)."""
    relations = {
        "companies": value_canonical([(slug, role) for slug, _name, role in companies]),
        "commodities": value_canonical([slug for slug, _name in commodities]),
    }
    current = {
        name: relations[name] if name in relations else value_canonical(row[name])
        for name in coverage_field_names(model=Facility)
    }
    return field_provenance_items(model=Facility, current=current, evidence=evidence, layout=_layout())
