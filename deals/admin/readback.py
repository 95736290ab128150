"""Read back: on a record's change page, each field with the quotes that back its current value.

The rule of which quote backs which value is :mod:`deals.coverage`'s (:func:`deals.coverage.record_coverage`); this
module only shows its answer, as a read-only section below the record's fields: per field the value, its current
quotes (each with its source's title, linking to the source), the items no current quote states, and the claims
of other values. Fields that hold nothing are listed on one line at the end.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from deals.coverage import FieldCoverage, record_coverage
from deals.selectors.readback import record_readback_load

READBACK_FIELD = "quotes_by_field"
_QUOTE_SHOWN = 140  # characters of a quote shown in the section; the evidence rows below show it whole


def _item_text(*, model, cov: FieldCoverage, item: Any) -> str:
    """One canonical value or list item as the editor reads it: a choice's label, "company as role" for a role link."""
    if item is None or item == "":
        return "–"
    field = model._meta.get_field(cov.name)
    if isinstance(item, list) and len(item) == 2 and field.many_to_many:  # a (company slug, role) pair
        roles = dict(field.remote_field.through._meta.get_field("role").flatchoices)
        return f"{item[0]} as {roles.get(item[1], item[1])}"
    return str(dict(field.flatchoices or []).get(item, item))


def _value_text(*, model, cov: FieldCoverage, value: Any) -> str:
    """A field's whole canonical value: a list's items joined by commas."""
    if cov.is_list and isinstance(value, list):
        return ", ".join(_item_text(model=model, cov=cov, item=item) for item in value) or "–"
    return _item_text(model=model, cov=cov, item=value)


def _quote_html(evidence) -> str:
    quote = evidence.quote if len(evidence.quote) <= _QUOTE_SHOWN else evidence.quote[: _QUOTE_SHOWN - 1] + "…"
    url = reverse("admin:deals_source_change", args=[evidence.source_id])
    return format_html('<li>“{}” — <a href="{}">{}</a></li>', quote, url, evidence.source.title)


def _row_html(*, model, cov: FieldCoverage) -> str:
    parts = []
    if cov.quotes:
        parts.append(
            format_html(
                '<ul class="readback-quotes">{}</ul>',
                format_html_join("", "{}", ((_quote_html(e),) for e in cov.quotes)),
            )
        )
    if cov.unsupported and cov.is_list:
        items = ", ".join(_item_text(model=model, cov=cov, item=item) for item in cov.unsupported)
        parts.append(format_html('<p class="readback-missing">No current quote states: {}</p>', items))
    elif cov.unsupported:
        parts.append(format_html('<p class="readback-missing">{}</p>', "No current quote states this value."))
    for claim in cov.claims:
        quotes = format_html_join("", "{}", ((_quote_html(e),) for e in claim.quotes))
        parts.append(
            format_html(
                '<div class="readback-claim">Claims another value, {}:<ul class="readback-quotes">{}</ul></div>',
                _item_text(model=model, cov=cov, item=claim.value)
                if not cov.is_list
                else _value_text(model=model, cov=cov, value=claim.value),
                quotes,
            )
        )
    return format_html(
        '<div class="readback-row" data-field="{}"><div class="readback-value"><strong>{}</strong><br>{}</div>'
        '<div class="readback-backing">{}</div></div>',
        cov.name,
        cov.label,
        _value_text(model=model, cov=cov, value=cov.value),
        format_html_join("", "{}", ((part,) for part in parts)),
    )


class QuotesByFieldAdminMixin:
    """Adds the read-only "Quotes by field" section to the change page of a deal, company or facility."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        # Without declared fieldsets Django lists every read-only field in the first one: keep it out of there.
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f != READBACK_FIELD]})
            for name, options in fieldsets
        ]
        if obj is None:
            return fieldsets
        return [*fieldsets, ("Quotes by field", {"fields": [READBACK_FIELD], "classes": ["readback"]})]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, READBACK_FIELD] if obj is not None else readonly

    @admin.display(description="quotes by field")
    def quotes_by_field(self, obj):
        """Each field's value and the quotes backing it, as :func:`deals.coverage.record_coverage` finds them."""
        if obj is None or obj.pk is None:
            return "–"
        model = type(obj)
        coverage = record_coverage(record=record_readback_load(record=obj))
        stated = [cov for cov in coverage if not cov.empty or cov.quotes or cov.claims]
        empty = [cov.label for cov in coverage if cov not in stated]
        rows = format_html_join("", "{}", ((_row_html(model=model, cov=cov),) for cov in stated))
        return format_html(
            '<div class="readback-rows"><div class="readback-row readback-head"><div>Field and value</div>'
            "<div>Quotes that state it</div></div>{}</div>"
            '<p class="readback-empty">Empty, nothing to back: {}</p>',
            rows,
            ", ".join(empty) or "–",
        )
