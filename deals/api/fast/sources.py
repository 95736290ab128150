"""Sources on the fast read path: :func:`source_records` is ``SourceSerializer`` (and ``SourceDetailSerializer``)
as dicts from ``values()`` rows: one query for a list, two for a detail (the row with its text; the published
records its quotes support, see :func:`deals.api.fast.base.relations_fetch`)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import HttpRequest

from deals.api.fast.base import RelationPart, date_text, datetime_text, link_maker, owner_ids, relations_fetch_compiled
from deals.api.fast.compiled import rows_values
from deals.api.fast.record_parts import serializer_layout
from deals.models import Evidence, PublicationStatus

if TYPE_CHECKING:
    from deals.api.fast.record_cache import RecordStore


_PUBLISHED = PublicationStatus.PUBLISHED
_ROW_FIELDS = (
    "id",
    "slug",
    "title",
    "publisher",
    "author",
    "published_date",
    "published_date_precision",
    "url",
    "kind",
    "raw_sha256",
    "text_sha256",
    "redistribution_licensed",
    "evidence_count",
    "updated",
)
# The records a source supports (deals.selectors.source_records): (evidence target, key, view name, name column).
_TARGETS = (
    ("deal", "deals", "api:deal-detail", "title"),
    ("company", "companies", "api:company-detail", "name"),
    ("facility", "facilities", "api:facility-detail", "name"),
)


def _layout():
    from deals.api.serializers import SourceDetailSerializer, SourceSerializer

    return serializer_layout(SourceSerializer, SourceDetailSerializer)


def _relation_parts() -> list[RelationPart]:
    """Per target kind, the published records that the sources' quotes support: the evidence of published records
    (:func:`deals.selectors.evidence_public`), one row per quote (made unique by slug afterwards)."""
    return [
        RelationPart(
            name=target,
            queryset=Evidence.objects.filter(
                source_id__in=owner_ids(), **{f"{target}__publication_status": _PUBLISHED}
            ),
            owner="source_id",
            columns=(f"{target}__slug", f"{target}__{name}"),
            order_by=(f"{target}__slug", "id"),
        )
        for target, _key, _view, name in _TARGETS
    ]


def source_records(
    *, rows: QuerySet, request: HttpRequest, detail: bool = False, store: RecordStore | None = None
) -> list:
    """The sources of ``rows`` (an unevaluated queryset of :func:`deals.selectors.source_list`, usually a page
    slice) exactly as ``SourceSerializer`` (``detail``: ``SourceDetailSerializer``, with the text where it may be
    redistributed and the records the source supports) returns them."""
    fields = (*_ROW_FIELDS, "text") if detail else _ROW_FIELDS
    found = rows_values(rows=rows, fields=fields)
    build = functools.partial(_sources_build, request=request, detail=detail, using=rows.db)
    return store.reuse(found=found, build=build) if store else build(found)


def _sources_build(found: list[dict], *, request: HttpRequest, detail: bool, using: str) -> list[dict]:
    """The records of the rows ``found``, one per row and in their order (a detail's relations in one more query)."""
    if not found:
        return []
    layout = _layout()
    relations = {}
    if detail:
        relations = relations_fetch_compiled(
            key="sources", parts=_relation_parts, owners=[row["id"] for row in found], using=using
        )
    source_link = link_maker(request=request, view_name="api:source-detail")
    links = {target: link_maker(request=request, view_name=view) for target, _key, view, _name in _TARGETS}
    records = []
    for row in found:
        pk = row["id"]
        record = {
            "slug": row["slug"],
            "url": source_link(row["slug"]),
            "title": row["title"],
            "publisher": row["publisher"],
            "author": row["author"],
            "published_date": date_text(row["published_date"]),
            "published_date_precision": layout.scalar("published_date_precision", row["published_date_precision"]),
            "document_url": row["url"] or None,
            "kind": layout.scalar("kind", row["kind"]),
            "raw_sha256": row["raw_sha256"],
            "text_sha256": row["text_sha256"],
            "redistribution_licensed": bool(row["redistribution_licensed"]),
            "evidence_count": row["evidence_count"],
            "updated": datetime_text(row["updated"]),
        }
        if detail:
            # deals.selectors.rights.source_text_public: the text only where it may be redistributed.
            record["text"] = row["text"] if row["redistribution_licensed"] else None
            for target, key, _view, name in _TARGETS:
                # One entry per record, ordered by slug as source_records sorts them (in Python, like it).
                briefs = dict(relations.get(target, {}).get(pk, ()))
                link = links[target]
                record[key] = [{"slug": slug, name: briefs[slug], "url": link(slug)} for slug in sorted(briefs)]
        records.append({name: record[name] for name in (layout.detail_order if detail else layout.order)})
    return records
