"""History pages that show and revert relations: parties and links with roles, lists and evidence.

simple-history's admin shows a version's own fields and reverts only those; :class:`RelationsHistoryMixin` adds
the relations each version records (deals/history.py) to the history list, shows them on the revert page, and
restores them on revert (:func:`deals.services.history.record_relations_restore`). Every save, delete, action and
revert runs in :func:`deals.history.history_deferred`, so it writes one version per changed record, after its
inlines are saved, naming the editor.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404

from deals.history import RELATIONS, history_deferred, relations_changes
from deals.services.history import record_relations_restore


class RelationsHistoryMixin:
    """For a :class:`simple_history.admin.SimpleHistoryAdmin`: one version per save, relations in the history."""

    object_history_list_template = "admin/deals/history_list.html"
    object_history_form_template = "admin/deals/history_form.html"

    def _tracks_relations(self) -> bool:
        return self.model._meta.label in RELATIONS

    # One version per changed record, for every write the admin makes (reads need no scope).
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        with history_deferred():
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if request.method != "POST":
            return super().delete_view(request, object_id, extra_context)
        with history_deferred():
            return super().delete_view(request, object_id, extra_context)

    def response_action(self, request, queryset):
        with history_deferred():
            return super().response_action(request, queryset)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        request._reexapi_saved = obj

    # The history list: what changed in the relations, per version.
    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)
        if not self._tracks_relations():
            return
        records = list(historical_records)
        # The oldest version on this page is compared with its predecessor on the next page, if it has one.
        last = records[-1].prev_record if records else None
        for record, older in zip(records, [*records[1:], last], strict=True):
            record.relations_changes = relations_changes(
                old=older.history_relations if older is not None else None, new=record.history_relations
            )

    # The revert page: the version's lists in the form, its links and evidence listed; all restored on revert.
    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        version = getattr(request, "_reexapi_history_version", None)
        if version is None or not version.history_relations:
            return form_class
        initial = {
            name: [row["id"] for row in version.history_relations.get(name, [])]
            for name in RELATIONS[self.model._meta.label]["m2m"]
            if name in form_class.base_fields
        }

        class VersionForm(form_class):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.initial.update(initial)

        return VersionForm

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not self._tracks_relations():
            return super().history_form_view(request, object_id, version_id, extra_context)
        version = get_object_or_404(
            self.model.history.model, **{self.opts.pk.attname: object_id, "history_id": version_id}
        )
        request._reexapi_history_version = version
        extra_context = {
            **(extra_context or {}),
            "version_relations": relations_changes(old=None, new=version.history_relations),
            "version_relations_recorded": bool(version.history_relations),
        }
        try:
            with history_deferred():
                response = super().history_form_view(request, object_id, version_id, extra_context)
                saved = getattr(request, "_reexapi_saved", None)
                if request.method == "POST" and saved is not None:
                    # The form restored the version's own fields and lists; the links and evidence follow.
                    notes = record_relations_restore(record=saved, version=version, m2m=False)
                    saved._change_reason = f"reverted to the version of {version.history_date:%Y-%m-%d %H:%M:%S} UTC"
                    for note in notes:
                        self.message_user(request, note, messages.WARNING)
        except ValidationError as exc:
            self.message_user(
                request,
                "Nothing was reverted: this version's evidence no longer verifies: " + "; ".join(exc.messages),
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
        return response
