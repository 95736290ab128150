"""Evidence: verbatim quotes from a source that support a record's fields."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from deals.models.company import Company
from deals.models.deal import Deal
from deals.models.facility import Facility
from deals.models.publication import PUBLICATION_FIELDS
from deals.models.source import Source

# Bookkeeping columns a quote never supports: the database id, the slug we chose, the timestamps and the
# publication lifecycle's columns.
_EVIDENCE_UNSUPPORTABLE = frozenset({"id", "slug", "created", "updated"}) | PUBLICATION_FIELDS


def evidence_field_names(*, model: type[models.Model]) -> frozenset[str]:
    """The names an evidence row may list in ``fields`` for a record of ``model``.

    The model's own data fields (foreign keys such as ``parent`` included) and its forward many-to-many fields
    (``parties``, ``commodities``…), minus the bookkeeping columns. Reverse relations (``evidence``,
    ``party_links``…) are other records, each with evidence of its own, so they are not fields a quote supports.
    """
    names = {f.name for f in model._meta.concrete_fields} | {f.name for f in model._meta.many_to_many}
    return frozenset(names - _EVIDENCE_UNSUPPORTABLE)


def evidence_fields_unknown(*, model: type[models.Model], names) -> list[str]:
    """The names in ``names`` that are not :func:`evidence_field_names` of ``model``, sorted; shared by
    :meth:`Evidence.clean` and the admin's evidence inline (which checks against the parent model)."""
    return sorted(set(names) - evidence_field_names(model=model))


class Evidence(models.Model):
    """A verbatim quote from a source that supports one record (a deal, a company or a facility).

    ``start``/``end`` index into the source's normalised text; ``clean()`` checks ``text[start:end] == quote``.
    ``fields`` names the record's fields the quote supports; ``values`` keeps, per field, the value it states, so
    that a changed field turns the quote into a claim of the old value (:mod:`deals.coverage`).
    """

    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="evidence", help_text="The source the quote comes from."
    )
    deal = models.ForeignKey(
        Deal,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="evidence",
        help_text="The deal supported (exactly one target).",
    )
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="evidence",
        help_text="The company supported (exactly one target).",
    )
    facility = models.ForeignKey(
        Facility,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="evidence",
        help_text="The facility supported (exactly one target).",
    )
    quote = models.TextField(help_text="The verbatim passage, exactly as it stands in the source's normalised text.")
    start = models.PositiveIntegerField(
        help_text="Offset of the quote's first character in the source's normalised text."
    )
    end = models.PositiveIntegerField(help_text="Offset just past the quote's last character (exclusive).")
    fields = models.JSONField(
        default=list,
        blank=True,
        help_text="Names of the record's fields this quote supports, e.g. ['amount', 'parties'].",
    )
    values = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            "Per supported field, the value this quote states: a snapshot of the record's value taken when the field "
            "was ticked or loaded. Where it differs from the current value, the quote is a claim of that old value "
            "(see deals.coverage)."
        ),
    )
    note = models.TextField(blank=True, help_text="Editor's note on how the quote supports the fields, if not obvious.")

    history = HistoricalRecords()

    TARGETS = ("deal", "company", "facility")

    class Meta:
        ordering = ["source__slug", "start", "id"]
        verbose_name_plural = "evidence"
        constraints = [
            models.CheckConstraint(
                condition=Q(deal__isnull=False, company__isnull=True, facility__isnull=True)
                | Q(deal__isnull=True, company__isnull=False, facility__isnull=True)
                | Q(deal__isnull=True, company__isnull=True, facility__isnull=False),
                name="evidence_exactly_one_target",
                violation_error_message="Evidence supports exactly one record: a deal, a company or a facility.",
            ),
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")),
                name="evidence_start_before_end",
                violation_error_message="The start offset must be before the end offset.",
            ),
            models.CheckConstraint(
                condition=Q(start__gte=0),
                name="evidence_start_nonnegative",
                violation_error_message="Offsets are non-negative.",
            ),
            models.CheckConstraint(
                condition=~Q(quote=""), name="evidence_quote_not_empty", violation_error_message="A quote is required."
            ),
            models.UniqueConstraint(
                fields=["source", "deal", "start", "end"],
                condition=Q(deal__isnull=False),
                name="evidence_unique_deal_span",
                violation_error_message="This source already has evidence for this deal at these offsets.",
            ),
            models.UniqueConstraint(
                fields=["source", "company", "start", "end"],
                condition=Q(company__isnull=False),
                name="evidence_unique_company_span",
                violation_error_message="This source already has evidence for this company at these offsets.",
            ),
            models.UniqueConstraint(
                fields=["source", "facility", "start", "end"],
                condition=Q(facility__isnull=False),
                name="evidence_unique_facility_span",
                violation_error_message="This source already has evidence for this facility at these offsets.",
            ),
        ]

    def __str__(self):
        return f"{self.target_label}: “{self.quote[:60]}”"

    @property
    def target(self):
        """The one record this evidence supports."""
        return self.deal or self.company or self.facility

    @property
    def target_label(self) -> str:
        for name in self.TARGETS:
            if getattr(self, f"{name}_id"):
                return name
        return "none"

    def clean(self):
        errors: dict[str, str] = {}
        # Offsets that are not integers, or a source id that does not exist, already failed clean_fields();
        # full_clean() still calls clean(), which must report, not crash.
        try:
            source = self.source if self.source_id is not None else None
        except Source.DoesNotExist:
            source = None
        if source is not None and isinstance(self.start, int) and isinstance(self.end, int):
            text = source.text
            if self.end > len(text):
                errors["end"] = (
                    f"The end offset {self.end} lies past the end of the source text ({len(text)} characters)."
                )
            elif text[self.start : self.end] != self.quote:
                errors["quote"] = (
                    f"The quote does not match the source text at {self.start}-{self.end}: "
                    f"the source has {text[self.start : self.end][:80]!r}."
                )
        target = next((name for name in self.TARGETS if getattr(self, f"{name}_id")), None)
        if not isinstance(self.fields, list) or not all(isinstance(f, str) for f in self.fields):
            errors["fields"] = "Fields must be a list of field names."
        elif target:
            unknown = evidence_fields_unknown(model=type(self)._meta.get_field(target).related_model, names=self.fields)
            if unknown:
                errors["fields"] = f"Not fields of {target}: {', '.join(unknown)}."
        if not isinstance(self.values, dict):
            errors["values"] = "Values must map field names to the values the quote states."
        elif "fields" not in errors and isinstance(self.fields, list):
            extra = sorted(set(self.values) - set(self.fields))
            if extra:
                errors["values"] = f"Values given for fields the quote does not support: {', '.join(extra)}."
        if errors:
            raise ValidationError(errors)
