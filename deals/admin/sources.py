"""The source admin: paste or upload a document, and read it with its quotes highlighted."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html

from deals import models, resources
from deals.admin.base import DatasetAdmin, count_column
from deals.admin.quoting import SourceQuotingAdminMixin
from deals.editing import source_text_highlight
from deals.forms import (
    SourceAdminForm,
)


@admin.register(models.Source)
class SourceAdmin(SourceQuotingAdminMixin, DatasetAdmin):
    """Sources: added by pasting or uploading the text, then read with every quote highlighted."""

    resource_classes = [resources.SourceResource]
    importable = False
    form = SourceAdminForm
    list_display = ["title", "slug", "kind", "publisher", "published_date", "evidence_count", "created"]
    list_filter = ["kind", "redistribution_licensed", "published_date_precision", "publisher"]
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
        "redistribution_licensed",
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
            (
                "Text and quotes",
                {
                    "fields": ["highlighted_text", "suggested_passages"],
                    "description": "Select a passage of the text to quote it for a deal, a company or a facility, "
                    "or start one with it; or quote a suggested passage.",
                },
            ),
            (None, {"fields": self.metadata_fields}),
            ("Digests", {"fields": ["raw_sha256", "text_sha256", "created", "updated"], "classes": ["collapse"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["highlighted_text", "suggested_passages", "raw_sha256", "text_sha256", "created", "updated"]

    @admin.display(description="Text (quotes highlighted; each links to the record it supports)")
    def highlighted_text(self, obj):
        return format_html(
            '<div class="source-text" data-length="{}" style="white-space: pre-wrap; max-width: 60em; '
            'line-height: 1.5">{}</div>',
            len(obj.text),
            source_text_highlight(source=obj),
        )
