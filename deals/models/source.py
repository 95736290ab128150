"""Source documents: the raw file's digests and the normalised text that evidence quotes point into."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from deals.models.base import (
    SHA256_VALIDATOR,
    DatePrecision,
    SlugModel,
    choices_constraint,
    date_precision_clean,
    date_precision_constraint,
)

# A source's metadata as editors enter it, in the order the admin's form and the import/export show it (after its
# slug); its text, digests and file are derived from the uploaded document.
SOURCE_METADATA_FIELDS = (
    "title",
    "kind",
    "publisher",
    "author",
    "published_date",
    "published_date_precision",
    "url",
    "original_filename",
    "redistribution_licensed",
)


class Source(SlugModel):
    """A document that records are derived from: the raw file's digest and its normalised text."""

    class Kind(models.TextChoices):
        NEWS = "news", "News article"
        ANALYSIS = "analysis", "Analysis or commentary"
        ROUNDUP = "roundup", "News roundup or newsletter"
        AI_GENERATED = "ai_generated", "AI-generated article"
        PRESS_RELEASE = "press_release", "Press release"
        FILING = "filing", "Regulatory filing or official document"

    title = models.CharField(
        max_length=300,
        help_text=(
            "Title of the document as published; where it has no headline, an editors' description in square "
            "brackets, e.g. '[Untitled] Rare earth update …'."
        ),
    )
    publisher = models.CharField(
        max_length=200, blank=True, help_text="Who published it; empty if the document does not say."
    )
    author = models.CharField(
        max_length=200,
        blank=True,
        help_text="The byline's names, spelled out where the document runs words together; empty if none.",
    )
    published_date = models.DateField(null=True, blank=True, help_text="Publication date, as stated in the document.")
    published_date_precision = models.CharField(
        max_length=5,
        choices=DatePrecision.choices,
        blank=True,
        help_text="Precision of published_date: day, month or year.",
    )
    url = models.URLField(
        max_length=500, blank=True, help_text="Where the document is published; empty when unknown (never guessed)."
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, help_text="What sort of document this is.")
    original_filename = models.CharField(
        max_length=255, blank=True, help_text="File name of the raw document as received."
    )
    raw_sha256 = models.CharField(
        max_length=64,
        unique=True,
        validators=[SHA256_VALIDATOR],
        help_text="SHA-256 of the raw document's bytes, as received.",
    )
    redistribution_licensed = models.BooleanField(
        default=False,
        help_text=(
            "Whether the publisher allows the document's full text to be redistributed. Off (the default): the "
            "public API and the releases publish the metadata, the digests and the quotes with their offsets, but "
            "not the text (it is null there); editors always see it in the admin. Tick only with the publisher's "
            "permission or an open licence."
        ),
    )
    text = models.TextField(
        help_text="The normalised text (mojibake repaired, white space normalised); evidence offsets index into it."
    )
    text_sha256 = models.CharField(
        max_length=64, validators=[SHA256_VALIDATOR], help_text="SHA-256 of the UTF-8 bytes of `text`."
    )
    checks = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "Quotes from the document that back its own metadata (title, date, author…): a list of {quote, fields, "
            "note}, verified against `text` by the loader; kept so that an export reproduces the fixtures."
        ),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["slug"]
        constraints = [
            date_precision_constraint("source", "published_date", "published_date_precision"),
            choices_constraint("source", "published_date_precision", DatePrecision, blank=True),
        ]

    # Meta's body cannot see the choices classes above, so the choice constraints are added from the class body.
    Meta.constraints += [choices_constraint("source", "kind", Kind)]

    def __str__(self):
        return self.title

    def clean(self):
        errors = date_precision_clean(self.published_date, self.published_date_precision, "published_date")
        if errors:
            raise ValidationError(errors)
