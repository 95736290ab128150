"""What a detail URL answers when its slug names no published record: 410 Gone, 301 Moved, or 404.

- a withdrawn record answers **410 Gone** with the reason and the date;
- a merged duplicate answers **301** to the survivor's URL, and so does an old slug after a rename (found through
  the record's history, so a rename from the admin, a shell or an import counts);
- a draft answers 404, exactly like a slug that never existed.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.reverse import reverse

from deals.models import PublicationStatus
from deals.services.publication import record_final, record_resolve


@extend_schema_serializer(component_name="RecordGone")
class RecordGoneSerializer(serializers.Serializer):
    """The body of a 410: the record was withdrawn, when and why."""

    detail = serializers.CharField(help_text="What happened, in one sentence.")
    slug = serializers.CharField(help_text="The slug that was asked for.")
    withdrawn_at = serializers.DateTimeField(help_text="When the record was withdrawn (ISO 8601, UTC).")
    reason = serializers.CharField(help_text="Why the editors withdrew it.")


@extend_schema_serializer(component_name="RecordMoved")
class RecordMovedSerializer(serializers.Serializer):
    """The body of a 301: the record now lives at another URL (a merge or a rename)."""

    detail = serializers.CharField(help_text="Why the record moved: merged into another record, or renamed.")
    slug = serializers.CharField(help_text="The record's current slug.")
    location = serializers.URLField(help_text="The record's current URL; the same as the Location header.")


GONE_RESPONSE = OpenApiResponse(
    response=RecordGoneSerializer, description="The record was withdrawn; the body gives the reason and the date."
)
MOVED_RESPONSE = OpenApiResponse(
    response=RecordMovedSerializer,
    description="The record was merged into another one or renamed; the Location header gives its current URL.",
)


class PublicationLifecycleMixin:
    """Detail views of publishable records: 410 for withdrawn records, 301 for merged or renamed ones.

    The view's queryset holds published records only, so everything else first raises Http404 there; this mixin
    then looks the slug up among all records (and their old slugs) to tell withdrawn and moved records apart.
    """

    def retrieve(self, request, *args, **kwargs):
        try:
            return super().retrieve(request, *args, **kwargs)
        except Http404:
            answer = self._lifecycle_answer(slug=kwargs.get(self.lookup_url_kwarg or self.lookup_field, ""))
            if answer is None:
                raise
            return answer

    def _lifecycle_answer(self, *, slug: str, url_name: str = "detail") -> Response | None:
        model = self.get_queryset().model
        record = record_resolve(model=model, slug=slug)
        if record is None:
            return None
        final = record_final(record=record)
        if final.pk != record.pk or final.slug != slug:
            if final.publication_status == PublicationStatus.DRAFT:
                return None
            location = reverse(f"api:{self.basename}-{url_name}", kwargs={"slug": final.slug}, request=self.request)
            why = f"Merged into “{final.slug}”." if final.pk != record.pk else f"Renamed to “{final.slug}”."
            body = RecordMovedSerializer({"detail": why, "slug": final.slug, "location": location}).data
            return Response(body, status=status.HTTP_301_MOVED_PERMANENTLY, headers={"Location": location})
        if record.publication_status == PublicationStatus.WITHDRAWN:
            body = RecordGoneSerializer(
                {
                    "detail": f"This {model._meta.verbose_name} was withdrawn.",
                    "slug": slug,
                    "withdrawn_at": record.withdrawn_at,
                    "reason": record.withdrawn_reason,
                }
            ).data
            return Response(body, status=status.HTTP_410_GONE)
        return None
