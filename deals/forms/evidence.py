"""Evidence forms: the quote box, one evidence's form and the inline formset that checks a record's quotes together."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import UniqueConstraint
from django.utils.html import format_html

from deals import models
from deals.coverage import (
    coverage_field_names,
    field_value,
    record_change_gaps,
    record_change_is_gated,
    record_values,
    value_canonical,
)
from deals.editing import evidence_occurrence, evidence_quote_resolve
from deals.forms.fields import (
    FieldPickerField,
    field_choices,
)
from deals.text import QuoteContext, quote_context


class QuoteTextarea(forms.Textarea):
    """The quote's text box, followed, for a saved quote, by the quote marked where it stands in its source, with a
    few dozen characters either side and its offsets: the editor sees what was matched without opening the source."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.placed: tuple[QuoteContext, int, int] | None = None

    def render(self, name, value, attrs=None, renderer=None):
        box = super().render(name, value, attrs, renderer)
        if self.placed is None:
            return box
        context, start, end = self.placed
        return format_html(
            '{}<div class="quote-context">{}<mark>{}</mark>{}<span class="quote-offsets">characters {}–{}</span></div>',
            box,
            context.before,
            context.quote,
            context.after,
            start,
            end,
        )


# The messages of Evidence's unique-span constraints, which EvidenceAdminForm moves to the quote field.
_SPAN_CONSTRAINT_MESSAGES = frozenset(
    constraint.violation_error_message
    for constraint in models.Evidence._meta.constraints
    if isinstance(constraint, UniqueConstraint)
)


class EvidenceAdminForm(forms.ModelForm):
    """Evidence from a pasted quote: the offsets are found in the source, never typed.

    The quote is located with the loader's own function; a missing or ambiguous quote is an error on the quote
    field, and the stored quote is the source's own text between the offsets (so a quote pasted with straight
    quotes or line breaks is stored as the source writes it).
    """

    occurrence = forms.IntegerField(
        required=False,
        min_value=1,
        help_text="Only when the quote occurs more than once in the source: which occurrence (1 = the first).",
    )
    fields = FieldPickerField(
        required=False,
        help_text="Tick the fields of the record that this quote states. A ticked field keeps the value the quote "
        "stated when it was ticked: if the field changes later, the quote becomes a claim of the old value.",
    )

    class Meta:
        model = models.Evidence
        fields = ["source", "deal", "company", "facility", "quote", "occurrence", "fields", "note"]
        widgets = {
            "quote": QuoteTextarea(attrs={"rows": 3, "cols": 40}),
            "note": forms.Textarea(attrs={"rows": 2, "cols": 16}),
        }

    def __init__(self, *args, record_model=None, **kwargs):
        super().__init__(*args, **kwargs)
        if record_model is None and self.instance.pk:
            target = next((name for name in models.Evidence.TARGETS if getattr(self.instance, f"{name}_id")), None)
            record_model = type(self.instance)._meta.get_field(target).related_model if target else None
        self.fields["fields"].choices = field_choices(model=record_model)
        if self.instance.pk and self.instance.source_id and "occurrence" in self.fields:
            self.fields["occurrence"].initial = evidence_occurrence(evidence=self.instance)
        if self.instance.pk and self.instance.source_id and isinstance(self.fields["quote"].widget, QuoteTextarea):
            start, end = self.instance.start, self.instance.end
            context = quote_context(text=self.instance.source.text, start=start, end=end)
            self.fields["quote"].widget.placed = (context, start, end)

    def clean(self):
        cleaned = super().clean()
        self._targets_check(cleaned)
        # An unticked field loses its snapshot (record_evidence_values_sync does the same after the save); dropping
        # it before model validation keeps "values only for ticked fields" from refusing the editor's untick.
        ticked = cleaned.get("fields")
        if isinstance(self.instance.values, dict) and isinstance(ticked, list):
            self.instance.values = {name: value for name, value in self.instance.values.items() if name in ticked}
        source = cleaned.get("source")
        quote = cleaned.get("quote")
        if source is None or not quote:
            return cleaned
        try:
            location = evidence_quote_resolve(source=source, quote=quote, occurrence=cleaned.get("occurrence"))
        except ValidationError as exc:
            self.add_error("quote", exc)
            return cleaned
        cleaned["quote"] = location.quote
        self.instance.start = location.start
        self.instance.end = location.end
        return cleaned

    def _targets_check(self, cleaned: dict) -> None:
        """On the evidence page (not in an inline, where the record is the page's), exactly one of deal, company
        and facility is chosen: the rule of the ``evidence_exactly_one_target`` constraint, said on those fields."""
        if not all(name in self.fields for name in models.Evidence.TARGETS):
            return
        if any(name in self.errors for name in models.Evidence.TARGETS):
            return  # a tampered id: that field says so already
        chosen = [name for name in models.Evidence.TARGETS if cleaned.get(name) is not None]
        if not chosen:
            for name in models.Evidence.TARGETS:
                self.add_error(name, "Choose the deal, company or facility this quote supports (one of the three).")
        elif len(chosen) > 1:
            for name in chosen:
                message = f"A quote supports one record: keep one of {' and '.join(chosen)} and empty the rest."
                self.add_error(name, message)

    def _get_validation_exclusions(self):
        exclusions = super()._get_validation_exclusions()
        # start/end are computed in clean(); once found, keep them in model validation so the unique-span
        # constraints and the offset checks run as form errors instead of surfacing as an IntegrityError. When the
        # quote was not found the quote field already carries the error, and "cannot be null" would only add noise.
        if self.instance.start is not None and self.instance.end is not None:
            exclusions.discard("start")
            exclusions.discard("end")
        return exclusions

    def _update_errors(self, errors):
        # Errors on the offsets, and the unique-span constraints' (which have no field), belong to the quote: the
        # offsets are found from it. The constraint's wording names offsets; the editor sees the source's title.
        if hasattr(errors, "error_dict"):
            for name in ("start", "end"):
                if name in errors.error_dict:
                    errors.error_dict.setdefault("quote", []).extend(errors.error_dict.pop(name))
            general = errors.error_dict.get(NON_FIELD_ERRORS, [])
            spans = [error for error in general if error.message in _SPAN_CONSTRAINT_MESSAGES]
            if spans:
                errors.error_dict[NON_FIELD_ERRORS] = [error for error in general if error not in spans]
                if not errors.error_dict[NON_FIELD_ERRORS]:
                    del errors.error_dict[NON_FIELD_ERRORS]
                source = self.cleaned_data.get("source")
                target = self.instance.target_label if self.instance.target_label != "none" else "record"
                errors.error_dict.setdefault("quote", []).append(
                    ValidationError(
                        f"This passage of “{source}” is already quoted for this {target}: edit that quote instead.",
                        code="duplicate_span",
                    )
                )
        super()._update_errors(errors)


class EvidenceInlineFormSet(forms.BaseInlineFormSet):
    """Checks what a row cannot check alone: field names against the record being edited, and duplicate spans.

    - ``fields`` must name fields of the parent record (:func:`deals.models.evidence_fields_unknown`, the rule of
      ``Evidence.clean()``). On an add page the parent has no id yet while the rows are validated, so the model's
      own check does not know the target; the formset does.
    - Two rows of one save may not quote the same span of the same source: the database's unique constraints on
      spans are conditional, which Django's formset check skips, and the rows do not exist yet when each form is
      validated on its own.
    """

    def get_form_kwargs(self, index):
        # The rows list the fields of the record being edited (deal, company or facility).
        return {**super().get_form_kwargs(index), "record_model": self.fk.remote_field.model}

    def clean(self):
        super().clean()
        target = self.fk.name
        parent_model = self.fk.remote_field.model
        seen: dict[tuple, int] = {}
        for index, form in enumerate(self.forms, 1):
            if not hasattr(form, "cleaned_data") or not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            names = form.cleaned_data.get("fields")
            if isinstance(names, list) and "fields" not in form.errors:
                unknown = models.evidence_fields_unknown(model=parent_model, names=names)
                if unknown:
                    form.add_error("fields", f"Not fields of {target}: {', '.join(unknown)}.")
            if form.errors or form.instance.start is None:
                continue
            key = (form.cleaned_data.get("source"), form.instance.start, form.instance.end)
            if key in seen:
                form.add_error("quote", f"Row {seen[key]} already quotes this passage of the same source.")
            else:
                seen[key] = index
        if not any(form.errors for form in self.forms):
            self._unsupported_changes_refuse()

    def _unsupported_changes_refuse(self) -> None:
        """Refuse a changed field of a stored record that no current quote supports (:mod:`deals.coverage`).

        The record's new values come from the page: its own fields (already on ``self.instance``), its
        many-to-many fields (the page's form) and its role links (the sibling inline). The quotes are this
        formset's rows as they will be saved: a field ticked now states the new value, a field ticked before keeps
        the value it stated then. The error is shown on the field, and again above the evidence.
        """
        record = self.instance
        record_form = getattr(record, "_coverage_form", None)
        if record_form is None or not record_change_is_gated(record=record) or record_form.errors:
            return
        model = type(record)
        before = record_values(record=model._default_manager.get(pk=record.pk))
        after = dict(before)
        for name in coverage_field_names(model=model):
            fld = model._meta.get_field(name)
            if fld.many_to_many and fld.remote_field.through._meta.auto_created:
                if name in record_form.cleaned_data:
                    after[name] = value_canonical([item.slug for item in record_form.cleaned_data[name]])
            elif fld.many_to_many:
                links = self._role_links(through=fld.remote_field.through)
                if links is not None:
                    after[name] = links
            else:
                after[name] = field_value(record=record, name=name)
        evidence = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or (form.instance.pk is None and not form.has_changed()):
                continue
            previous = form.instance.values if form.instance.pk and isinstance(form.instance.values, dict) else {}
            names = data.get("fields") or []
            values = {name: previous[name] if name in previous else after.get(name) for name in names}
            evidence.append(models.Evidence(fields=names, values=values))
        gaps = record_change_gaps(model=model, before=before, after=after, evidence=evidence)
        if not gaps:
            return
        hint = " Add a quote that states the new value and tick the field on it, or keep the old value."
        for name, message in gaps.items():
            if name in record_form.fields:
                record_form.add_error(name, message + hint)
        raise ValidationError([message + hint for message in gaps.values()])

    def _role_links(self, *, through) -> list | None:
        """The (company slug, role) pairs the sibling inline of ``through`` will save, or None without one."""
        for formset in getattr(self, "sibling_formsets", []):
            if formset.model is through and formset.fk.remote_field.model is type(self.instance):
                if not formset.is_valid():
                    return None  # that inline shows its own errors
                pairs = []
                for form in formset.forms:
                    data = getattr(form, "cleaned_data", None) or {}
                    if data.get("company") and data.get("role") and not data.get("DELETE"):
                        pairs.append((data["company"].slug, data["role"]))
                return value_canonical(pairs)
        return None
