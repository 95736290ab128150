"""Shared admin building blocks: safe autocomplete widgets, export mixins, count columns and ``DatasetAdmin``."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied
from django.db import models as django_models
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from import_export.admin import ExportActionMixin, ImportExportMixin
from import_export.formats.base_formats import CSV, JSON
from simple_history.admin import SimpleHistoryAdmin

from deals.admin.countries import CountryPickerAdminMixin
from deals.admin.history import RelationsHistoryMixin
from deals.forms import (
    IdCheckingModelMultipleChoiceField,
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
    CountryPickerAdminMixin,
    CountedChangelistMixin,
    SafeAutocompleteMixin,
    SafeExportMixin,
    ImportExportMixin,
    ExportActionMixin,
    RelationsHistoryMixin,
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
