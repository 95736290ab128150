"""Companies on the fast read path: :func:`company_records` is ``CompanySerializer`` (and
``CompanyDetailSerializer``) as dicts from ``values()`` rows, in two queries per page (the rows; the relations of
all of them, see :func:`deals.api.fast.base.relations_fetch`)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import HttpRequest

from deals.api.fast.base import (
    RelationPart,
    country_item,
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
from deals.models import Company, DealParty, FacilityCompany, PublicationStatus

if TYPE_CHECKING:
    from deals.api.fast.record_cache import RecordStore


_PUBLISHED = PublicationStatus.PUBLISHED
_ROW_FIELDS = (
    "id",
    "slug",
    "name",
    "kind",
    "country",
    "locality",
    "aliases",
    "parent_id",
    "parent__slug",
    "parent__name",
    "parent__publication_status",
    "description",
    "website",
    "deal_count",
    "facility_count",
    "evidence_count",
    "updated",
)


def _layout():
    from deals.api.serializers import CompanyDetailSerializer, CompanySerializer

    return serializer_layout(CompanySerializer, CompanyDetailSerializer)


def _relation_parts(*, detail: bool) -> list[RelationPart]:
    ids = owner_ids()  # bound per call by relations_fetch_compiled
    parts = [
        RelationPart(
            name="facilities",
            queryset=FacilityCompany.objects.filter(company_id__in=ids, facility__publication_status=_PUBLISHED),
            owner="company_id",
            columns=("facility__slug", "facility__name", "role"),
            order_by=("facility__slug", "role"),
        ),
        evidence_part(owner="company_id", ids=ids, detail=detail),
    ]
    if detail:
        parts.append(
            RelationPart(
                name="deals",
                queryset=DealParty.objects.filter(company_id__in=ids, deal__publication_status=_PUBLISHED),
                owner="company_id",
                columns=("deal__slug", "deal__title", "role"),
                order_by=("deal__slug", "role"),
            )
        )
    return parts


def company_records(
    *, rows: QuerySet, request: HttpRequest, detail: bool = False, store: RecordStore | None = None
) -> list:
    """The companies of ``rows`` (an unevaluated queryset of :func:`deals.selectors.company_list`, usually a page
    slice) exactly as ``CompanySerializer`` (``detail``: ``CompanyDetailSerializer``) returns them, in two
    queries."""
    found = rows_values(rows=rows, fields=_ROW_FIELDS)
    build = functools.partial(_companies_build, request=request, detail=detail, using=rows.db)
    return store.reuse(found=found, build=build) if store else build(found)


def _companies_build(found: list[dict], *, request: HttpRequest, detail: bool, using: str) -> list[dict]:
    """The records of the rows ``found``, one per row and in their order (their relations in one more query)."""
    if not found:
        return []
    layout = _layout()
    relations = relations_fetch_compiled(
        key=f"companies:{detail}",
        parts=functools.partial(_relation_parts, detail=detail),
        owners=[row["id"] for row in found],
        using=using,
    )
    company_link = link_maker(request=request, view_name="api:company-detail")
    facility_link = link_maker(request=request, view_name="api:facility-detail")
    deal_link = link_maker(request=request, view_name="api:deal-detail")
    source_link = link_maker(request=request, view_name="api:source-detail")
    facilities_of = relations.get("facilities", {})
    evidence_of = relations.get("evidence", {})
    deals_of = relations.get("deals", {})
    records = []
    for row in found:
        pk = row["id"]
        evidence = evidence_of.get(pk, ())
        parent_public = row["parent_id"] is not None and row["parent__publication_status"] == _PUBLISHED
        aliases = row["aliases"]
        record = {
            "slug": row["slug"],
            "url": company_link(row["slug"]),
            "name": row["name"],
            "kind": layout.scalar("kind", row["kind"]),
            "country": dict(country_item(row["country"])) if row["country"] else None,
            "locality": row["locality"],
            "aliases": [None if alias is None else str(alias) for alias in aliases],
            "parent": (
                {
                    "slug": row["parent__slug"],
                    "name": row["parent__name"],
                    "url": company_link(row["parent__slug"]),
                }
                if parent_public
                else None
            ),
            "description": row["description"],
            "website": row["website"] or None,
            "deal_count": row["deal_count"],
            "facility_count": row["facility_count"],
            "facilities": [
                {"slug": slug, "name": name, "url": facility_link(slug), "role": role or None}
                for slug, name, role in facilities_of.get(pk, ())
            ],
            "evidence_count": row["evidence_count"],
            "provenance": provenance_items(evidence=evidence, source_link=source_link),
            "updated": datetime_text(row["updated"]),
        }
        if detail:
            record["deals"] = [
                {"slug": slug, "title": title, "url": deal_link(slug), "role": role or None}
                for slug, title, role in deals_of.get(pk, ())
            ]
            record["field_provenance"] = _field_provenance(row=row, evidence=evidence, parent_public=parent_public)
            record = {name: record[name] for name in layout.detail_order}
        else:
            record = {name: record[name] for name in layout.order}
        records.append(record)
    return records


def _field_provenance(*, row: dict, evidence, parent_public: bool) -> list[dict]:
    """``CompanyDetailSerializer.get_field_provenance`` from the plain row: the public view of
    :func:`deals.coverage.record_coverage`, where an unpublished parent reads as none and its quotes are left out."""
    current = {
        name: (row["parent__slug"] if parent_public else None) if name == "parent" else value_canonical(row[name])
        for name in coverage_field_names(model=Company)
    }
    hidden = {"parent": row["parent__slug"]} if row["parent_id"] is not None and not parent_public else {}
    return field_provenance_items(model=Company, current=current, evidence=evidence, layout=_layout(), hidden=hidden)
