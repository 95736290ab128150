"""Admin of dataset releases: read-only. A release is made by ``manage.py dataset_release`` and never changes, so
nobody adds, changes or deletes one here; the admin lists releases and their files (without the bytes, which
download from the API)."""

from __future__ import annotations

from django.contrib import admin

from deals import models


class ReadOnlyAdminMixin:
    """No add, change or delete, whoever asks (superusers included): only viewing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReleaseFileInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = models.ReleaseFile
    fields = ["position", "name", "media_type", "size", "sha256"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")


@admin.register(models.DatasetRelease)
class DatasetReleaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["version", "number", "created", "dataset_sha256"]
    fields = ["version", "number", "created", "dataset_sha256", "metadata"]
    readonly_fields = fields
    inlines = [ReleaseFileInline]
    actions = None
