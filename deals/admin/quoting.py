"""Quoting from a source's page: select a passage, then quote it for an existing record or start a new one.

- :class:`SourceQuotingAdminMixin` (on the source admin) adds the "Quote this for…" panel to the change page, the
  suggested passages, and the small POST view the panel submits to. The view is a thin wrapper around
  :mod:`deals.services.quoting`.
- :class:`StartedFromSourceAdminMixin` (on the deal, company and facility admins) returns the editor to the source
  after a record started from it is added.
- :func:`evidence_prefill_formset` is the hook :class:`deals.admin.inlines.EvidenceInline` calls: on an add page
  opened from a source, the evidence rows' source is that source, and the first row holds the selected passage.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from deals import models
from deals.admin.base import SafeAutocompleteSelect
from deals.forms import field_choices
from deals.selectors.quoting import source_fact_suggestions
from deals.services.quoting import (
    QUOTE_TARGETS,
    evidence_create_from_selection,
    evidence_prefill,
    quote_fields_check,
    quote_fields_labels,
    selection_check,
)

# Query parameters of an add page started from a source (leading underscore: the admin ignores them as filters
# and as initial values of the record's own fields).
SOURCE_PARAM, START_PARAM, END_PARAM, FIELDS_PARAM = "_quote_source", "_quote_start", "_quote_end", "_quote_fields"
# A new company's or facility's name is prefilled from the passage when it is this short and "name" is ticked.
_NAME_PREFILL_MAX = 120


class QuoteSelectionForm(forms.Form):
    """The "Quote this for…" panel: what the selection is quoted for, and the fields it states.

    Only rendered; the view reads the POST itself and lets the service check it, so that every problem (a record
    that is gone included) gets the service's own message rather than a generic "Select a valid choice".
    """

    start = forms.IntegerField(widget=forms.HiddenInput, help_text="First character of the selection.")
    end = forms.IntegerField(widget=forms.HiddenInput, help_text="Just past the selection's last character.")
    target = forms.ChoiceField(
        choices=[(name, model._meta.verbose_name) for name, model in QUOTE_TARGETS.items()],
        initial="deal",
        widget=forms.RadioSelect,
        label="Quote this for a",
        help_text="The kind of record the passage supports.",
    )
    note = forms.CharField(required=False, help_text="Only if not obvious: how the passage supports the fields.")

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        for name, model in QUOTE_TARGETS.items():
            self.fields[name] = forms.ModelChoiceField(
                queryset=model._default_manager.none(),
                required=False,
                label=f"Existing {model._meta.verbose_name}",
                help_text=f"Type to find the {model._meta.verbose_name}; leave empty to start a new one.",
                widget=SafeAutocompleteSelect(models.Evidence._meta.get_field(name), admin_site),
            )
            self.fields[f"fields_{name}"] = forms.MultipleChoiceField(
                choices=field_choices(model=model),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                label="Fields the passage states",
                help_text="Tick every field of the record this passage states.",
            )


def _add_url(*, target: str, source: models.Source, selection, fields: list[str]) -> str:
    params = {SOURCE_PARAM: source.pk, START_PARAM: selection.start, END_PARAM: selection.end}
    if fields:
        params[FIELDS_PARAM] = ",".join(fields)
    if target in ("company", "facility") and "name" in fields and len(selection.quote) <= _NAME_PREFILL_MAX:
        params["name"] = selection.quote
    return reverse(f"admin:deals_{target}_add") + "?" + urlencode(params)


class SourceQuotingAdminMixin:
    """The quoting panel and suggestions on the source change page, and the view the panel posts to."""

    change_form_template = "admin/deals/source/change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.quote_view))
        return [path("<path:object_id>/quote/", view, name="deals_source_quote"), *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            panel = QuoteSelectionForm(admin_site=self.admin_site, prefix="quote")
            context["quote_form"] = panel
            context["quote_url"] = reverse("admin:deals_source_quote", args=[obj.pk])
            # A record started from the source without a passage: its evidence rows' source is this one.
            context["quote_start_links"] = [
                {
                    "name": model._meta.verbose_name,
                    "url": reverse(f"admin:deals_{name}_add") + "?" + urlencode({SOURCE_PARAM: obj.pk}),
                }
                for name, model in QUOTE_TARGETS.items()
                if request.user.has_perm(f"deals.add_{name}")
            ]
            context["media"] = (
                context["media"]
                + panel.media
                + forms.Media(js=["deals/admin/quote.js"], css={"all": ["deals/admin/quote.css"]})
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    @admin.display(description="Suggested passages (sentences with amounts, dates, quantities or known names)")
    def suggested_passages(self, obj):
        suggestions = source_fact_suggestions(source=obj)
        if not suggestions:
            return "None: every sentence that looks like a fact is quoted."
        return format_html(
            '<ol class="quote-suggestions">{}</ol>',
            format_html_join(
                "",
                '<li><button type="button" class="button quote-suggestion" data-start="{}" data-end="{}">Quote'
                '</button> <span class="quote-suggestion-text">{}</span> <small class="quote-suggestion-why">{}'
                "</small></li>",
                ((s.start, s.end, s.text, "; ".join(s.reasons)) for s in suggestions),
            ),
        )

    def quote_view(self, request, object_id):
        """Thin: check rights, hand the selection to the service, say what happened.

        A plain form POST (no JavaScript) is answered with a message and a redirect: back to the source, or to
        the add page of a new record. The panel's script asks for JSON (``Accept: application/json``) and gets
        201 with the created evidence, 200 with the add page's address for a new record, or 400/403/404 with
        the same message, so quoting for an existing record needs no page load.
        """
        wants_json = _wants_json(request)
        source = self.get_object(request, unquote(object_id))
        if source is None:
            message = f"No source with id “{object_id[:20]}”: it may have been deleted."
            if wants_json:
                return JsonResponse({"error": message}, status=404)
            messages.error(request, message)
            return HttpResponseRedirect(reverse("admin:deals_source_changelist"))
        back = reverse("admin:deals_source_change", args=[source.pk])
        post = request.POST
        target = post.get("quote-target", "")
        fields = post.getlist(f"quote-fields_{target}")
        record_id = post.get(f"quote-{target}", "").strip()
        try:
            if not self.has_view_permission(request, source):
                raise PermissionDenied
            names = quote_fields_check(target=target, fields=fields)
            model = QUOTE_TARGETS[target]
            action = "change" if record_id else "add"
            if not (
                request.user.has_perm("deals.add_evidence")
                and request.user.has_perm(f"deals.{action}_{model._meta.model_name}")
            ):
                raise PermissionDenied
            if not record_id:
                selection = selection_check(source=source, start=post.get("quote-start"), end=post.get("quote-end"))
                add_url = _add_url(target=target, source=source, selection=selection, fields=names)
                if wants_json:
                    return JsonResponse({"add_url": add_url})
                return HttpResponseRedirect(add_url)
            evidence = evidence_create_from_selection(
                source=source,
                start=post.get("quote-start"),
                end=post.get("quote-end"),
                target=target,
                record_id=record_id,
                fields=names,
                note=post.get("quote-note", ""),
            )
        except PermissionDenied:
            if wants_json:
                return JsonResponse(
                    {"error": "You may not add this quote: ask an administrator for the right."}, status=403
                )
            raise
        except ValidationError as exc:
            message = "Nothing was quoted: " + " ".join(exc.messages)
            if wants_json:
                return JsonResponse({"error": message}, status=400)
            messages.error(request, message)
            return HttpResponseRedirect(back)
        record_url = reverse(f"admin:deals_{target}_change", args=[evidence.target.pk])
        labels = quote_fields_labels(target=target, fields=evidence.fields)
        short = evidence.quote if len(evidence.quote) <= 80 else evidence.quote[:79] + "…"
        kind = model._meta.verbose_name
        if wants_json:
            return JsonResponse(
                {
                    "id": evidence.pk,
                    "record": {
                        "type": target,
                        "id": evidence.target.pk,
                        "label": str(evidence.target),
                        "url": record_url,
                    },
                    "fields": evidence.fields,
                    "start": evidence.start,
                    "end": evidence.end,
                    "quote": evidence.quote,
                    "message": f"Quoted “{short}” for the {kind} {evidence.target} (fields: {labels}).",
                },
                status=201,
            )
        messages.success(
            request,
            format_html(
                'Quoted “{}” for the {} <a href="{}">{}</a> (fields: {}).',
                short,
                kind,
                record_url,
                evidence.target,
                labels,
            ),
        )
        return HttpResponseRedirect(back)


def _wants_json(request) -> bool:
    """The panel's script asks for JSON; a browser's plain form POST accepts HTML first."""
    return request.accepts("application/json") and not request.accepts("text/html")


def _started_from(request) -> models.Source | None:
    value = request.GET.get(SOURCE_PARAM, "")
    if not (value.isascii() and value.isdigit()):
        return None
    return models.Source.objects.filter(pk=int(value)).first()


class StartedFromSourceAdminMixin:
    """A record added from a source's page goes back to that source once saved, to quote the next passage."""

    def response_add(self, request, obj, post_url_continue=None):
        source = _started_from(request)
        if source is None or "_continue" in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        messages.success(
            request,
            format_html(
                "The {} “{}” was added. Select the next passage of “{}” to quote it.",
                obj._meta.verbose_name,
                obj,
                source.title,
            ),
        )
        return HttpResponseRedirect(reverse("admin:deals_source_change", args=[source.pk]))


def evidence_prefill_formset(*, formset: type, request, obj, record_model: type) -> type:
    """``formset`` with its rows prefilled when an add page was opened from a source (``?_quote_source=…``).

    On the page as first shown, the first row holds the selected passage (quote, occurrence, ticked fields) and
    every row has the source. When the page is posted, the rows keep only the source as their initial value, so
    the passage's row counts as filled in (and is saved) while a row the editor left untouched stays blank.
    A selection that does not check out (out of range, unknown fields) is dropped with a message; the page opens.
    """
    source = _started_from(request) if obj is None else None
    if source is None:
        return formset
    source_only = {"source": source.pk}
    rows = [source_only] * formset.absolute_max
    extra = formset.extra
    if request.method == "GET" and START_PARAM in request.GET:
        try:
            selection = selection_check(
                source=source, start=request.GET.get(START_PARAM), end=request.GET.get(END_PARAM)
            )
            target = record_model._meta.model_name
            fields = [f for f in request.GET.get(FIELDS_PARAM, "").split(",") if f]
            fields = quote_fields_check(target=target, fields=fields)
        except ValidationError as exc:
            messages.error(request, "The selected passage was not prefilled: " + " ".join(exc.messages))
        else:
            rows = [evidence_prefill(selection=selection, source=source, fields=fields), *rows]
            extra = max(extra, 2)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", rows)
        formset.__init__(self, *args, **kwargs)

    return type(formset.__name__, (formset,), {"__init__": __init__, "extra": extra})
