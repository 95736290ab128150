"""Publication lifecycle shared by deals, companies and facilities: draft → published → withdrawn (or merged).

Only published records are public (see :mod:`deals.selectors`). A withdrawn record keeps its row, its reason and
its date, so its API URL answers 410 Gone; a merged duplicate is a withdrawn record whose ``merged_into`` names the
survivor, so its URL answers 301. Keeping the rows (rather than deleting them) keeps their slugs taken and their
history intact, and lets a fixture load see that an editor retired the record.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from deals.models.base import SlugModel


class PublicationStatus(models.TextChoices):
    """Where a record stands in the publication lifecycle."""

    DRAFT = "draft", "Draft (not public)"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn (answers 410 Gone, or 301 when merged)"


# The lifecycle's bookkeeping columns: no quote ever supports them, and they are not record data.
PUBLICATION_FIELDS = frozenset(
    {"publication_status", "published_at", "withdrawn_at", "withdrawn_reason", "merged_into"}
)


class PublicationQuerySet(models.QuerySet):
    """Querysets of publishable records; ``public()`` is what the API may show."""

    def public(self) -> PublicationQuerySet:
        """Published records only: drafts and withdrawn (or merged) records are not public."""
        return self.filter(publication_status=PublicationStatus.PUBLISHED)


class PublishableModel(SlugModel):
    """Abstract base of the public records: a slug, timestamps and a publication status.

    New records start as drafts (the model default, so the admin, an import and a bare ``create()`` all do);
    the fixture loader loads its records as published. Publishing, withdrawing and merging go through
    :mod:`deals.services.publication`, which checks the evidence and keeps these columns consistent.
    """

    publication_status = models.CharField(
        max_length=10,
        choices=PublicationStatus.choices,
        default=PublicationStatus.DRAFT,
        db_index=True,
        help_text="Draft (not public), published, or withdrawn (410 Gone; 301 to the survivor when merged).",
    )
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When an editor last published the record; empty for fixture records and records never published.",
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, help_text="When the record was withdrawn or merged.")
    withdrawn_reason = models.TextField(
        blank=True, help_text="Why the record was withdrawn, as the API's 410 answer states it."
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_duplicates",
        help_text="The record this duplicate was merged into; its URL answers 301 there.",
    )

    objects = PublicationQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_public(self) -> bool:
        return self.publication_status == PublicationStatus.PUBLISHED


def publication_constraints(prefix: str) -> list[models.BaseConstraint]:
    """Database rules of the lifecycle columns, so every entry point (admin, shell, SQL) keeps them consistent."""
    withdrawn = Q(publication_status=PublicationStatus.WITHDRAWN)
    return [
        models.CheckConstraint(
            condition=Q(publication_status__in=PublicationStatus.values),
            name=f"{prefix}_publication_status_valid",
            violation_error_message="publication_status must be one of: " + ", ".join(PublicationStatus.values) + ".",
        ),
        models.CheckConstraint(
            condition=~withdrawn | (~Q(withdrawn_reason="") & Q(withdrawn_at__isnull=False)),
            name=f"{prefix}_withdrawn_has_reason_and_date",
            violation_error_message="A withdrawn record needs a reason and a withdrawal date.",
        ),
        models.CheckConstraint(
            condition=withdrawn | (Q(withdrawn_reason="") & Q(withdrawn_at__isnull=True)),
            name=f"{prefix}_withdrawal_only_when_withdrawn",
            violation_error_message="Only a withdrawn record has a withdrawal reason or date.",
        ),
        models.CheckConstraint(
            condition=Q(merged_into__isnull=True) | (withdrawn & ~Q(merged_into=models.F("id"))),
            name=f"{prefix}_merged_is_withdrawn",
            violation_error_message="A merged duplicate is withdrawn, and is not merged into itself.",
        ),
    ]
