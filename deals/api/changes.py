"""The change feed (``/api/v1/changes/``) and the records' public history (``/api/v1/<resource>/<slug>/history/``).

Both read :class:`~deals.models.ChangeEntry` (deals/changes.py writes one with every public change, in the same
transaction). The feed is keyset-paged by the entries' global sequence number: ``since`` is the last number a client
has seen, ``next`` resumes after the page. The history is each version's changed fields with old and new values.
"""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed, ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from deals.api import schema as docs
from deals.api import schema_examples as examples
from deals.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, StrictPageNumberPagination, _positive_int
from deals.api.publication import GONE_RESPONSE, MOVED_RESPONSE
from deals.api.query import query_params_check
from deals.api.renderers_json import FastJSONRenderer
from deals.changes import RESOURCES
from deals.models import ChangeAction
from deals.selectors.changes import (
    change_latest_sequence,
    change_list,
    record_history_entries,
    record_history_versions,
)

FEED_PAGE_SIZE = 100
FEED_MAX_PAGE_SIZE = 1000
# URL basenames of the feed's resources (deals/api/urls.py).
_BASENAMES = {"deals": "deal", "companies": "company", "facilities": "facility"}
_MAX_CURSOR = 2**63 - 1


def _record_url(*, request, resource: str, slug: str) -> str:
    return request.build_absolute_uri(reverse(f"api:{_BASENAMES[resource]}-detail", kwargs={"slug": slug}))


class ChangeTargetSerializer(serializers.Serializer):
    """The survivor a record was merged into."""

    slug = serializers.CharField(help_text="The survivor's slug when the merge was made.")
    url = serializers.URLField(help_text="The survivor's API URL.")


class ChangeEntrySerializer(serializers.Serializer):
    """One change to a public record. Withdrawn and merged records appear as tombstones: the action, and the
    public reason, no data."""

    sequence = serializers.IntegerField(
        help_text="Global, strictly increasing number of the change; pass the last one seen as `since`."
    )
    time = serializers.DateTimeField(help_text="When the change was made (ISO 8601, UTC).")
    resource = serializers.ChoiceField(choices=list(_BASENAMES), help_text="The kind of record.")
    slug = serializers.CharField(help_text="The record's slug after the change.")
    url = serializers.SerializerMethodField(
        help_text="The record's API URL (a withdrawn record's answers 410, a merged one's 301 to the survivor)."
    )
    action = serializers.ChoiceField(
        choices=ChangeAction.choices,
        help_text="created: became public (a draft published, a withdrawn record reinstated, a fixture load); "
        "updated: public fields changed; renamed: the slug changed (the old URL redirects; see `renamed_from`); "
        "withdrawn: no longer public (tombstone); merged: merged into another record (tombstone; see "
        "`merged_into`).",
    )
    fields = serializers.ListField(
        child=serializers.CharField(),
        help_text="API names of the fields that changed (updated, renamed); relations and evidence count as "
        "fields (`parties`, `companies`, `facilities`, `deals`, `commodities`, `stages`, `evidence`). Empty for "
        "created, withdrawn and merged.",
    )
    renamed_from = serializers.SerializerMethodField(help_text="Renamed: the slug before; otherwise null.")
    merged_into = serializers.SerializerMethodField(help_text="Merged: the survivor; otherwise null.")
    reason = serializers.SerializerMethodField(
        help_text="Withdrawn or merged: the public reason (as the 410 answer states it); otherwise null."
    )

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, entry) -> str:
        return _record_url(request=self.context["request"], resource=entry.resource, slug=entry.slug)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_renamed_from(self, entry):
        return entry.previous_slug or None

    @extend_schema_field(ChangeTargetSerializer(allow_null=True))
    def get_merged_into(self, entry):
        if entry.action != ChangeAction.MERGED:
            return None
        url = _record_url(request=self.context["request"], resource=entry.resource, slug=entry.merged_into_slug)
        return {"slug": entry.merged_into_slug, "url": url}

    @extend_schema_field({"type": "string", "nullable": True})
    def get_reason(self, entry):
        if entry.action not in (ChangeAction.WITHDRAWN, ChangeAction.MERGED):
            return None
        return entry.reason or None


class ChangeFeedSerializer(serializers.Serializer):
    """One page of the change feed."""

    since = serializers.IntegerField(help_text="The cursor this page starts after (0: the beginning).")
    cursor = serializers.IntegerField(
        help_text="The cursor to store and pass as `since` next time: the last entry's sequence number, or `since` "
        "itself when the page is empty."
    )
    latest = serializers.IntegerField(
        help_text="The highest sequence number in the feed now (0 when empty). A stored cursor above it means the "
        "database was rebuilt: start again from 0."
    )
    next = serializers.URLField(
        help_text='URL of the next page (the same as the `Link: rel="next"` header); never null, since new '
        "changes may arrive: poll it."
    )
    results = ChangeEntrySerializer(many=True, help_text="The changes after `since`, oldest first.")


SINCE_PARAMETER = OpenApiParameter(
    name="since",
    type={"type": "integer", "minimum": 0, "maximum": _MAX_CURSOR},
    required=False,
    description="Cursor: the `sequence` of the last change already seen (or the `cursor` of the last page); only "
    "later changes are listed. 0 or absent: from the beginning. A negative or non-integer value is a 400; a value "
    "above `latest` (the database was rebuilt) gives an empty page.",
)
FEED_PAGE_SIZE_PARAMETER = OpenApiParameter(
    name="page_size",
    type={"type": "integer", "minimum": 1, "maximum": FEED_MAX_PAGE_SIZE, "default": FEED_PAGE_SIZE},
    required=False,
    description=f"Changes per page: default {FEED_PAGE_SIZE}, at most {FEED_MAX_PAGE_SIZE}; larger is a 400.",
)


_BASE = "http://127.0.0.1:8000/api/v1"
FEED_EXAMPLE = {
    "since": 40,
    "cursor": 42,
    "latest": 42,
    "next": f"{_BASE}/changes/?since=42",
    "results": [
        {
            "sequence": 41,
            "time": "2025-09-14T08:30:00Z",
            "resource": "deals",
            "slug": "example-magnets-example-metals-offtake-2025",
            "url": f"{_BASE}/deals/example-magnets-example-metals-offtake-2025/",
            "action": "updated",
            "fields": ["amount", "evidence"],
            "renamed_from": None,
            "merged_into": None,
            "reason": None,
        },
        {
            "sequence": 42,
            "time": "2025-09-14T08:31:00Z",
            "resource": "deals",
            "slug": "example-offtake-entered-twice",
            "url": f"{_BASE}/deals/example-offtake-entered-twice/",
            "action": "merged",
            "fields": [],
            "renamed_from": None,
            "merged_into": {
                "slug": "example-magnets-example-metals-offtake-2025",
                "url": f"{_BASE}/deals/example-magnets-example-metals-offtake-2025/",
            },
            "reason": "Duplicate of “example-magnets-example-metals-offtake-2025”, merged into it.",
        },
    ],
}
HISTORY_EXAMPLE = {
    "count": 2,
    "next": None,
    "previous": None,
    "results": [
        {
            "sequence": 41,
            "date": "2025-09-14T08:30:00Z",
            "action": "updated",
            "slug": "example-magnets-example-metals-offtake-2025",
            "reason": "amount corrected",
            "changes": [{"field": "amount", "old": "10000000.00", "new": "12000000.00"}],
        },
        {
            "sequence": 7,
            "date": "2025-09-12T10:00:00Z",
            "action": "created",
            "slug": "example-magnets-example-metals-offtake-2025",
            "reason": "load_dataset",
            "changes": [
                {"field": "title", "old": None, "new": "Example Magnets signs $10M offtake with Example Metals"},
                {"field": "parties", "old": None, "new": ["example-magnets (buyer)", "example-metals (supplier)"]},
            ],
        },
    ],
}

JSON_FORMAT_PARAMETER = OpenApiParameter(
    name="format", type=str, enum=["json"], required=False, description="Response format: json only."
)


def _since_parse(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not raw.isascii() or not raw.isdigit() or int(raw) > _MAX_CURSOR:
        raise ValidationError({"since": [f"'{raw[:50]}' is not a cursor: pass a `sequence` or `cursor` (0 or more)."]})
    return int(raw)


def _page_size_parse(request, *, default: int, maximum: int) -> int:
    raw = request.query_params.get("page_size")
    return default if raw is None else _positive_int(name="page_size", raw=raw, maximum=maximum)


class ChangeFeedView(APIView):
    """``/api/v1/changes/``: every change to a public record, in order, keyset-paged by sequence number."""

    renderer_classes = [FastJSONRenderer]
    schema = docs.ApiAutoSchema()
    allowed_query_params = {"since", "page_size", "format"}

    def initial(self, request, *args, **kwargs):
        # The same strictness as every other endpoint (StrictQueryMixin, deals/api/views/base.py): a write is a 405
        # (before any complaint about its query), unknown or repeated parameters are a 400 naming them.
        if request.method.lower() not in self.http_method_names or not hasattr(self, request.method.lower()):
            raise MethodNotAllowed(request.method)
        query_params_check(params=request.query_params, allowed=self.allowed_query_params, repeatable=set())
        if request.query_params.get("format", "json") != "json":
            raise ValidationError({"format": ["Unknown format. Allowed here: json."]})
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="v1_changes_list",
        summary="List changes since a cursor",
        tags=["changes"],
        description="Every change to a published deal, company or facility, oldest first, keyset-paged by a "
        "global sequence number. Store the page's `cursor` and ask again with `since=<cursor>` (or follow "
        '`next` / the `Link: rel="next"` header) to get only newer changes; when nothing changed the page is '
        "empty and `cursor` stays the same. Changes made while a record is a draft never appear; publishing it is "
        "`created`. Withdrawn and merged records appear as tombstones. Editors' names never appear.",
        parameters=[SINCE_PARAMETER, FEED_PAGE_SIZE_PARAMETER, JSON_FORMAT_PARAMETER],
        responses={
            200: OpenApiResponse(ChangeFeedSerializer, description="A page of changes."),
            (400, "application/json"): docs.VALIDATION_ERROR_RESPONSE,
        },
        examples=[examples.example("Changes after cursor 40", FEED_EXAMPLE)],
    )
    def get(self, request):
        since = _since_parse(request.query_params.get("since"))
        size = _page_size_parse(request, default=FEED_PAGE_SIZE, maximum=FEED_MAX_PAGE_SIZE)
        entries = change_list(since=since, limit=size)
        latest = change_latest_sequence()
        cursor = entries[-1].sequence if entries else since
        next_url = replace_query_param(request.build_absolute_uri(), "since", cursor)
        body = ChangeFeedSerializer(
            {"since": since, "cursor": cursor, "latest": latest, "next": next_url, "results": entries},
            context={"request": request},
        ).data
        return Response(body, headers={"Link": f'<{next_url}>; rel="next"'})


# --- history ----------------------------------------------------------------------------------------------------


class HistoryChangeSerializer(serializers.Serializer):
    """One field of a version: its value before and after."""

    field = serializers.CharField(help_text="The field's API name (relations: parties, evidence, …).")
    # Any JSON value, null included: no ``allow_null`` (a oneOf of "anything" and null would match null twice).
    old = serializers.JSONField(
        help_text="The value before (null for `created`); relations as lists of slugs (links: `slug (role)`; "
        "evidence: `source:start-end`).",
    )
    new = serializers.JSONField(help_text="The value after, in the same shape as `old`.")


class HistoryVersionSerializer(serializers.Serializer):
    """One public version of a record."""

    sequence = serializers.IntegerField(source="entry.sequence", help_text="The change's number in the feed.")
    date = serializers.DateTimeField(help_text="When the version was made (ISO 8601, UTC).")
    action = serializers.ChoiceField(
        source="entry.action", choices=ChangeAction.choices, help_text="As in the change feed."
    )
    slug = serializers.CharField(source="entry.slug", help_text="The record's slug in this version.")
    reason = serializers.CharField(
        allow_null=True, help_text="The change reason the version records (e.g. `fixture load`, `published`)."
    )
    changes = HistoryChangeSerializer(
        many=True,
        help_text="The changed fields with old and new values; for `created`, every field that has a value.",
    )


class HistoryPageSerializer(serializers.Serializer):
    """One page of a record's history."""

    count = serializers.IntegerField(help_text="Number of public versions.")
    next = serializers.URLField(allow_null=True, help_text="URL of the next (older) page; null on the last page.")
    previous = serializers.URLField(allow_null=True, help_text="URL of the previous page; null on the first page.")
    results = HistoryVersionSerializer(many=True, help_text="The versions of this page, newest first.")


class RecordHistoryMixin:
    """Adds ``<slug>/history/`` to the deal, company and facility viewsets (paginated, newest first)."""

    def allowed_query_params(self) -> set[str]:
        if getattr(self, "action", None) == "history":
            return {"page", "page_size", "format"}
        return super().allowed_query_params()

    @extend_schema(
        summary="Public history of one record",
        description="The record's public versions, newest first: each version's date, action (as in the change "
        "feed), change reason and changed fields with old and new values (relations as slugs). Versions made "
        "while the record was a draft are not shown, nor are editors' names; its first public version is "
        "`created`. A withdrawn record answers 410 and a merged or renamed one 301 (to the current history URL), "
        "as its detail does.",
        parameters=[
            docs.slug_parameter("record"),
            JSON_FORMAT_PARAMETER,
            OpenApiParameter(
                name="page",
                type={"type": "integer", "minimum": 1},
                required=False,
                description="Page number, from 1. Not a positive whole number: 400; past the last page: 404.",
            ),
            OpenApiParameter(
                name="page_size",
                type={"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
                required=False,
                description=f"Versions per page: default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}; more is a 400.",
            ),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(HistoryPageSerializer, description="A page of versions."),
            (301, "application/json"): MOVED_RESPONSE,
            (410, "application/json"): GONE_RESPONSE,
            (400, "application/json"): docs.VALIDATION_ERROR_RESPONSE,
            (404, "application/json"): docs.DETAIL_NOT_FOUND_RESPONSE,
        },
        examples=[examples.example("A deal's history", HISTORY_EXAMPLE)],
    )
    @action(detail=True, methods=["get"], url_path="history", filter_backends=[], pagination_class=None)
    def history(self, request, slug: str = ""):
        model = self.get_queryset().model
        record = model.objects.public().filter(slug=slug).first()
        if record is None:
            answer = self._lifecycle_answer(slug=slug, url_name="history")
            if answer is None:
                raise Http404
            return answer
        paginator = StrictPageNumberPagination()
        entries = paginator.paginate_queryset(
            record_history_entries(record=record, resource=RESOURCES[model._meta.label]), request, view=self
        )
        versions = record_history_versions(record=record, entries=entries)
        return paginator.get_paginated_response(HistoryVersionSerializer(versions, many=True).data)
