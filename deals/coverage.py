"""Per-field evidence coverage: which non-empty fields of a record no quote supports.

A record's public fields are its own data fields and its relations (parties with roles, facilities, commodities,
stages, countries…), i.e. :func:`deals.models.evidence_field_names`: the slug, the timestamps, the counts and the
publication bookkeeping are not among them. A non-empty field is *covered* when at least one evidence row of the
record lists it in ``fields``. Publishing refuses a record with a gap (:mod:`deals.services.publication`).
"""

from __future__ import annotations

from django.db import models

from deals.models import evidence_field_names

# The explicit "not stated" value of a required choice (e.g. Deal.status = unknown) states nothing, so no quote
# can back it: it counts as empty.
NOT_STATED = "unknown"


def _is_empty(*, record: models.Model, field: models.Field) -> bool:
    if field.many_to_many:
        return record.pk is None or not getattr(record, field.name).exists()
    value = getattr(record, field.attname)
    if value is None or value == "" or value == [] or value == {}:
        return True
    return bool(field.choices) and value == NOT_STATED


def record_fields_filled(*, record: models.Model) -> list[models.Field]:
    """The record's supportable fields (see :func:`deals.models.evidence_field_names`) that hold a value, in model
    order."""
    names = evidence_field_names(model=type(record))
    fields = [f for f in [*record._meta.concrete_fields, *record._meta.many_to_many] if f.name in names]
    return [f for f in fields if not _is_empty(record=record, field=f)]


def record_fields_supported(*, record: models.Model) -> set[str]:
    """Names of the fields that at least one evidence row of ``record`` lists."""
    if record.pk is None:
        return set()
    supported: set[str] = set()
    for names in record.evidence.values_list("fields", flat=True):
        if isinstance(names, list):
            supported.update(n for n in names if isinstance(n, str))
    return supported


def record_coverage_gaps(*, record: models.Model) -> list[str]:
    """One message per non-empty field of ``record`` that no evidence row supports, naming the field by the label
    editors see (its verbose name); empty when every filled field is backed by a quote."""
    supported = record_fields_supported(record=record)
    return [
        f"{str(field.verbose_name).capitalize()} ({field.name}) has a value but no quote supports it."
        for field in record_fields_filled(record=record)
        if field.name not in supported
    ]
