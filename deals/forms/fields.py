"""Form fields of the admin shared by several forms: the upload limit, id- and name-list fields, the field
picker of the evidence forms, and the check of a value against a model field."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection

from deals import models
from deals.coverage import (
    coverage_field_names,
    field_label,
)

# One limit for pasted and uploaded texts. settings.DATA_UPLOAD_MAX_MEMORY_SIZE (6 MiB) sits above it, so that a
# paste over the limit reaches this form and gets a message instead of Django's bare 400 page.
MAX_UPLOAD_MB = 5
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
_IDENTIFIER_RE = re.compile(r"[a-z_][a-z0-9_]*")


def value_is_valid_for(field, value) -> bool:
    """Whether ``value`` (text from a URL or a POST) can be a value of model ``field``, e.g. a database id.

    For integer fields the value must also fit the column: SQLite cannot even bind a larger number, so a tampered
    id of 30 digits would fail as ``OverflowError`` in an ``__in`` lookup instead of matching nothing.
    """
    try:
        python_value = field.to_python(value)
    except ValidationError:
        return False
    if isinstance(python_value, int):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        return (low is None or python_value >= low) and (high is None or python_value <= high)
    return True


class IdCheckingModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A many-to-many choice that reports an id that cannot exist (``abc``, 30 digits) as an invalid value, before
    Django's own check puts it in a database query."""

    def _check_values(self, value):
        key = self.to_field_name or "pk"
        opts = self.queryset.model._meta
        field = opts.pk if key == "pk" else opts.get_field(key)
        for item in value if isinstance(value, (list, tuple)) else []:
            if not value_is_valid_for(field, str(item)):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": item}
                )
        return super()._check_values(value)


class NameListField(forms.CharField):
    """A JSON list of names, edited as comma-separated text (``amount, parties``) instead of raw JSON.

    With ``identifiers=True`` every name must look like a field name (lower-case letters, digits, underscores), so
    text pasted in another shape (``["amount"``, ``amount; parties``) is a form error instead of a stored oddity.
    """

    def __init__(self, *args, identifiers: bool = False, **kwargs):
        self.identifiers = identifiers
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        value = super().to_python(value)
        return [part.strip() for part in value.split(",") if part.strip()]

    def validate(self, value):
        super().validate(value)
        if not self.identifiers:
            return
        bad = [name for name in value if not _IDENTIFIER_RE.fullmatch(name)]
        if bad:
            raise ValidationError(
                "Give field names separated by commas, e.g. amount, parties; not a field name: %(names)s.",
                code="malformed",
                params={"names": ", ".join(repr(name) for name in bad)},
            )

    def has_changed(self, initial, data):
        # Compare lists, not the list with its text form: otherwise a blank extra inline row counts as edited
        # and demands a source and a quote.
        return self.to_python(initial if initial is not None else []) != self.to_python(data)


def field_choices(*, model: type | None) -> list[tuple[str, str]]:
    """The fields a quote can support, as (API name, label the editor sees); for no model (the evidence page before
    a target is chosen), every record type's, each label saying which records have it."""
    if model is not None:
        return [(name, field_label(model=model, name=name)) for name in coverage_field_names(model=model)]
    owners: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for record_model in (models.Deal, models.Company, models.Facility):
        for name in coverage_field_names(model=record_model):
            owners.setdefault(name, []).append(record_model._meta.verbose_name)
            labels.setdefault(name, field_label(model=record_model, name=name))
    return [(name, f"{labels[name]} ({', '.join(owners[name])})") for name in labels]


class FieldPickerField(forms.MultipleChoiceField):
    """The record's fields as checkboxes with the labels the editor sees; stores the API names.

    Also accepts what an editor might type instead (a comma-separated list, API names or on-screen labels in any
    case), so a pasted "Announced date, amount" means the same as ticking the two boxes. A name that is not a field
    of the record is left to the evidence rules (:func:`deals.models.evidence_fields_unknown`), which name the
    record type; text that is not a name at all is refused here.
    """

    widget = forms.CheckboxSelectMultiple

    def _by_label(self) -> dict[str, str]:
        mapping = {}
        for name, label in self.choices:
            mapping[str(label).lower()] = name
            mapping[str(label).split(" (")[0].lower()] = name
            mapping[name.lower()] = name
        return mapping

    def to_python(self, value):
        if not value:
            return []
        items = [value] if isinstance(value, str) else list(value)
        parts = [part.strip() for item in items for part in str(item).split(",") if part.strip()]
        mapping = self._by_label()
        return list(dict.fromkeys(mapping.get(part.lower(), part) for part in parts))

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        bad = [name for name in value if not _IDENTIFIER_RE.fullmatch(name)]
        if bad:
            raise ValidationError(
                "Give field names separated by commas, e.g. amount, parties; not a field name: %(names)s.",
                code="malformed",
                params={"names": ", ".join(repr(name) for name in bad)},
            )

    def has_changed(self, initial, data):
        # Compare lists: otherwise a blank extra inline row counts as edited and demands a source and a quote.
        return self.to_python(initial or []) != self.to_python(data)
