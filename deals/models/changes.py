"""The change feed's rows: one ``ChangeEntry`` per public change to a deal, company or facility.

Entries are written by :mod:`deals.changes` in the same transaction as the historical row they describe, so every
write path (admin, import, loader, services, shell) produces them, and a rollback removes them with the change.
"""

from __future__ import annotations

from django.db import models

from deals.models.base import choices_constraint


class ChangeAction(models.TextChoices):
    """What happened to a public record."""

    CREATED = "created", "Created (became public)"
    UPDATED = "updated", "Updated"
    RENAMED = "renamed", "Renamed (new slug; the old URL redirects)"
    WITHDRAWN = "withdrawn", "Withdrawn (tombstone; the URL answers 410)"
    MERGED = "merged", "Merged into another record (tombstone; the URL answers 301)"


class ChangeEntry(models.Model):
    """One entry of ``/api/v1/changes/``: a change to a public record, numbered by a global, gap-free sequence.

    ``sequence`` is allocated from :class:`ChangeSequence` while its row is locked until the writing transaction
    commits, so sequence order is commit order: a client that has read up to N never misses an entry numbered
    below N that commits later.
    """

    sequence = models.PositiveBigIntegerField(unique=True, help_text="Global, strictly increasing number; the cursor.")
    time = models.DateTimeField(help_text="When the change was made (the version's date).")
    resource = models.CharField(max_length=20, help_text="deals, companies or facilities.")
    record_id = models.BigIntegerField(help_text="The record's database id (not public; slugs are the public ids).")
    history_id = models.BigIntegerField(null=True, blank=True, help_text="The historical row this entry describes.")
    slug = models.SlugField(max_length=120, help_text="The record's slug after the change.")
    action = models.CharField(max_length=10, choices=ChangeAction.choices, help_text="What happened.")
    fields = models.JSONField(default=list, blank=True, help_text="API names of the fields that changed.")
    previous_slug = models.SlugField(max_length=120, blank=True, help_text="Renamed: the slug before the change.")
    merged_into_slug = models.SlugField(max_length=120, blank=True, help_text="Merged: the survivor's slug.")
    reason = models.TextField(blank=True, help_text="Withdrawn or merged: the public reason.")

    class Meta:
        verbose_name = "change entry"
        verbose_name_plural = "change entries"
        ordering = ["sequence"]
        indexes = [models.Index(fields=["resource", "record_id", "sequence"], name="changeentry_record")]
        constraints = [choices_constraint("changeentry", "action", ChangeAction)]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.resource}/{self.slug}"


class ChangeSequence(models.Model):
    """The feed's counter: one row (``id = 1``) whose ``value`` is the last sequence number handed out."""

    id = models.SmallIntegerField(primary_key=True, default=1, editable=False)
    value = models.PositiveBigIntegerField(default=0, help_text="The last sequence number handed out.")

    class Meta:
        verbose_name = "change sequence"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id=1),
                name="changesequence_single_row",
                violation_error_message="There is only one change sequence row: its id is 1.",
            )
        ]

    def __str__(self) -> str:
        return str(self.value)
