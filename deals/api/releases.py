"""The releases API: immutable dataset releases, their files (downloads with strong ETags) and an ``index.json``.

Declarations and serializers of one resource, as for the records (see :mod:`deals.api.views`). The JSON answers
(list, detail, index) go through the API's response cache like every other answer: making a release is a write to
the dataset tables, so it bumps the dataset version. A file download is streamed: the cache middleware neither
stores it nor replaces its ETag, which is the file's SHA-256 (a release never changes, so neither does its ETag).
"""

from __future__ import annotations

from django.http import HttpResponseNotModified, HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from deals.api import schema as docs
from deals.api import schema_examples as examples
from deals.api.renderers_json import FastJSONRenderer
from deals.api.serializers import (
    ErrorDetailSerializer,
    LicenseSerializer,  # one "License" component, shared with the API index
)
from deals.api.views import StrictQueryMixin
from deals.citation import citation_text_get
from deals.licensing import DATASET_LICENSE
from deals.models import DatasetRelease, ReleaseFile
from deals.selectors.releases import release_file_get, release_get, release_latest, release_list

# CalVer: YYYY.MM.DD.N (see deals/models/release.py). Anything else under /api/v1/releases/ is a JSON 404.
VERSION_REGEX = r"\d{4}\.\d{2}\.\d{2}\.\d+"
FILE_NAME_REGEX = r"[-a-zA-Z0-9_]+(?:\.[a-z0-9]+)+"
CHUNK_SIZE = 64 * 1024


class ReleaseFileSerializer(serializers.ModelSerializer):
    """A file of a release: name, media type, size, SHA-256 and download URL."""

    url = serializers.SerializerMethodField(help_text="Download URL of the file.")
    # Declared, not generated: a generated integer field's bounds depend on the database engine.
    size = serializers.IntegerField(min_value=0, help_text="Size of the file in bytes.")

    class Meta:
        model = ReleaseFile
        fields = ["name", "media_type", "size", "sha256", "url"]

    def get_url(self, obj: ReleaseFile) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:release-file", kwargs={"version": obj.release.version, "name": obj.name})
        )


class ReleaseSerializer(serializers.ModelSerializer):
    """A release with its files."""

    url = serializers.SerializerMethodField(help_text="URL of the release (its files).")
    number = serializers.IntegerField(
        min_value=1, help_text="Sequence number of the release (1, 2, 3, …); releases sort by it."
    )
    license = LicenseSerializer(source="metadata.license", help_text="Licence of the release's data.")
    citation = serializers.CharField(
        source="metadata.citation",
        help_text="How to cite this release: the project's citation (CITATION.cff) with its version.",
    )
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        source="metadata.counts",
        help_text="Number of rows per table (CSV resource name -> rows).",
    )
    files = ReleaseFileSerializer(many=True, help_text="The release's files, datapackage.json first.")

    class Meta:
        model = DatasetRelease
        fields = ["version", "number", "created", "dataset_sha256", "url", "license", "citation", "counts", "files"]
        # The model's PositiveIntegerField has a backend-dependent range (2^31 - 1 on PostgreSQL, 2^63 - 1 on
        # SQLite), and the schema followed it: state PostgreSQL's, the smaller, so the schema is one on both.
        extra_kwargs = {"number": {"max_value": 2147483647}}

    def get_url(self, obj: DatasetRelease) -> str:
        url = reverse("api:release-detail", kwargs={"version": obj.version})
        return self.context["request"].build_absolute_uri(url)


class ReleaseLatestSerializer(serializers.Serializer):
    """The newest release, in brief."""

    version = serializers.CharField(help_text="Version of the newest release.")
    url = serializers.URLField(help_text="URL of the newest release.")


class ReleaseListSerializer(serializers.Serializer):
    """Every release, newest first, and which one is the latest."""

    latest = ReleaseLatestSerializer(allow_null=True, help_text="The newest release; null before the first one.")
    count = serializers.IntegerField(help_text="Number of releases.")
    results = ReleaseSerializer(many=True, help_text="The releases, newest first.")


class ReleaseIndexSerializer(serializers.Serializer):
    """Every version in order (oldest first), with its files, checksums and URLs (as OpenSanctions' index.json)."""

    license = LicenseSerializer(help_text="Licence of the dataset.")
    latest = serializers.CharField(allow_null=True, help_text="Version of the newest release; null before the first.")
    versions = ReleaseSerializer(many=True, help_text="Every release, oldest first.")


def _latest_brief(*, request, release: DatasetRelease | None) -> dict | None:
    if release is None:
        return None
    url = request.build_absolute_uri(reverse("api:release-detail", kwargs={"version": release.version}))
    return {"version": release.version, "url": url}


# ``latest/`` and ``latest/<name>`` are routed by views of their own (ReleaseLatestView), but to a client they are
# the same paths with the version ``latest``: the schema documents them so (one path template each, with a 302),
# which keeps `/releases/{version}/` and `/releases/latest/{name}` from being two ambiguous paths.
VERSION_PARAMETER = OpenApiParameter(
    name="version",
    type=str,
    location=OpenApiParameter.PATH,
    pattern=rf"^(?:{VERSION_REGEX}|latest)$",
    description="A release's version (YYYY.MM.DD.N), e.g. from the list's `version` field, or `latest`: a 302 "
    "to the newest release's URL (404 before the first release).",
)
LATEST_REDIRECT = OpenApiResponse(
    description="The version was `latest`: `Location` names the same URL with the newest release's version."
)
NAME_PARAMETER = OpenApiParameter(
    name="name",
    type=str,
    location=OpenApiParameter.PATH,
    pattern=rf"^{FILE_NAME_REGEX}$",
    description="A file's name, e.g. `datapackage.json` or `deals.csv`, from the release's `files`.",
)
RELEASE_NOT_FOUND = OpenApiResponse(ErrorDetailSerializer, description="No release has this version.")

_BASE = "http://127.0.0.1:8000/api/v1/releases"
_EXAMPLE_FILE = {
    "name": "deals.csv",
    "media_type": "text/csv",
    "size": 4367,
    "sha256": "ef8846cc796f9bb577c374b20ced6f808066be9b3725ae51d6c28a1945982ce0",
    "url": f"{_BASE}/2026.12.02.1/deals.csv",
}
RELEASE_EXAMPLE = {
    "version": "2026.12.02.1",
    "number": 1,
    "created": "2026-12-02T06:03:05Z",
    "dataset_sha256": "3f0b6a0c1d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c",
    "url": f"{_BASE}/2026.12.02.1/",
    "license": DATASET_LICENSE,
    "citation": citation_text_get(url="http://127.0.0.1:8000/", version="2026.12.02.1"),  # as a release has it
    "counts": {"deals": 21, "companies": 26, "evidence": 62},
    "files": [_EXAMPLE_FILE],
}


class ReleaseViewBase(StrictQueryMixin, APIView):
    """JSON only, strict query string (only ``format=json``), read-only."""

    renderer_classes = [FastJSONRenderer]
    schema = docs.ApiAutoSchema()
    http_method_names = ["get", "head", "options"]


class ReleaseListView(ReleaseViewBase):
    """Every release, newest first, with ``latest`` on top."""

    @extend_schema(
        operation_id="releases_list",
        summary="List releases",
        tags=["releases"],
        description="Every dataset release, newest first, each with its files (size, SHA-256, media type, download "
        "URL). `latest` names the newest one; `/api/v1/releases/latest/` redirects to it. Not paginated.",
        responses={
            200: OpenApiResponse(ReleaseListSerializer, description="The releases, newest first."),
            (400, "application/json"): docs.VALIDATION_ERROR_RESPONSE,
        },
        examples=[
            examples.example(
                "Releases",
                {
                    "latest": {"version": "2026.12.02.1", "url": f"{_BASE}/2026.12.02.1/"},
                    "count": 1,
                    "results": [RELEASE_EXAMPLE],
                },
            )
        ],
    )
    def get(self, request):
        releases = list(release_list())
        latest = releases[0] if releases else None
        data = {"latest": _latest_brief(request=request, release=latest), "count": len(releases), "results": releases}
        return Response(ReleaseListSerializer(data, context={"request": request}).data)


class ReleaseIndexView(ReleaseViewBase):
    """``index.json``: every version in order, oldest first, with files and checksums."""

    @extend_schema(
        operation_id="releases_index",
        summary="Index of every release",
        tags=["releases"],
        description="Every release in order, oldest first, with its files, their SHA-256 checksums, sizes and URLs, "
        "in the style of OpenSanctions' index.json: a mirror reads this one document to find what it lacks.",
        responses={
            200: OpenApiResponse(ReleaseIndexSerializer, description="Every release, oldest first."),
            (400, "application/json"): docs.VALIDATION_ERROR_RESPONSE,
        },
        examples=[
            examples.example(
                "The index", {"license": DATASET_LICENSE, "latest": "2026.12.02.1", "versions": [RELEASE_EXAMPLE]}
            )
        ],
    )
    def get(self, request):
        releases = list(release_list())
        data = {
            "license": DATASET_LICENSE,
            "latest": releases[0].version if releases else None,
            "versions": list(reversed(releases)),
        }
        return Response(ReleaseIndexSerializer(data, context={"request": request}).data)


class ReleaseDetailView(ReleaseViewBase):
    """One release: its metadata and its files."""

    @extend_schema(
        operation_id="releases_retrieve",
        summary="Retrieve a release",
        tags=["releases"],
        parameters=[VERSION_PARAMETER],
        description="One release: version, date, licence, how to cite, row counts and its files with sizes, "
        "SHA-256 checksums, media types and download URLs.",
        responses={
            200: OpenApiResponse(ReleaseSerializer, description="The release."),
            (302, "application/json"): LATEST_REDIRECT,
            (400, "application/json"): docs.VALIDATION_ERROR_RESPONSE,
            (404, "application/json"): RELEASE_NOT_FOUND,
        },
        examples=[examples.example("A release", RELEASE_EXAMPLE)],
    )
    def get(self, request, version: str):
        release = release_get(version=version)
        if release is None:
            raise NotFound(f"No release has version '{version}'.")
        return Response(ReleaseSerializer(release, context={"request": request}).data)


class ReleaseLatestView(ReleaseViewBase):
    """``latest/`` and ``latest/<name>``: 302 to the newest release (or its file), so links stay stable."""

    # In the schema as the version `latest` of ReleaseDetailView's and ReleaseFileView's paths (VERSION_PARAMETER).
    @extend_schema(exclude=True)
    def get(self, request, name: str | None = None):
        latest = release_latest()
        if latest is None:
            raise NotFound("No release has been made yet.")
        if name is None:
            return HttpResponseRedirect(reverse("api:release-detail", kwargs={"version": latest.version}))
        return HttpResponseRedirect(reverse("api:release-file", kwargs={"version": latest.version, "name": name}))


class ReleaseLatestFileView(ReleaseLatestView):
    """``latest/<name>``: 302 to that file of the newest release (which answers 404 if it has no such file)."""

    @extend_schema(exclude=True)
    def get(self, request, name: str):
        return super().get(request, name=name)


class ReleaseFileView(ReleaseViewBase):
    """A file's bytes, with a strong ETag (its SHA-256); ``If-None-Match`` answers 304 without reading the bytes."""

    def perform_content_negotiation(self, request, force=False):
        # The file is sent whatever ``Accept`` says (curl, browsers and download managers differ); the JSON renderer
        # negotiated here only renders errors.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="releases_file",
        summary="Download a release file",
        tags=["releases"],
        parameters=[VERSION_PARAMETER, NAME_PARAMETER],
        description="The file's bytes with its media type, `Content-Length`, `Content-Disposition: attachment` and "
        'a strong `ETag` (`"<sha256>"`); `If-None-Match` with it answers 304. A release never changes, so '
        "neither does a file: it may be cached for a year. `latest/<name>` (e.g. `latest/datapackage.json`) is the "
        "stable link for scripts (`curl -L`): a 302 to that file of the newest release.",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file (its real media type is in `Content-Type`)."
            ),
            (302, "application/json"): LATEST_REDIRECT,
            (400, "application/json"): docs.VALIDATION_ERROR_RESPONSE,
            (404, "application/json"): OpenApiResponse(
                ErrorDetailSerializer, description="No release has this version, or it has no such file."
            ),
        },
    )
    def get(self, request, version: str, name: str):
        # Weak comparison, as RFC 9110 prescribes for If-None-Match: W/"x" matches "x".
        if_none_match = {tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))}
        # One query: the bytes are loaded with the row unless a conditional request may make them unnecessary.
        meta = release_file_get(version=version, name=name, content=not if_none_match)
        if meta is None:
            raise NotFound(f"Release '{version}' has no file '{name}'.")
        etag = f'"{meta.sha256}"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=31536000, immutable"}
        if etag in if_none_match or "*" in if_none_match:
            return HttpResponseNotModified(headers=headers)
        content = bytes(meta.content)  # deferred when If-None-Match did not match: one more query
        chunks = (content[i : i + CHUNK_SIZE] for i in range(0, len(content), CHUNK_SIZE))
        # Every release file is UTF-8 text (JSON, CSV, JSON Lines, sha256sum lines).
        content_type = f"{meta.media_type}; charset=utf-8"
        response = StreamingHttpResponse(chunks, content_type=content_type, headers=headers)
        response["Content-Length"] = str(meta.size)
        response["Content-Disposition"] = f'attachment; filename="{meta.name}"'
        return response
