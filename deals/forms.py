"""Admin forms: where an editor's input is checked and turned into stored values.

The checks themselves are services in :mod:`deals.editing` (shared with the import); these forms only map
their ``ValidationError`` onto the field the editor has to fix.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection
from django.db.models import UniqueConstraint
from django.utils.html import format_html, format_html_join

from deals import models
from deals.coverage import (
    coverage_field_names,
    field_label,
    field_value,
    record_change_gaps,
    record_change_is_gated,
    record_values,
    value_canonical,
)
from deals.editing import evidence_occurrence, evidence_quote_resolve, source_upload_prepare
from deals.models.deal_terms import DEAL_TERM_FIELDS
from deals.services.duplicates import deal_duplicates_find, record_admin_link
from deals.text import QuoteContext, quote_context

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


class SourceAdminForm(forms.ModelForm):
    """Add a source by pasting its text or uploading the file; the text is normalised like the loader's.

    The stored text never changes after creation, because evidence offsets index into it: the change page shows
    it read-only (with its quotes highlighted) and these two inputs only appear on the add page.
    """

    pasted_text = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16, "cols": 100}),
        help_text=f"Paste the article's full text here (at most {MAX_UPLOAD_MB} MB), or upload the file below "
        "(not both).",
    )
    upload = forms.FileField(
        required=False,
        help_text=f"A UTF-8 text file of the article, exactly as received (at most {MAX_UPLOAD_MB} MB).",
    )

    class Meta:
        model = models.Source
        fields = [
            "slug",
            "title",
            "kind",
            "publisher",
            "author",
            "published_date",
            "published_date_precision",
            "url",
            "original_filename",
            "redistribution_licensed",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The text is frozen once stored; see the class docstring.
            self.fields.pop("pasted_text", None)
            self.fields.pop("upload", None)

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            return cleaned
        if "pasted_text" in self.errors or "upload" in self.errors:
            # The input itself was refused (e.g. Django's own "Null characters are not allowed."); say only that.
            return cleaned
        pasted = cleaned.get("pasted_text") or ""
        upload = cleaned.get("upload")
        if pasted.strip() and upload:
            raise ValidationError({"upload": "Paste the text or upload a file, not both."})
        if upload:
            if upload.size > MAX_UPLOAD_BYTES:
                raise ValidationError({"upload": f"The file is larger than {MAX_UPLOAD_MB} MB."})
            raw = upload.read()
            target = "upload"
            if not cleaned.get("original_filename"):
                cleaned["original_filename"] = upload.name[:255]
        elif pasted.strip():
            raw = pasted.encode("utf-8")
            target = "pasted_text"
            if len(raw) > MAX_UPLOAD_BYTES:
                raise ValidationError({"pasted_text": f"The pasted text is larger than {MAX_UPLOAD_MB} MB."})
        else:
            raise ValidationError({"pasted_text": "Paste the article's text or upload its file."})
        try:
            prepared = source_upload_prepare(raw=raw)
        except ValidationError as exc:
            raise ValidationError({target: exc.messages}) from exc
        # Set before _post_clean so that model validation (digest format, unique raw_sha256) sees them.
        self.instance.text = prepared.text
        self.instance.raw_sha256 = prepared.raw_sha256
        self.instance.text_sha256 = prepared.text_sha256
        return cleaned

    def _get_validation_exclusions(self):
        exclusions = super()._get_validation_exclusions()
        # The digests are not form fields but are set by clean(); validating them keeps a duplicate document a
        # form error even if another editor stored it a moment earlier. Only once clean() has set them: when the
        # text was refused, the input field already says why, and "This field cannot be blank." three times over
        # would only bury that.
        if self.instance.text:
            exclusions.discard("raw_sha256")
            exclusions.discard("text_sha256")
            exclusions.discard("text")
        return exclusions

    def _update_errors(self, errors):
        # Errors on the computed fields belong to the input they came from.
        if hasattr(errors, "error_dict"):
            input_field = "upload" if self.cleaned_data.get("upload") else "pasted_text"
            for name in ("raw_sha256", "text_sha256", "text"):
                if name in errors.error_dict:
                    moved = errors.error_dict.pop(name)
                    key = input_field if input_field in self.fields else NON_FIELD_ERRORS
                    errors.error_dict.setdefault(key, []).extend(moved)
        super()._update_errors(errors)


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


class CompanyAdminForm(forms.ModelForm):
    """Companies with their aliases edited as comma-separated names."""

    aliases = NameListField(
        required=False, help_text="Other names the sources use, comma-separated, e.g. VAC, Vacuumschmelze."
    )

    class Meta:
        model = models.Company
        fields = ["slug", "name", "kind", "country", "locality", "parent", "aliases", "description", "website"]


# The deal form's confirmation checkbox; the party formset reads it from the same POST.
CONFIRM_DIFFERENT_DEAL = "confirm_different_deal"


class DealAdminForm(forms.ModelForm):
    """Deals, with the confirmation a new deal needs when an existing deal has the same type and parties."""

    confirm_different_deal = forms.BooleanField(
        required=False,
        label="This is a different deal",
        help_text="Tick only if an existing deal with the same type and the same parties is not this deal.",
    )

    class Meta:
        model = models.Deal
        fields = [
            "slug",
            "title",
            "deal_type",
            "status",
            "summary",
            "announced_date",
            "announced_date_precision",
            "amount",
            "currency",
            "value_qualifier",
            "amount_usd",
            *DEAL_TERM_FIELDS,
            "stages",
            "commodities",
            "facilities",
            "countries",
        ]


class DealPartyInlineFormSet(forms.BaseInlineFormSet):
    """The parties of a deal; refuses a *new* deal whose type and parties match an existing deal's, linking it.

    The check lives on the parties' formset because only it sees the parties being added with the deal.
    """

    def clean(self):
        super().clean()
        deal = self.instance
        if not deal._state.adding or self.data.get(CONFIRM_DIFFERENT_DEAL) in ("on", "true", "1"):
            return
        company_ids = {
            form.cleaned_data["company"].pk
            for form in self.forms
            if form.cleaned_data.get("company") is not None and not form.cleaned_data.get("DELETE")
        }
        duplicates = deal_duplicates_find(deal_type=deal.deal_type, company_ids=company_ids)
        if duplicates:
            links = format_html_join(", ", "{}", ((record_admin_link(record=d),) for d in duplicates))
            message = format_html(
                "A deal of this type with the same parties already exists: {}. Add your evidence there, or tick "
                "“This is a different deal” if it is not the same deal.",
                links,
            )
            # Said on the checkbox the editor may tick, too; the error here is what keeps the page from saving.
            deal_form = getattr(deal, "_coverage_form", None)
            if deal_form is not None and CONFIRM_DIFFERENT_DEAL in deal_form.fields:
                deal_form.add_error(CONFIRM_DIFFERENT_DEAL, message)
            raise ValidationError(message, code="duplicate_deal")
