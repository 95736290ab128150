"""Deals on the fast read path: :func:`deal_records` is ``DealSerializer`` (and ``DealDetailSerializer``) as dicts
from ``values()`` rows, in two queries per page (the rows; the relations of all of them, see
:func:`deals.api.fast.base.relations_fetch`)."""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import HttpRequest

from deals.api.fast.base import (
    JsonColumn,
    RelationPart,
    blank_null,
    country_list,
    date_text,
    datetime_text,
    decimal_text,
    link_maker,
    owner_ids,
    relations_fetch_compiled,
)
from deals.api.fast.compiled import rows_values
from deals.coverage import coverage_field_names, field_label, fields_coverage, value_canonical
from deals.models import Deal, DealParty, Evidence, PublicationStatus
from deals.models.deal import DEAL_DESCRIPTIVE_FIELDS

if TYPE_CHECKING:
    from deals.api.fast.record_cache import RecordStore


_PUBLISHED = PublicationStatus.PUBLISHED
_DECIMALS = ("amount", "amount_usd", "unit_price", "output_share_percent")
_DATE_FIELDS = ("announced_date",)
_ROW_FIELDS = ("id", "slug", "title", *DEAL_DESCRIPTIVE_FIELDS, "evidence_count", "updated")
_EVIDENCE_COLUMNS = (
    "source__slug",
    "source__title",
    "source__publisher",
    "source__published_date",
    "source__url",
    "quote",
    "start",
    "end",
    JsonColumn("fields"),
)


@functools.cache
def _layout() -> dict:
    """What the serializers say about each field, read from them once, so this path follows their configuration:
    the fields sent as null when blank, the decimal places, and the detail's nullable field-provenance values."""
    from deals.api.serializers import (
        BlankAsNullCharField,
        BlankAsNullChoiceField,
        CountrySerializer,
        DealDetailSerializer,
        DealSerializer,
    )

    fields = DealSerializer().fields
    detail_fields = DealDetailSerializer().fields
    return {
        "order": list(fields),
        "blank_null": frozenset(
            name for name, f in fields.items() if isinstance(f, (BlankAsNullChoiceField, BlankAsNullCharField))
        ),
        "decimals": {name: (fields[name].decimal_places, fields[name].max_digits) for name in _DECIMALS},
        "nullable_provenance": frozenset(
            name
            for name, f in detail_fields.items()
            if isinstance(f, (BlankAsNullChoiceField, BlankAsNullCharField, CountrySerializer))
        ),
        "coverage": [(name, field_label(model=Deal, name=name)) for name in coverage_field_names(model=Deal)],
    }


def _relation_parts(*, detail: bool) -> list[RelationPart]:
    """The relations of a page of deals, as the prefetches of :func:`deals.selectors.deal_list` order them."""
    ids = owner_ids()
    through = {
        name: getattr(Deal, name).through.objects.filter(deal_id__in=ids)
        for name in ("facilities", "commodities", "stages")
    }
    return [
        RelationPart(
            name="parties",
            queryset=DealParty.objects.filter(deal_id__in=ids, company__publication_status=_PUBLISHED),
            owner="deal_id",
            columns=("company__slug", "company__name", "role"),
            order_by=("role", "company__slug"),
        ),
        RelationPart(
            name="facilities",
            queryset=through["facilities"].filter(facility__publication_status=_PUBLISHED),
            owner="deal_id",
            columns=("facility__slug", "facility__name"),
            order_by=("facility__slug",),
        ),
        RelationPart(
            name="commodities",
            queryset=through["commodities"],
            owner="deal_id",
            columns=("commodity__slug", "commodity__name"),
            order_by=("commodity__slug",),
        ),
        RelationPart(
            name="stages",
            queryset=through["stages"],
            owner="deal_id",
            columns=("supplychainstage__slug", "supplychainstage__name", "supplychainstage__segment"),
            order_by=("supplychainstage__position",),
        ),
        RelationPart(
            name="evidence",
            queryset=Evidence.objects.filter(deal_id__in=ids),
            owner="deal_id",
            columns=(*_EVIDENCE_COLUMNS, JsonColumn("values")) if detail else _EVIDENCE_COLUMNS,
            order_by=("source__slug", "start", "id"),
        ),
    ]


def deal_records(
    *, rows: QuerySet, request: HttpRequest, detail: bool = False, store: RecordStore | None = None
) -> list:
    """The deals of ``rows`` (an unevaluated queryset of :func:`deals.selectors.deal_list`, usually a page slice)
    exactly as ``DealSerializer`` (``detail``: ``DealDetailSerializer``) returns them, in two queries."""
    found = rows_values(rows=rows, fields=_ROW_FIELDS)
    build = functools.partial(_deals_build, request=request, detail=detail, using=rows.db)
    return store.reuse(found=found, build=build) if store else build(found)


def _deals_build(found: list[dict], *, request: HttpRequest, detail: bool, using: str) -> list[dict]:
    """The records of the rows ``found``, one per row and in their order (their relations in one more query)."""
    if not found:
        return []
    layout = _layout()
    relations = relations_fetch_compiled(
        key=f"deals:{detail}",
        parts=functools.partial(_relation_parts, detail=detail),
        owners=[row["id"] for row in found],
        using=using,
    )
    deal_link = link_maker(request=request, view_name="api:deal-detail")
    company_link = link_maker(request=request, view_name="api:company-detail")
    facility_link = link_maker(request=request, view_name="api:facility-detail")
    commodity_link = link_maker(request=request, view_name="api:commodity-detail")
    source_link = link_maker(request=request, view_name="api:source-detail")
    parties_of = relations.get("parties", {})
    facilities_of = relations.get("facilities", {})
    commodities_of = relations.get("commodities", {})
    stages_of = relations.get("stages", {})
    evidence_of = relations.get("evidence", {})
    blank = layout["blank_null"]
    decimals = layout["decimals"]
    records = []
    for row in found:
        pk = row["id"]
        evidence = evidence_of.get(pk, ())
        values = {}
        for name in layout["order"]:
            if name in row:
                value = row[name]
                if name in decimals:
                    places, digits = decimals[name]
                    value = decimal_text(value, places=places, max_digits=digits)
                elif name in blank:
                    value = blank_null(value)
                values[name] = value
        values["url"] = deal_link(row["slug"])
        values["announced_date"] = date_text(row["announced_date"])
        values["countries"] = country_list(row["countries"])
        values["commodities"] = [
            {"slug": slug, "name": name, "url": commodity_link(slug)} for slug, name in commodities_of.get(pk, ())
        ]
        values["stages"] = [
            {"slug": slug, "name": name, "segment": segment} for slug, name, segment in stages_of.get(pk, ())
        ]
        values["parties"] = [
            {"slug": slug, "name": name, "url": company_link(slug), "role": role}
            for slug, name, role in parties_of.get(pk, ())
        ]
        values["facilities"] = [
            {"slug": slug, "name": name, "url": facility_link(slug)} for slug, name in facilities_of.get(pk, ())
        ]
        values["provenance"] = [
            {
                "source": {
                    "slug": ev[0],
                    "title": ev[1],
                    "publisher": ev[2],
                    "published_date": ev[3] or None,
                    "url": source_link(ev[0]),
                    "document_url": ev[4] or None,
                },
                "quote": ev[5],
                "start": ev[6],
                "end": ev[7],
                "fields": ev[8],
            }
            for ev in evidence
        ]
        values["updated"] = datetime_text(row["updated"])
        record = {name: values[name] for name in layout["order"]}
        if detail:
            record["field_provenance"] = _field_provenance(
                row=row,
                parties=parties_of.get(pk, ()),
                facilities=facilities_of.get(pk, ()),
                commodities=commodities_of.get(pk, ()),
                stages=stages_of.get(pk, ()),
                evidence=evidence,
                layout=layout,
            )
        records.append(record)
    return records


def _field_provenance(*, row, parties, facilities, commodities, stages, evidence, layout) -> list[dict]:
    """``DealDetailSerializer.get_field_provenance`` from the plain rows: the canonical current values as
    :func:`deals.coverage.record_values` gives them, and the evidence as light objects with what
    :func:`deals.coverage.fields_coverage` reads."""
    codes = row["countries"].split(",") if isinstance(row["countries"], str) else list(row["countries"] or ())
    relations = {
        "parties": value_canonical([(slug, role) for slug, _name, role in parties]),
        "facilities": value_canonical([item[0] for item in facilities]),
        "commodities": value_canonical([item[0] for item in commodities]),
        "stages": value_canonical([item[0] for item in stages]),
        "countries": value_canonical([code for code in codes if code]),
    }
    current = {}
    for name, _label in layout["coverage"]:
        current[name] = relations[name] if name in relations else value_canonical(row[name])
    quotes = [
        SimpleNamespace(slug=ev[0], quote=ev[5], start=ev[6], end=ev[7], fields=ev[8], values=ev[9]) for ev in evidence
    ]
    nullable = layout["nullable_provenance"]
    result = []
    for cov in fields_coverage(model=Deal, values=current, evidence=quotes):
        if cov.empty and not cov.quotes and not cov.claims:
            continue
        item = {
            "field": cov.name,
            "label": cov.label,
            "value": cov.value,
            "supported": cov.supported,
            "quotes": [_quote(q) for q in cov.quotes],
            "claims": [{"value": claim.value, "quotes": [_quote(q) for q in claim.quotes]} for claim in cov.claims],
        }
        if cov.name in nullable:
            for entry in (item, *item["claims"]):
                if entry["value"] == "":
                    entry["value"] = None
        result.append(item)
    return result


def _quote(evidence) -> dict:
    return {"source": evidence.slug, "quote": evidence.quote, "start": evidence.start, "end": evidence.end}
