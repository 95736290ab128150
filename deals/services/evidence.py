"""Evidence snapshots: each quote keeps, per ticked field, the value it states (see :mod:`deals.coverage`)."""

from __future__ import annotations

from django.db import models, transaction

from deals.coverage import evidence_values_take
from deals.models import Evidence


@transaction.atomic
def record_evidence_values_sync(*, record: models.Model) -> int:
    """Bring every evidence row of ``record`` in line with its ticked fields: a newly ticked field gets the record's
    current value, a field that stays ticked keeps the value it had (so a quote of an old value stays a claim of it),
    an unticked field loses its snapshot. Call it after the record and its relations are saved. Returns the number
    of rows changed.
    """
    changed = 0
    for evidence in Evidence.objects.filter(**{record._meta.model_name: record}).order_by("pk"):
        values = evidence_values_take(record=record, fields=evidence.fields or [], previous=evidence.values)
        if values != evidence.values:
            evidence.values = values
            evidence.save(update_fields=["values"])
            changed += 1
    return changed
