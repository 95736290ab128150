"""Shared building blocks of the data model: validators, choice sets, constraint helpers and the slug base."""

from __future__ import annotations

import datetime

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

SHA256_VALIDATOR = RegexValidator(r"^[0-9a-f]{64}$", "Enter a lower-case hexadecimal SHA-256 digest (64 characters).")
CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", "Enter an ISO 4217 currency code, e.g. USD.")


class DatePrecision(models.TextChoices):
    """How much of a date the source states; the stored date is the first day of the stated period."""

    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"


class ValueQualifier(models.TextChoices):
    """How a stated figure should be read."""

    EXACT = "exact", "Exact"
    APPROXIMATE = "approximate", "Approximate (about, roughly)"
    UP_TO = "up_to", "Up to (a ceiling)"
    AT_LEAST = "at_least", "At least (e.g. 500+)"


def date_precision_constraint(prefix: str, field: str, precision: str) -> models.CheckConstraint:
    """A date and its precision are set together or not at all."""
    return models.CheckConstraint(
        condition=(Q(**{f"{field}__isnull": True}) & Q(**{precision: ""}))
        | (Q(**{f"{field}__isnull": False}) & ~Q(**{precision: ""})),
        name=f"{prefix}_{field}_precision_together",
        violation_error_message=f"{field} and {precision} must be given together.",
    )


def date_precision_clean(date, precision, field: str) -> dict[str, str]:
    """A date and its precision (field ``<field>_precision``) go together, and month and year precision dates are
    stored as the first day of their period. Each problem is keyed by the field the editor has to fix."""
    errors: dict[str, str] = {}
    if date is not None and not precision:
        errors[f"{field}_precision"] = "A date needs its precision: day, month or year, as the source states it."
    elif date is None and precision:
        errors[f"{field}_precision"] = "A precision goes with a date: enter the date, or leave the precision empty."
    # A value that is not a date already failed clean_fields(); full_clean() still calls clean() afterwards.
    if not isinstance(date, datetime.date) or not precision:
        return errors
    if precision == DatePrecision.MONTH and date.day != 1:
        errors[field] = "A month-precision date is stored as the first day of the month."
    if precision == DatePrecision.YEAR and (date.month, date.day) != (1, 1):
        errors[field] = "A year-precision date is stored as 1 January of the year."
    return errors


def choices_constraint(
    prefix: str, field: str, choices: type[models.TextChoices], *, blank: bool = False
) -> models.CheckConstraint:
    """The database refuses a value outside ``choices`` (and "" unless the field may be blank).

    Choices are otherwise checked only by ``full_clean()``; a bare ``save()``, ``update()`` or SQL write would
    store any string.
    """
    condition = Q(**{f"{field}__in": choices.values})
    allowed = ", ".join(choices.values)
    if blank:
        condition |= Q(**{field: ""})
        allowed += " or empty"
    return models.CheckConstraint(
        condition=condition,
        name=f"{prefix}_{field}_valid",
        violation_error_message=f"{field} must be one of: {allowed}.",
    )


def needs_figure_constraint(prefix: str, field: str, figure: str) -> models.CheckConstraint:
    """A qualifier, period or currency describes a figure, so it stays empty when the figure is not stated."""
    return models.CheckConstraint(
        condition=Q(**{f"{figure}__isnull": False}) | Q(**{field: ""}),
        name=f"{prefix}_{field}_needs_{figure}",
        violation_error_message=f"{field} needs {figure}: leave it empty when no figure is stated.",
    )


def parent_chain_loops(instance: models.Model) -> bool:
    """Whether following ``parent`` up from ``instance`` comes back to it (a cycle through the stored rows).

    Only a saved row can be on a cycle: nothing can point at a row that does not exist yet. A loop elsewhere in
    the stored chain (one that does not pass through ``instance``) ends the walk rather than spinning forever.
    """
    if instance.pk is None:
        return False
    model = type(instance)
    seen: set = set()
    parent_id = instance.parent_id
    while parent_id is not None and parent_id not in seen:
        if parent_id == instance.pk:
            return True
        seen.add(parent_id)
        parent_id = model._default_manager.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return False


class SlugModel(models.Model):
    """Abstract base: a stable slug (natural key) and timestamps."""

    slug = models.SlugField(
        max_length=120,
        unique=True,
        help_text="Stable, human-readable identifier; the natural key in fixtures and the id in API URLs.",
    )
    created = models.DateTimeField(auto_now_add=True, help_text="When the record was first stored.")
    updated = models.DateTimeField(auto_now=True, help_text="When the record was last changed.")

    class Meta:
        abstract = True

    def natural_key(self):
        return (self.slug,)
