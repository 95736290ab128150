"""Quoting by selection: evidence made from a passage the editor selected on a source's page.

The source page renders the stored, normalised text with every piece carrying its offset (see
:func:`deals.editing.source_text_highlight`), so a selection maps back to exact offsets; nothing is searched for.
These services check a selection and either create the evidence row for an existing record or describe the row
that a new record's add page starts with.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models as django_models
from django.db import transaction

from deals import models
from deals.coverage import coverage_field_names, field_label
from deals.services.evidence import record_evidence_values_sync
from deals.text import quote_spans

# What a passage can be quoted for: the evidence row's target name → the record's model.
QUOTE_TARGETS: dict[str, type[django_models.Model]] = {
    "deal": models.Deal,
    "company": models.Company,
    "facility": models.Facility,
}


@dataclass(frozen=True)
class Selection:
    """A checked passage of a source: ``source.text[start:end] == quote``, without surrounding white space."""

    source: models.Source
    start: int
    end: int
    quote: str

    @property
    def occurrence(self) -> int | None:
        """Which occurrence of the quote this is (1-based) when the text holds it more than once, else None; the
        pasted-quote form locates rows by quote and occurrence, so a prefilled row lands on these offsets."""
        spans = quote_spans(text=self.source.text, quote=self.quote)
        if len(spans) <= 1:
            return None
        return next((index for index, (start, _) in enumerate(spans, 1) if start == self.start), None)


def _offset(value, *, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()):
        raise ValidationError(
            f"The selection's {name} offset “{text[:20]}” is not a number; select the passage again.", code="offset"
        )
    return int(text)


def selection_check(*, source: models.Source, start, end) -> Selection:
    """The passage ``start``–``end`` of ``source``'s stored text, trimmed of white space at either end.

    Raises ``ValidationError`` naming the problem when an offset is not a number, lies outside the text, or the
    passage is empty or only white space.
    """
    start, end = _offset(start, name="start"), _offset(end, name="end")
    length = len(source.text)
    if end > length:
        raise ValidationError(
            f"The selection ends at character {end}, past the end of the source text ({length} characters); "
            "select the passage again.",
            code="out_of_range",
        )
    if start >= end:
        raise ValidationError("The selection is empty: select a passage of the text first.", code="empty")
    text = source.text
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        raise ValidationError("The selection holds only white space: select words of the text.", code="empty")
    return Selection(source=source, start=start, end=end, quote=text[start:end])


def quote_fields_check(*, target: str, fields: list[str]) -> list[str]:
    """The ticked field names, checked against what a quote can support for a record of kind ``target``.

    Raises ``ValidationError`` for an unknown kind or a name that is not a field of that kind (named in the
    message).
    """
    model = QUOTE_TARGETS.get(target)
    if model is None:
        raise ValidationError(
            f"“{str(target)[:30]}” is not something a quote can support; choose a deal, a company or a facility.",
            code="target",
        )
    allowed = coverage_field_names(model=model)
    names = list(dict.fromkeys(str(name) for name in fields))
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValidationError(
            f"Not fields of {target}: {', '.join(name[:40] for name in unknown)}. Tick fields from the list.",
            code="fields",
        )
    # The record's own order, the order the admin shows the boxes in.
    return [name for name in allowed if name in names]


def quote_fields_labels(*, target: str, fields: list[str]) -> str:
    """The ticked fields as the editor sees them, e.g. "Amount, Currency" (for messages)."""
    model = QUOTE_TARGETS[target]
    return ", ".join(field_label(model=model, name=name) for name in fields) or "no field yet"


@transaction.atomic
def evidence_create_from_selection(
    *,
    source: models.Source,
    start,
    end,
    target: str,
    record_id,
    fields: list[str],
    note: str = "",
) -> models.Evidence:
    """Create the evidence row for the passage ``start``–``end`` of ``source``, supporting ``fields`` of the
    existing record ``record_id`` of kind ``target`` (deal, company or facility).

    The row's quote is the source's own text between the (trimmed) offsets, and each ticked field's value is
    snapshotted as :func:`deals.services.evidence.record_evidence_values_sync` does for the admin. Raises
    ``ValidationError`` naming the problem (bad offsets, unknown kind or field, record gone, the passage already
    quoted for that record); nothing is written then.
    """
    selection = selection_check(source=source, start=start, end=end)
    names = quote_fields_check(target=target, fields=fields)
    model = QUOTE_TARGETS[target]
    record_key = str(record_id if record_id is not None else "").strip()
    if not (record_key.isascii() and record_key.isdigit()):
        raise ValidationError(f"Choose the {model._meta.verbose_name} the passage supports.", code="record")
    record = model._default_manager.select_for_update().filter(pk=int(record_key)).first()
    if record is None:
        raise ValidationError(
            f"The {model._meta.verbose_name} with id {record_key} no longer exists; choose another.", code="gone"
        )
    evidence = models.Evidence(
        source=source,
        quote=selection.quote,
        start=selection.start,
        end=selection.end,
        fields=names,
        note=note.strip(),
        **{target: record},
    )
    # full_clean runs the evidence rules and the database constraints (one target, unique span) as messages.
    evidence.full_clean()
    evidence.save()
    record_evidence_values_sync(record=record)
    evidence.refresh_from_db()
    return evidence


def evidence_prefill(*, selection: Selection | None, source: models.Source, fields: list[str]) -> dict:
    """The initial data of the first evidence row on a new record's add page, started from ``source`` (and from
    a selected passage of it when ``selection`` is given)."""
    initial: dict = {"source": source.pk}
    if selection is not None:
        initial["quote"] = selection.quote
        if selection.occurrence is not None:
            initial["occurrence"] = selection.occurrence
        initial["fields"] = fields
    return initial
