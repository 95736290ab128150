"""Publish, withdraw and merge in the admin: changelist actions and buttons on the change page.

Thin wrappers over :mod:`deals.services.publication`; they need the model's ``publish_<model>`` permission (the
Editors group holds it). The lifecycle columns are read-only in the forms, so only these views change them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from deals.models import PUBLICATION_FIELDS, PublicationStatus
from deals.services.duplicates import record_admin_link
from deals.services.publication import (
    PublicationError,
    record_merge,
    record_publication_problems,
    record_publish,
    record_withdraw,
    slug_taken_by_rename,
)

TEMPLATE = "admin/deals/publication_action.html"


class WithdrawForm(forms.Form):
    """The reason for a withdrawal: the API's 410 answer shows it to everyone."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
        help_text="Public: the record's API URL answers 410 Gone with this reason and the date.",
    )


class MergeForm(forms.Form):
    """The record a duplicate is merged into."""

    survivor = forms.ModelChoiceField(
        queryset=None,
        label="Merge into",
        help_text="The record this one duplicates. Its evidence and links move there; this URL then answers 301.",
    )

    def __init__(self, *args, duplicate, **kwargs):
        super().__init__(*args, **kwargs)
        model = type(duplicate)
        self.fields["survivor"].queryset = (
            model.objects.exclude(pk=duplicate.pk)
            .exclude(publication_status=PublicationStatus.WITHDRAWN)
            .order_by(*model._meta.ordering)
        )
        self.fields["survivor"].label_from_instance = lambda record: f"{record} ({record.slug})"


def _problems_text(error: PublicationError) -> str:
    return " ".join(error.messages)


class PublicationAdminMixin:
    """Adds the lifecycle to a :class:`deals.admin.base.DatasetAdmin`: a status column and filter, the publish,
    withdraw and merge actions, and the same three as buttons on the change page."""

    change_form_template = "admin/deals/publication_change_form.html"
    publication_readonly = ("publication_status", "published_at", "withdrawn_at", "withdrawn_reason", "merged_into")
    actions = ["publish_selected", "withdraw_selected", "merge_selected"]

    # --- configuration --------------------------------------------------------------------------------------

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.publication_readonly]

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        # Without declared fieldsets Django puts every field (the read-only lifecycle ones too) in one set.
        fieldsets = [
            (name, {**opts, "fields": [f for f in opts["fields"] if f not in PUBLICATION_FIELDS]})
            for name, opts in fieldsets
        ]
        if obj is not None:
            fieldsets.append(("Publication", {"fields": list(self.publication_readonly)}))
        return fieldsets

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        model = self.model

        class SlugCheckedForm(form_class):
            """Refuses a slug whose old URL still redirects to another record (after that record's rename)."""

            def clean(self):
                cleaned = super().clean()
                slug = cleaned.get("slug")
                taken = slug and slug_taken_by_rename(model=model, slug=slug, exclude_pk=self.instance.pk)
                if taken:
                    self.add_error(
                        "slug",
                        format_html(
                            "“{}” is the old slug of {}, and its API URL redirects there; choose another slug.",
                            slug,
                            record_admin_link(record=taken),
                        ),
                    )
                return cleaned

        return SlugCheckedForm

    def get_list_display(self, request):
        return [*super().get_list_display(request), "publication_status"]

    def get_list_filter(self, request):
        return [*super().get_list_filter(request), "publication_status"]

    def has_publish_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.publish_{self.opts.model_name}")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_publish_permission(request):
            for name in ("publish_selected", "withdraw_selected", "merge_selected"):
                actions.pop(name, None)
        return actions

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/publish/", wrap(self.publish_view), name=f"{prefix}_publish"),
            path("<path:object_id>/withdraw/", wrap(self.withdraw_view), name=f"{prefix}_withdraw"),
            path("<path:object_id>/merge/", wrap(self.merge_view), name=f"{prefix}_merge"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_publish"] = obj is not None and self.has_publish_permission(request)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    # --- helpers --------------------------------------------------------------------------------------------

    def _change_url(self, record) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[record.pk])

    def _record_or_404(self, request, object_id):
        if not self.has_publish_permission(request):
            raise PermissionDenied
        record = self.get_object(request, unquote(object_id))
        if record is None:
            raise Http404(f"No {self.opts.verbose_name} with id “{object_id}”.")
        return record

    def _page(self, request, *, record, title: str, form=None, problems=(), submit: str, selected=(), action=""):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "record": record,
            "form": form,
            "problems": problems,
            "submit": submit,
            "selected": selected,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "change_url": self._change_url(record) if record is not None else "",
        }
        return TemplateResponse(request, TEMPLATE, context)

    # --- change-page buttons --------------------------------------------------------------------------------

    def publish_view(self, request, object_id):
        """GET: what publishing needs (each missing piece named) or a confirmation; POST: publish."""
        record = self._record_or_404(request, object_id)
        if request.method == "POST":
            try:
                record_publish(record=record)
            except PublicationError as error:
                self.message_user(request, f"“{record}” was not published: {_problems_text(error)}", messages.ERROR)
            else:
                self.message_user(request, f"“{record}” is published.", messages.SUCCESS)
            return HttpResponseRedirect(self._change_url(record))
        problems = record_publication_problems(record=record)
        return self._page(
            request,
            record=record,
            title=f"Publish {self.opts.verbose_name} “{record}”",
            problems=problems,
            submit="" if problems else "Publish",
        )

    def withdraw_view(self, request, object_id):
        """GET: the reason form; POST: withdraw (the API then answers 410 with the reason)."""
        record = self._record_or_404(request, object_id)
        form = WithdrawForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                record_withdraw(record=record, reason=form.cleaned_data["reason"])
            except PublicationError as error:
                self.message_user(request, f"“{record}” was not withdrawn: {_problems_text(error)}", messages.ERROR)
            else:
                self.message_user(request, f"“{record}” is withdrawn; its API URL answers 410.", messages.SUCCESS)
            return HttpResponseRedirect(self._change_url(record))
        return self._page(
            request, record=record, title=f"Withdraw {self.opts.verbose_name} “{record}”", form=form, submit="Withdraw"
        )

    def merge_view(self, request, object_id):
        """GET: choose the record this one duplicates; POST: merge (this URL then answers 301 there)."""
        duplicate = self._record_or_404(request, object_id)
        form = MergeForm(request.POST or None, duplicate=duplicate)
        if request.method == "POST" and form.is_valid():
            survivor = form.cleaned_data["survivor"]
            try:
                record_merge(duplicate=duplicate, survivor=survivor)
            except PublicationError as error:
                self.message_user(request, f"Not merged: {_problems_text(error)}", messages.ERROR)
                return HttpResponseRedirect(self._change_url(duplicate))
            self.message_user(
                request,
                format_html(
                    '“{}” was merged into <a href="{}">“{}”</a>; its evidence and links moved there.',
                    duplicate,
                    self._change_url(survivor),
                    survivor,
                ),
                messages.SUCCESS,
            )
            return HttpResponseRedirect(self._change_url(survivor))
        return self._page(
            request,
            record=duplicate,
            title=f"Merge {self.opts.verbose_name} “{duplicate}” into the record it duplicates",
            form=form,
            submit="Merge",
        )

    # --- changelist actions ---------------------------------------------------------------------------------

    @admin.action(description="Publish the selected records (their evidence is checked first)")
    def publish_selected(self, request, queryset):
        if not self.has_publish_permission(request):
            raise PermissionDenied
        published = 0
        for record in queryset:
            try:
                record_publish(record=record)
            except PublicationError as error:
                self.message_user(request, f"“{record}” was not published: {_problems_text(error)}", messages.ERROR)
            else:
                published += 1
        if published:
            self.message_user(request, f"{published} record(s) published.", messages.SUCCESS)

    @admin.action(description="Withdraw the selected records (asks for the reason)")
    def withdraw_selected(self, request, queryset):
        if not self.has_publish_permission(request):
            raise PermissionDenied
        form = WithdrawForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            withdrawn = 0
            for record in queryset:
                try:
                    record_withdraw(record=record, reason=form.cleaned_data["reason"])
                except PublicationError as error:
                    self.message_user(request, f"“{record}”: {_problems_text(error)}", messages.ERROR)
                else:
                    withdrawn += 1
            if withdrawn:
                self.message_user(request, f"{withdrawn} record(s) withdrawn.", messages.SUCCESS)
            return None
        return self._page(
            request,
            record=None,
            title=f"Withdraw {queryset.count()} {self.opts.verbose_name_plural}",
            form=form,
            submit="Withdraw",
            selected=list(queryset),
            action="withdraw_selected",
        )

    @admin.action(description="Merge the selected record into the record it duplicates")
    def merge_selected(self, request, queryset):
        if not self.has_publish_permission(request):
            raise PermissionDenied
        records = list(queryset[:2])
        if len(records) != 1:
            self.message_user(request, "Select exactly one record (the duplicate) to merge.", messages.ERROR)
            return None
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_merge", args=[records[0].pk])
        )
