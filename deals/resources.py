"""django-import-export resources: the CSV/JSON shape of each model for export and (where allowed) import.

Related records are written and read by slug, never by database id, so an exported file imports into another
database. Every import runs in one transaction and is rolled back as a whole if any row is invalid: a batch is
written completely or not at all. Evidence rows are checked against their source with the loader's own
:func:`deals.services.sources.evidence_locate` (via :func:`deals.editing.evidence_quote_resolve`).

Importable: commodities, companies, facilities, facility companies, deals, deal parties and evidence.
Export-only: sources (their text must arrive as the raw document so that both digests are computed from the
bytes; use the "Add source" page) and supply-chain stages (a fixed vocabulary).
"""

from __future__ import annotations

import json
import re

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from deals import models
from deals.coverage import (
    coverage_field_names,
    evidence_values_take,
    field_value,
    record_change_gaps,
    record_change_is_gated,
    record_values,
)
from deals.editing import evidence_occurrence, evidence_quote_resolve
from deals.forms import value_is_valid_for
from deals.history import history_deferred
from deals.models.company import COMPANY_DESCRIPTIVE_FIELDS
from deals.models.deal import DEAL_DESCRIPTIVE_FIELDS
from deals.models.facility import FACILITY_DESCRIPTIVE_FIELDS
from deals.models.source import SOURCE_METADATA_FIELDS

IMPORT_CHANGE_REASON = "admin import"

_WHOLE_NUMBER_RE = re.compile(r"[0-9]{1,18}")
# At most nine digits: no quote occurs a billion times, and a longer number only makes a longer error message.
_OCCURRENCE_RE = re.compile(r"0*([0-9]{1,9})(?:\.0*)?")


def _cell_text(value) -> str:
    """A cell as the editor typed it: CSV gives text, JSON may give numbers (``2``, ``2.0``) or nothing."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    return str(value).strip()


class SlugWidget(widgets.ForeignKeyWidget):
    """A related record by slug; an unknown slug is a row error that names it (not a traceback)."""

    def __init__(self, model, **kwargs):
        super().__init__(model, field="slug", **kwargs)

    def clean(self, value, row=None, **kwargs):
        value = (value or "").strip() if isinstance(value, str) else value
        if not value:
            return None
        try:
            return self.model.objects.get(slug=value)
        except self.model.DoesNotExist as exc:
            raise ValueError(f"No {self.model._meta.verbose_name} with slug “{value}”.") from exc


class SlugListWidget(widgets.ManyToManyWidget):
    """Related records as comma-separated slugs; any unknown slug is an error rather than silently dropped."""

    def __init__(self, model, **kwargs):
        super().__init__(model, separator=",", field="slug", **kwargs)

    def clean(self, value, row=None, **kwargs):
        slugs = [s.strip() for s in str(value or "").split(",") if s.strip()]
        found = self.model.objects.filter(slug__in=slugs)
        missing = sorted(set(slugs) - {obj.slug for obj in found})
        if missing:
            raise ValueError(f"No {self.model._meta.verbose_name} with slug {', '.join(missing)}.")
        return found


class JSONListWidget(widgets.Widget):
    """A list of strings, written as JSON (``["a", "b"]``) in both CSV and JSON files."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return []
        if isinstance(value, list):
            return value
        try:
            parsed = json.loads(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f'Expected a JSON list such as ["amount"], got {str(value)[:40]!r}.') from exc
        if not isinstance(parsed, list):
            raise ValueError("Expected a JSON list.")
        return parsed

    def render(self, value, obj=None, **kwargs):
        return json.dumps(value or [], ensure_ascii=False)


class JSONObjectWidget(widgets.Widget):
    """A mapping written as JSON (``{"amount": "10000000"}``); an empty cell is an empty mapping."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return {}
        if isinstance(value, dict):
            return value
        try:
            parsed = json.loads(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f'Expected a JSON object such as {{"amount": "10000000"}}, got {str(value)[:40]!r}.'
            ) from exc
        if not isinstance(parsed, dict):
            raise ValueError("Expected a JSON object.")
        return parsed

    def render(self, value, obj=None, **kwargs):
        return json.dumps(value or {}, ensure_ascii=False, sort_keys=True)


class CountryListWidget(widgets.Widget):
    """ISO 3166-1 alpha-2 codes, comma-separated."""

    def clean(self, value, row=None, **kwargs):
        return [c.strip().upper() for c in str(value or "").split(",") if c.strip()]

    def render(self, value, obj=None, **kwargs):
        return ",".join(getattr(c, "code", str(c)) for c in (value or []))


class DatasetResource(resources.ModelResource):
    """Shared import rules: one transaction per batch, full model validation, rollback on any bad row."""

    def import_data(self, dataset, **kwargs):
        # By default import-export writes the valid rows of a batch and skips the invalid ones on confirm; the
        # dataset's rule is all or nothing, so invalid rows roll back the whole batch.
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, **kwargs)

    def import_data_inner(self, *args, **kwargs):
        # Inside the batch's transaction: each deal, company or facility the batch changes (its own row, its
        # parties, links or evidence rows) gets one version, recording its relations after the whole batch.
        with history_deferred():
            return super().import_data_inner(*args, **kwargs)

    def before_save_instance(self, instance, row, **kwargs):
        # simple-history records the editor (from the request) and this reason on every imported change.
        instance._change_reason = IMPORT_CHANGE_REASON

    class Meta:
        abstract = True


class EvidencedRecordResource(DatasetResource):
    """Deals, companies and facilities: an imported change of a published record needs a current quote.

    The rule of the admin (:func:`deals.coverage.record_change_gaps`): a changed field (of the record's own columns;
    the file's lists are written after validation) that no stored quote states is a row error on that field. Import
    the quote first, with its ``values`` column stating the new value: until the record changes it is a claim.
    """

    class Meta:
        abstract = True

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if instance.pk is not None and record_change_is_gated(record=instance):
            model = type(instance)
            stored = model._default_manager.get(pk=instance.pk)
            before = record_values(record=stored)
            after = dict(before)
            for name in coverage_field_names(model=model):
                if not model._meta.get_field(name).many_to_many:
                    after[name] = field_value(record=instance, name=name)
            gaps = record_change_gaps(model=model, before=before, after=after, evidence=list(stored.evidence.all()))
            for name, message in gaps.items():
                if name not in errors:
                    errors[name] = [
                        ValidationError(
                            f"{message} Import a quote that states the new value first (evidence with this field "
                            "in fields and the new value in values), or keep the old value."
                        )
                    ]
        return super().validate_instance(instance, errors, validate_unique=validate_unique)


class CommodityResource(DatasetResource):
    """Commodities by slug; the parent by slug."""

    parent = fields.Field(attribute="parent", column_name="parent", widget=SlugWidget(models.Commodity))

    class Meta:
        model = models.Commodity
        fields = ("slug", "name", "kind", "symbol", "parent", "description")
        import_id_fields = ("slug",)
        use_transactions = True
        clean_model_instances = True


class SourceResource(DatasetResource):
    """Sources with their normalised text and digests (export only)."""

    class Meta:
        model = models.Source
        fields = (
            "slug",
            *SOURCE_METADATA_FIELDS,
            "raw_sha256",
            "text_sha256",
            "text",
        )
        import_id_fields = ("slug",)


class SupplyChainStageResource(resources.ModelResource):
    """The fixed supply-chain vocabulary (export only)."""

    class Meta:
        model = models.SupplyChainStage
        fields = ("slug", "name", "segment", "position", "description")
        import_id_fields = ("slug",)


class CompanyResource(EvidencedRecordResource):
    """Companies and governments; aliases as a JSON list, the parent by slug."""

    parent = fields.Field(attribute="parent", column_name="parent", widget=SlugWidget(models.Company))
    aliases = fields.Field(attribute="aliases", column_name="aliases", widget=JSONListWidget())

    class Meta:
        model = models.Company
        fields = ("slug", "name", *COMPANY_DESCRIPTIVE_FIELDS)
        import_id_fields = ("slug",)
        use_transactions = True
        clean_model_instances = True


class FacilityResource(EvidencedRecordResource):
    """Facilities; commodities as comma-separated slugs."""

    commodities = fields.Field(
        attribute="commodities", column_name="commodities", widget=SlugListWidget(models.Commodity)
    )

    class Meta:
        model = models.Facility
        fields = (
            "slug",
            "name",
            *FACILITY_DESCRIPTIVE_FIELDS,
            "commodities",
        )
        import_id_fields = ("slug",)
        use_transactions = True
        clean_model_instances = True


class DealResource(EvidencedRecordResource):
    """Deals; stages, commodities and facilities as comma-separated slugs, countries as ISO codes."""

    stages = fields.Field(attribute="stages", column_name="stages", widget=SlugListWidget(models.SupplyChainStage))
    commodities = fields.Field(
        attribute="commodities", column_name="commodities", widget=SlugListWidget(models.Commodity)
    )
    facilities = fields.Field(attribute="facilities", column_name="facilities", widget=SlugListWidget(models.Facility))
    countries = fields.Field(attribute="countries", column_name="countries", widget=CountryListWidget())

    class Meta:
        model = models.Deal
        fields = (
            "slug",
            "title",
            *DEAL_DESCRIPTIVE_FIELDS,
            "stages",
            "commodities",
            "facilities",
        )
        import_id_fields = ("slug",)
        use_transactions = True
        clean_model_instances = True


class DealPartyResource(DatasetResource):
    """A party's role in a deal, by deal and company slug."""

    deal = fields.Field(attribute="deal", column_name="deal", widget=SlugWidget(models.Deal))
    company = fields.Field(attribute="company", column_name="company", widget=SlugWidget(models.Company))

    class Meta:
        model = models.DealParty
        fields = ("deal", "company", "role")
        import_id_fields = ("deal", "company", "role")
        use_transactions = True
        clean_model_instances = True


class FacilityCompanyResource(DatasetResource):
    """A company's role at a facility, by facility and company slug."""

    facility = fields.Field(attribute="facility", column_name="facility", widget=SlugWidget(models.Facility))
    company = fields.Field(attribute="company", column_name="company", widget=SlugWidget(models.Company))

    class Meta:
        model = models.FacilityCompany
        fields = ("facility", "company", "role")
        import_id_fields = ("facility", "company", "role")
        use_transactions = True
        clean_model_instances = True


class EvidenceResource(DatasetResource):
    """Evidence by source slug and target slug; offsets are recomputed from the quote on import.

    ``start`` and ``end`` are exported for reference but never imported: each row's quote is located in its
    source exactly as the loader does, ``occurrence`` (a whole number ≥ 1) picking one of several matches. A row
    with an empty ``id`` creates evidence; a row with an id updates that evidence, and an id that names no evidence
    is a row error (an import never chooses ids).

    ``values`` (a JSON object, optional) states, per listed field, the value the quote states, in the canonical form
    of :mod:`deals.coverage`; a listed field without one states the record's current value, and an updated row keeps
    the values it had for fields it still lists.
    """

    source = fields.Field(attribute="source", column_name="source", widget=SlugWidget(models.Source))
    deal = fields.Field(attribute="deal", column_name="deal", widget=SlugWidget(models.Deal))
    company = fields.Field(attribute="company", column_name="company", widget=SlugWidget(models.Company))
    facility = fields.Field(attribute="facility", column_name="facility", widget=SlugWidget(models.Facility))
    occurrence = fields.Field(column_name="occurrence", readonly=False)
    start = fields.Field(attribute="start", column_name="start", readonly=True)
    end = fields.Field(attribute="end", column_name="end", readonly=True)
    field_names = fields.Field(attribute="fields", column_name="fields", widget=JSONListWidget())
    values = fields.Field(attribute="values", column_name="values", widget=JSONObjectWidget())

    class Meta:
        model = models.Evidence
        fields = (
            "id",
            "source",
            "deal",
            "company",
            "facility",
            "quote",
            "occurrence",
            "start",
            "end",
            "field_names",
            "values",
            "note",
        )
        import_id_fields = ("id",)
        use_transactions = True
        clean_model_instances = True

    def before_import(self, dataset, **kwargs):
        # A batch of new quotes needs no id column; without one every row creates evidence.
        if "id" not in (dataset.headers or []):
            dataset.insert_col(0, col=[""] * len(dataset), header="id")
        super().before_import(dataset, **kwargs)

    def before_import_row(self, row, **kwargs):
        # An id names existing evidence to update. The library would turn "2.5" into 2, report "abc" as
        # "[<class 'decimal.ConversionSyntax'>]", and create new evidence under an unknown id; none of that is what
        # the editor meant.
        number = kwargs.get("row_number", "?")
        raw_id = _cell_text(row.get("id"))
        if raw_id:
            if not _WHOLE_NUMBER_RE.fullmatch(raw_id) or not value_is_valid_for(models.Evidence._meta.pk, raw_id):
                raise ValidationError(
                    {"id": f"Row {number}: id must be the whole-number id of existing evidence, not {raw_id[:20]!r}."}
                )
            if not models.Evidence.objects.filter(pk=int(raw_id)).exists():
                raise ValidationError(
                    {"id": f"Row {number}: no evidence with id {raw_id}; leave the id empty to add new evidence."}
                )
        super().before_import_row(row, **kwargs)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if not ({"source", "quote", "occurrence"} & errors.keys()):
            return super().validate_instance(instance, errors, validate_unique=validate_unique)
        # The quote could not be located, so there are no offsets: report that, not "start cannot be null" too.
        try:
            instance.full_clean(exclude={*errors, "start", "end"}, validate_unique=validate_unique)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        raise ValidationError(errors)

    def dehydrate_occurrence(self, evidence):
        return evidence_occurrence(evidence=evidence) if evidence.source_id else ""

    def import_instance(self, instance, row, **kwargs):
        errors: dict[str, list] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if "source" not in errors and instance.source_id and instance.quote:
            raw_occurrence = _cell_text(row.get("occurrence"))
            occurrence = None
            if raw_occurrence:
                # Whole numbers only: 2.7 is not "the second", and 1e999 or inf are not occurrences at all. "2.0" is
                # accepted because spreadsheets write whole numbers that way.
                match = _OCCURRENCE_RE.fullmatch(raw_occurrence)
                if match and int(match.group(1)) >= 1:
                    occurrence = int(match.group(1))
                else:
                    errors.setdefault("occurrence", []).append(
                        ValidationError(
                            f"Row {kwargs.get('row_number', '?')}: occurrence must be a whole number ≥ 1, "
                            f"not {raw_occurrence[:20]!r}."
                        )
                    )
            if "occurrence" not in errors:
                try:
                    location = evidence_quote_resolve(
                        source=instance.source, quote=instance.quote, occurrence=occurrence
                    )
                except ValidationError as exc:
                    errors.setdefault("quote", []).append(
                        ValidationError(f"Row {kwargs.get('row_number', '?')}: {' '.join(exc.messages)}")
                    )
                else:
                    instance.start, instance.end, instance.quote = location.start, location.end, location.quote
        target = next(
            (getattr(instance, name) for name in models.Evidence.TARGETS if getattr(instance, f"{name}_id")), None
        )
        if target is not None and isinstance(instance.fields, list) and "fields" not in errors:
            # A newly listed field states the record's current value; fields listed before keep the value they
            # stated (deals.coverage), exactly as in the admin.
            instance.values = evidence_values_take(
                record=target, fields=[f for f in instance.fields if isinstance(f, str)], previous=instance.values
            )
        if errors:
            raise ValidationError(errors)
