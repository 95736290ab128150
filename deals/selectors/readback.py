"""What an editor's "Quotes by field" section needs: a record with its evidence (and their sources' titles) and
every relation its coverage reads, loaded in a fixed number of queries whatever the number of quotes or links.

Unlike :mod:`deals.selectors.records` (the public API's querysets), this reads drafts and withdrawn records too:
editors see everything.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Prefetch, prefetch_related_objects

from deals.coverage import coverage_field_names
from deals.models import Company, Deal, Evidence, Facility

# Relations with a role: coverage reads them through the link rows, each with its company.
_ROLE_LINK_PREFETCHES = {Deal: ["party_links__company"], Facility: ["company_links__company"], Company: []}


def record_readback_load(*, record: models.Model) -> models.Model:
    """Prefetch onto ``record`` its evidence (with the sources' titles, not their texts) and the relations that
    :func:`deals.coverage.record_coverage` reads; returns the same record."""
    model = type(record)
    lookups: list = [
        Prefetch(
            "evidence",
            queryset=Evidence.objects.select_related("source")
            .defer("source__text", "note")
            .order_by("source__title", "start", "id"),
        ),
        *_ROLE_LINK_PREFETCHES.get(model, []),
    ]
    for name in coverage_field_names(model=model):
        field = model._meta.get_field(name)
        if field.many_to_many and field.remote_field.through._meta.auto_created:
            lookups.append(name)
        elif field.many_to_one:
            lookups.append(name)
    prefetch_related_objects([record], *lookups)
    return record
