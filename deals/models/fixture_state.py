"""What the dataset loader last wrote for each fixture record, so that it can tell an editor's change from its own."""

from __future__ import annotations

from django.db import models


class FixtureState(models.Model):
    """One fixture record as ``load_dataset`` last wrote it: a snapshot of its values, relations and evidence.

    At the next load, a record whose current snapshot no longer has this digest was changed by someone else (the
    admin, an import, a shell, ``QuerySet.update()`` or raw SQL alike: the check reads the rows, not the history),
    so the loader leaves it alone. The record is found by primary key, so a renamed slug is still recognised; a
    missing row means the record was deleted outside the loader. Bookkeeping only: not part of the public API.
    """

    model = models.CharField(max_length=40, help_text="The record's model label, e.g. 'deals.deal'.")
    slug = models.SlugField(max_length=120, help_text="The record's slug in the fixtures.")
    object_id = models.BigIntegerField(help_text="Primary key of the record the loader wrote.")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the canonical JSON of `snapshot`.")
    snapshot = models.JSONField(help_text="The record's values, relations and evidence as the loader wrote them.")
    written = models.DateTimeField(help_text="When the loader last wrote (or adopted) the record.")

    class Meta:
        ordering = ["model", "slug"]
        verbose_name = "fixture state"
        constraints = [models.UniqueConstraint(fields=["model", "slug"], name="fixture_state_model_slug_unique")]

    def __str__(self):
        return f"{self.model} {self.slug}"
