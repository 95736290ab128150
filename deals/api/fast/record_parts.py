"""Parts shared by the record builders of companies, facilities, sources and commodities on the fast read path.

- :func:`serializer_layout`: what a resource's serializers say about each field (order, blank-as-null, decimal
  places, the detail's nullable field-provenance values), read from them once per process, so the builders follow
  the serializers' configuration instead of restating it;
- :func:`evidence_part` / :func:`provenance_items`: a record's evidence as ``ProvenanceSerializer`` sends it;
- :func:`field_provenance_items`: ``_FieldProvenanceMixin.get_field_provenance`` from plain values.

The links, value formats and the one-query relation fetch are :mod:`deals.api.fast.base`'s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models

from deals.api.fast.base import JsonColumn, RelationPart, blank_null, decimal_text
from deals.coverage import fields_coverage
from deals.models import Evidence

# The columns of one evidence row in a relation part; the detail adds the snapshots (``values``).
EVIDENCE_COLUMNS = (
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
EVIDENCE_ORDER = ("source__slug", "start", "id")  # as deals.selectors.records._provenance_prefetch


@dataclass(frozen=True)
class Layout:
    """A serializer's fields as the builders need them (see :func:`serializer_layout`)."""

    order: tuple[str, ...]
    detail_order: tuple[str, ...]
    blank_null: frozenset[str]
    decimals: dict[str, tuple[int, int | None]]
    nullable_provenance: frozenset[str]

    def scalar(self, name: str, value: Any) -> Any:
        """A plain column's value as the serializer sends it: a decimal as text, a blank code or choice as null."""
        if name in self.decimals:
            places, digits = self.decimals[name]
            return decimal_text(value, places=places, max_digits=digits)
        if name in self.blank_null:
            return blank_null(value)
        return value


@functools.cache
def serializer_layout(serializer_class: type, detail_class: type | None = None) -> Layout:
    """The :class:`Layout` of ``serializer_class`` (and of ``detail_class`` for the detail's fields)."""
    from rest_framework import serializers

    from deals.api.serializers import BlankAsNullCharField, BlankAsNullChoiceField, CountrySerializer

    fields = serializer_class().fields
    detail_fields = (detail_class or serializer_class)().fields
    return Layout(
        order=tuple(fields),
        detail_order=tuple(detail_fields),
        blank_null=frozenset(
            name for name, f in fields.items() if isinstance(f, (BlankAsNullChoiceField, BlankAsNullCharField))
        ),
        decimals={
            name: (f.decimal_places, f.max_digits)
            for name, f in fields.items()
            if isinstance(f, serializers.DecimalField)
        },
        nullable_provenance=frozenset(
            name
            for name, f in detail_fields.items()
            if isinstance(f, (BlankAsNullChoiceField, BlankAsNullCharField, CountrySerializer))
        ),
    )


def evidence_part(*, owner: str, ids, detail: bool) -> RelationPart:
    """The evidence of the records ``ids`` (``owner`` e.g. ``"company_id"``; ids a list, or
    :func:`deals.api.fast.base.owner_ids`), ordered as the prefetch orders it."""
    columns = (*EVIDENCE_COLUMNS, JsonColumn("values")) if detail else EVIDENCE_COLUMNS
    return RelationPart(
        name="evidence",
        queryset=Evidence.objects.filter(**{f"{owner}__in": ids}),
        owner=owner,
        columns=columns,
        order_by=EVIDENCE_ORDER,
    )


def provenance_items(*, evidence: Iterable[list], source_link: Callable[[str | None], str | None]) -> list[dict]:
    """Evidence rows (:data:`EVIDENCE_COLUMNS`) as ``ProvenanceSerializer(many=True)`` sends them."""
    return [
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
            "fields": [None if name is None else str(name) for name in ev[8]],
        }
        for ev in evidence
    ]


class _Quote:
    """An evidence row with what :func:`deals.coverage.fields_coverage` reads (``fields``, ``values``)."""

    __slots__ = ("end", "fields", "quote", "slug", "start", "values")

    def __init__(self, row: list):
        self.slug, self.quote, self.start, self.end, self.fields, self.values = (
            row[0],
            row[5],
            row[6],
            row[7],
            row[8],
            row[9],
        )

    def item(self) -> dict:
        return {"source": self.slug, "quote": self.quote, "start": self.start, "end": self.end}


def field_provenance_items(
    *,
    model: type[models.Model],
    current: dict[str, Any],
    evidence: Iterable[list],
    layout: Layout,
    hidden: dict[str, Any] | None = None,
) -> list[dict]:
    """``field_provenance`` of a record from its canonical ``current`` values (as
    :func:`deals.coverage.record_values` gives them, with ``hidden`` references already nulled) and its evidence
    rows (with ``values``): every field that has a value, a quote or a claim."""
    quotes = [_Quote(row) for row in evidence]
    result = []
    for cov in fields_coverage(model=model, values=current, evidence=quotes, hidden=hidden):
        if cov.empty and not cov.quotes and not cov.claims:
            continue
        item = {
            "field": cov.name,
            "label": str(cov.label),
            "value": cov.value,
            "supported": bool(cov.supported),
            "quotes": [q.item() for q in cov.quotes],
            "claims": [{"value": claim.value, "quotes": [q.item() for q in claim.quotes]} for claim in cov.claims],
        }
        if cov.name in layout.nullable_provenance:
            for entry in (item, *item["claims"]):
                if entry["value"] == "":
                    entry["value"] = None
        result.append(item)
    return result
