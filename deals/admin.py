"""The editors' admin: every dataset model with history (revert), CSV/JSON export and, where allowed, import.

Counts on changelists are annotated in ``get_queryset`` (one query per page, whatever the page size), related
records are chosen with autocomplete widgets, and every rule an editor can break is a form error: quotes are
located by :mod:`deals.forms` with the loader's own function, and the database constraints are validated by the
model forms before anything is written. Annotated querysets are ordered explicitly: a GROUP BY query drops the
model's default ordering, and the autocomplete views page through these querysets. Permissions come from the
``Editors`` group (see :func:`deals.editing.editors_group_ensure`).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied
from django.db import models as django_models
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ExportActionMixin, ImportExportMixin
from import_export.formats.base_formats import CSV, JSON
from simple_history.admin import SimpleHistoryAdmin

from deals import models, resources
from deals.editing import source_text_highlight
from deals.forms import (
    CompanyAdminForm,
    EvidenceAdminForm,
    EvidenceInlineFormSet,
    IdCheckingModelMultipleChoiceField,
    SourceAdminForm,
    value_is_valid_for,
)

admin.site.site_header = "ReexAPI editors"
admin.site.site_title = "ReexAPI editors"
admin.site.index_title = "Dataset"


class _KnownIdsOnly:
    """Autocomplete widgets render the chosen records by looking their ids up; a tampered, non-numeric id made that
    lookup raise ``ValueError`` (a 500) while the form was only trying to show "Select a valid choice". Values that
    cannot be an id are left out of the lookup; the field itself still reports them as invalid."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        to_field = remote.model._meta.get_field(getattr(remote, "field_name", None) or remote.model._meta.pk.name)
        return super().optgroups(name, [v for v in value if value_is_valid_for(to_field, v)], attr)


class SafeAutocompleteSelect(_KnownIdsOnly, AutocompleteSelect):
    """:class:`AutocompleteSelect` that renders a tampered id as "nothing chosen" instead of failing."""


class SafeAutocompleteSelectMultiple(_KnownIdsOnly, AutocompleteSelectMultiple):
    """:class:`AutocompleteSelectMultiple` that renders tampered ids as "nothing chosen" instead of failing."""


class SafeAutocompleteMixin:
    """Every autocomplete field of an admin or inline uses the safe widgets above, and every many-to-many field
    checks its ids before they reach a query."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        kwargs.setdefault("form_class", IdCheckingModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class SafeExportMixin:
    """Tampered or stale export requests get a message and the changelist, not a 500.

    - ``_selected_action`` values that are not ids (the "Export selected" action, or any other action);
    - changelist filters in the export URL that are not valid (``?announced_date__year=abc``): Django's changelist
      answers those with ``?e=1``, the library's export view let ``IncorrectLookupParameters`` through.
    """

    def _changelist_url(self) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")

    def response_action(self, request, queryset):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        bad = [value for value in selected if not value_is_valid_for(self.opts.pk, value)]
        if bad:
            self.message_user(
                request,
                f"The selection contains values that are not record ids ({', '.join(bad[:5])}); nothing was done. "
                "Select the records again.",
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    def export_action(self, request):
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            self.message_user(
                request,
                "The export's filters are not valid (for example a year that is not a number); nothing was exported. "
                "Choose the filters on the list again.",
                messages.ERROR,
            )
            return HttpResponseRedirect(self._changelist_url())


def count_column(attribute: str, description: str):
    """A sortable changelist column showing a count that ``CountedChangelistMixin.counts`` annotates."""

    @admin.display(description=description, ordering=attribute)
    def column(self, obj):
        return getattr(obj, attribute)

    return column


class CountedChangelistMixin:
    """Annotates ``counts`` (name → aggregate) on the admin's queryset, so count columns cost no query per row.

    The explicit ``order_by`` keeps the model's ordering: an annotated GROUP BY query would otherwise lose it.
    """

    counts: dict = {}

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.counts:
            queryset = queryset.order_by(*self.model._meta.ordering).annotate(**self.counts)
        return queryset


class DatasetAdmin(
    CountedChangelistMixin,
    SafeAutocompleteMixin,
    SafeExportMixin,
    ImportExportMixin,
    ExportActionMixin,
    SimpleHistoryAdmin,
):
    """History and revert (simple-history), "Export selected" as CSV or JSON, and import with a preview.

    Import needs both the add and change rights on the model; export needs the view right. Models whose admin
    sets ``importable = False`` only export.
    """

    formats = [CSV, JSON]
    importable = True
    # Editors see what is wrong with their file and which row, not a Python traceback.
    import_error_display = ("message", "row")
    import_template_name = "admin/deals/import.html"
    # The export button on the change form is one more submit button in an already long row; the changelist
    # action covers the same need.
    show_change_form_export = False
    list_per_page = 50
    # Django 6 makes https the default scheme for URLs typed without one; editors get it already.
    formfield_overrides = {django_models.URLField: {"assume_scheme": "https"}}

    def has_import_permission(self, request):
        opts = self.opts
        return (
            self.importable
            and request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")
            and request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
        )

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def save_model(self, request, obj, form, change):
        # simple-history stores a record's own fields, not its many-to-many lists (commodities, stages,
        # facilities); name the lists the editor changed in the change reason, so the history still says what.
        many = {field.name for field in obj._meta.many_to_many}
        changed = [name for name in form.changed_data if name in many]
        if changed:
            reason = "; ".join(
                f"{name}: {', '.join(str(getattr(item, 'slug', item)) for item in form.cleaned_data[name]) or '(none)'}"
                for name in changed
            )
            obj._change_reason = reason if len(reason) <= 100 else reason[:99] + "…"
        super().save_model(request, obj, form, change)

    def history_view(self, request, object_id, extra_context=None):
        # simple-history looks the id up unchecked: "abc" raised ValueError (a 500); it is simply no such record.
        if not value_is_valid_for(self.opts.pk, unquote(object_id)):
            raise Http404(f"No {self.opts.verbose_name} with id “{object_id}”.")
        return super().history_view(request, object_id, extra_context=extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        history_pk = self.model.history.model._meta.pk
        if not (value_is_valid_for(self.opts.pk, unquote(object_id)) and value_is_valid_for(history_pk, version_id)):
            raise Http404(f"No version “{version_id}” of {self.opts.verbose_name} “{object_id}”.")
        return super().history_form_view(request, object_id, version_id, extra_context=extra_context)

    def _import_url(self) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_import")

    def _import_confirm_problem(self, request) -> str | None:
        """What is wrong with a confirm request the library would crash on (its hidden fields were changed)."""
        form = self.create_confirm_form(request)
        if not form.is_valid():
            return None  # the library shows the form's errors itself
        index = form.cleaned_data["format"]
        if not (index.isascii() and index.isdigit() and int(index) < len(self.get_import_formats())):
            return f"The import format “{index[:20]}” is not one this page offers"
        index = form.cleaned_data.get("resource") or "0"
        if not (index.isascii() and index.isdigit() and int(index) < len(self.get_import_resource_classes(request))):
            return f"The import resource “{index[:20]}” is not one this page offers"
        return None

    def process_import(self, request, **kwargs):
        # The confirm step reads the file the preview stored, by the name in a hidden field, and deletes it
        # afterwards. Confirming twice (a double click, the back button) or after the file expired, or a form whose
        # hidden fields were changed, is reported with the import page, never a 500; nothing is written.
        if not self.has_import_permission(request):
            raise PermissionDenied
        problem = self._import_confirm_problem(request) if request.method == "POST" else None
        if problem is None:
            try:
                return super().process_import(request, **kwargs)
            except FileNotFoundError:
                problem = "This import was already confirmed, or its uploaded file has expired"
        messages.error(request, f"{problem}: nothing was imported. Upload the file again to import it.")
        return HttpResponseRedirect(self._import_url())

    def process_result(self, result, request):
        # The preview refuses a batch with a bad row, but the data can change between preview and confirm (another
        # editor saves the same quote). The resource then rolls the whole batch back; say so instead of the
        # library's "Import finished" message.
        if result.has_errors() or result.has_validation_errors():
            problems = [f"row {row.number}: {'; '.join(row.error.messages)}" for row in result.invalid_rows]
            problems += [f"row {number}: {errors[0].error}" for number, errors in result.row_errors()]
            problems += [str(error.error) for error in result.base_errors]
            messages.error(request, "Nothing was imported; the batch has errors: " + " | ".join(problems))
            return HttpResponseRedirect(self._import_url())
        return super().process_result(result, request)


def _admin_link(obj) -> str:
    if obj is None:
        return "–"
    url = reverse(f"admin:deals_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj)


class EvidenceInline(SafeAutocompleteMixin, admin.StackedInline):
    """Evidence for the record being edited: pick the source, paste the quote; offsets are found on save."""

    model = models.Evidence
    form = EvidenceAdminForm
    formset = EvidenceInlineFormSet
    fields = ["source", "quote", "occurrence", "fields", "note", "start", "end"]
    readonly_fields = ["start", "end"]
    autocomplete_fields = ["source"]
    extra = 1
    classes = ["evidence-inline"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source")


class DealPartyInline(SafeAutocompleteMixin, admin.TabularInline):
    """A deal's parties, each with its role; the same company may appear once per role."""

    model = models.DealParty
    fields = ["company", "role"]
    autocomplete_fields = ["company"]
    extra = 2

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("company")


class FacilityCompanyInline(SafeAutocompleteMixin, admin.TabularInline):
    """The companies at a facility, each with its role (on the facility page)."""

    model = models.FacilityCompany
    fields = ["company", "role"]
    autocomplete_fields = ["company"]
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("company")


class CompanyFacilityInline(FacilityCompanyInline):
    """The facilities a company is involved in (on the company page)."""

    fields = ["facility", "role"]
    autocomplete_fields = ["facility"]
    verbose_name = "facility"
    verbose_name_plural = "facilities"

    def get_queryset(self, request):
        return admin.TabularInline.get_queryset(self, request).select_related("facility")


@admin.register(models.Commodity)
class CommodityAdmin(DatasetAdmin):
    resource_classes = [resources.CommodityResource]
    list_display = ["name", "slug", "kind", "symbol", "parent", "deal_count", "facility_count"]
    list_filter = ["kind"]
    search_fields = ["name", "slug", "symbol"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["parent"]

    counts = {
        "deal_total": Count("deals", distinct=True),
        "facility_total": Count("facilities", distinct=True),
    }
    deal_count = count_column("deal_total", "deals")
    facility_count = count_column("facility_total", "facilities")


@admin.register(models.SupplyChainStage)
class SupplyChainStageAdmin(CountedChangelistMixin, SafeExportMixin, ExportActionMixin, admin.ModelAdmin):
    """A fixed vocabulary seeded by a migration: editors can read and export it, not change it."""

    resource_classes = [resources.SupplyChainStageResource]
    formats = [CSV, JSON]
    list_display = ["position", "name", "slug", "segment", "deal_count"]
    list_display_links = ["name"]
    list_filter = ["segment"]
    search_fields = ["name", "slug"]
    show_change_form_export = False

    counts = {
        "deal_total": Count("deals", distinct=True),
    }
    deal_count = count_column("deal_total", "deals")

    def has_export_permission(self, request):
        return self.has_view_permission(request)


@admin.register(models.Source)
class SourceAdmin(DatasetAdmin):
    """Sources: added by pasting or uploading the text, then read with every quote highlighted."""

    resource_classes = [resources.SourceResource]
    importable = False
    form = SourceAdminForm
    list_display = ["title", "slug", "kind", "publisher", "published_date", "evidence_count", "created"]
    list_filter = ["kind", "published_date_precision", "publisher"]
    search_fields = ["title", "slug", "publisher", "author", "url", "original_filename"]
    date_hierarchy = "published_date"
    prepopulated_fields = {"slug": ["title"]}
    metadata_fields = [
        "slug",
        "title",
        "kind",
        "publisher",
        "author",
        ("published_date", "published_date_precision"),
        "url",
        "original_filename",
    ]

    counts = {
        "evidence_total": Count("evidence", distinct=True),
    }
    evidence_count = count_column("evidence_total", "evidence")

    def get_prepopulated_fields(self, request, obj=None):
        return self.prepopulated_fields if obj is None else {}

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": self.metadata_fields}),
                (
                    "Text",
                    {
                        "fields": ["pasted_text", "upload"],
                        "description": "The text is normalised exactly as the dataset loader does it (mojibake "
                        "repaired, white space tidied) and cannot be changed once saved, because quotes point "
                        "into it.",
                    },
                ),
            ]
        # Reading comes first on the change page: the text, with what has been quoted from it so far.
        return [
            ("Text and quotes", {"fields": ["highlighted_text"]}),
            (None, {"fields": self.metadata_fields}),
            ("Digests", {"fields": ["raw_sha256", "text_sha256", "created", "updated"], "classes": ["collapse"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["highlighted_text", "raw_sha256", "text_sha256", "created", "updated"]

    @admin.display(description="Text (quotes highlighted; each links to the record it supports)")
    def highlighted_text(self, obj):
        return format_html(
            '<div class="source-text" style="white-space: pre-wrap; max-width: 60em; line-height: 1.5">{}</div>',
            source_text_highlight(source=obj),
        )


@admin.register(models.Company)
class CompanyAdmin(DatasetAdmin):
    resource_classes = [resources.CompanyResource]
    form = CompanyAdminForm
    list_display = ["name", "slug", "kind", "country", "locality", "deal_count", "evidence_count"]
    list_filter = ["kind", "country"]
    search_fields = ["name", "slug", "locality"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CompanyFacilityInline, EvidenceInline]

    counts = {
        "deal_total": Count("deal_links__deal", distinct=True),
        "evidence_total": Count("evidence", distinct=True),
    }
    deal_count = count_column("deal_total", "deals")
    evidence_count = count_column("evidence_total", "evidence")


@admin.register(models.Facility)
class FacilityAdmin(DatasetAdmin):
    resource_classes = [resources.FacilityResource]
    list_display = ["name", "slug", "kind", "status", "country", "planned_start", "company_count", "evidence_count"]
    list_filter = ["kind", "status", "country"]
    search_fields = ["name", "slug", "locality", "region"]
    date_hierarchy = "planned_start"
    autocomplete_fields = ["commodities"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [FacilityCompanyInline, EvidenceInline]
    fieldsets = [
        (None, {"fields": ["slug", "name", "kind", "status", "commodities", "description"]}),
        (
            "Location",
            {"fields": ["country", "region", "locality", ("latitude", "longitude"), "location_precision"]},
        ),
        (
            "Capacity and plans",
            {
                "fields": [
                    ("capacity_amount", "capacity_unit", "capacity_period", "capacity_qualifier"),
                    ("planned_start", "planned_start_precision"),
                    ("jobs", "jobs_qualifier"),
                    ("investment_amount", "investment_currency", "investment_amount_usd", "investment_qualifier"),
                ]
            },
        ),
    ]

    counts = {
        "company_total": Count("company_links__company", distinct=True),
        "evidence_total": Count("evidence", distinct=True),
    }
    company_count = count_column("company_total", "companies")
    evidence_count = count_column("evidence_total", "evidence")


@admin.register(models.Deal)
class DealAdmin(DatasetAdmin):
    resource_classes = [resources.DealResource]
    list_display = [
        "title",
        "slug",
        "deal_type",
        "status",
        "announced_date",
        "value",
        "party_count",
        "evidence_count",
    ]
    list_filter = ["deal_type", "status", "announced_date_precision", "stages", "commodities"]
    search_fields = ["title", "slug", "summary", "party_links__company__name"]
    date_hierarchy = "announced_date"
    autocomplete_fields = ["stages", "commodities", "facilities"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [DealPartyInline, EvidenceInline]
    fieldsets = [
        (None, {"fields": ["slug", "title", ("deal_type", "status"), "summary"]}),
        ("When", {"fields": [("announced_date", "announced_date_precision")]}),
        ("Value", {"fields": [("amount", "currency", "value_qualifier"), "amount_usd"]}),
        ("Scope", {"fields": ["stages", "commodities", "facilities", "countries"]}),
    ]

    counts = {
        "party_total": Count("party_links", distinct=True),
        "evidence_total": Count("evidence", distinct=True),
    }
    party_count = count_column("party_total", "parties")
    evidence_count = count_column("evidence_total", "evidence")

    @admin.display(description="value", ordering="amount_usd")
    def value(self, obj):
        if obj.amount is None:
            return "–"
        return f"{obj.get_value_qualifier_display() + ' ' if obj.value_qualifier not in ('', 'exact') else ''}" + (
            f"{obj.amount:,.0f} {obj.currency}"
        )


@admin.register(models.DealParty)
class DealPartyAdmin(DatasetAdmin):
    resource_classes = [resources.DealPartyResource]
    list_display = ["deal", "company", "role"]
    list_filter = ["role"]
    search_fields = ["deal__title", "deal__slug", "company__name", "company__slug"]
    autocomplete_fields = ["deal", "company"]
    list_select_related = ["deal", "company"]


@admin.register(models.FacilityCompany)
class FacilityCompanyAdmin(DatasetAdmin):
    resource_classes = [resources.FacilityCompanyResource]
    list_display = ["facility", "company", "role"]
    list_filter = ["role"]
    search_fields = ["facility__name", "facility__slug", "company__name", "company__slug"]
    autocomplete_fields = ["facility", "company"]
    list_select_related = ["facility", "company"]


class EvidenceTargetFilter(admin.SimpleListFilter):
    """Which kind of record the evidence supports."""

    title = "supports"
    parameter_name = "target"

    def lookups(self, request, model_admin):
        return [(name, name) for name in models.Evidence.TARGETS]

    def queryset(self, request, queryset):
        if self.value() in models.Evidence.TARGETS:
            return queryset.filter(**{f"{self.value()}__isnull": False})
        return queryset


@admin.register(models.Evidence)
class EvidenceAdmin(DatasetAdmin):
    """Evidence rows; the quote is pasted and located in the source, offsets are read-only."""

    resource_classes = [resources.EvidenceResource]
    form = EvidenceAdminForm
    list_display = ["short_quote", "source", "supports", "field_list", "start"]
    list_filter = [EvidenceTargetFilter, "source__kind"]
    search_fields = ["quote", "note", "source__slug", "source__title", "deal__title", "company__name", "facility__name"]
    autocomplete_fields = ["source", "deal", "company", "facility"]
    list_select_related = ["source", "deal", "company", "facility"]
    fieldsets = [
        (None, {"fields": ["source", "quote", "occurrence", "fields", "note"]}),
        (
            "Supports (exactly one)",
            {"fields": ["deal", "company", "facility"]},
        ),
        ("Offsets (found from the quote)", {"fields": ["start", "end"]}),
    ]
    readonly_fields = ["start", "end"]

    @admin.display(description="quote", ordering="quote")
    def short_quote(self, obj):
        return obj.quote if len(obj.quote) <= 90 else obj.quote[:87] + "…"

    @admin.display(description="supports")
    def supports(self, obj):
        return format_html("{}: {}", obj.target_label, _admin_link(obj.target))

    @admin.display(description="fields")
    def field_list(self, obj):
        return ", ".join(obj.fields or [])
