"""Making a release: an immutable, numbered snapshot of the PUBLISHED dataset (see :mod:`deals.models.release`).

A release's files, in their listing order:

- ``datapackage.json``: a Frictionless Data Package v2 (version, created, licence, contributors, citation) whose
  resources are the CSVs, each with its Table Schema, byte size and SHA-256 (:mod:`deals.services.release_tables`);
- ``CHANGES.json``: records added, changed (with the names of the changed fields), withdrawn, merged and removed
  since the previous release, computed from the two releases' ``records.jsonl`` and ``tombstones.csv``;
- ``records.jsonl``: every published commodity, source, company, facility and deal exactly as the API's detail
  endpoint serializes it (the API's own views, called in process), one ``{"type", "slug", "record"}`` per line;
- one CSV per table; ``checksums.sha256``: ``sha256sum -c`` lines for every other file.

A release whose data (CSVs and records.jsonl) is identical to the previous release's is refused. There is no update
path: nothing here or elsewhere changes a release once made, and the database refuses UPDATEs of both tables.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from deals.citation import citation_authors_get, citation_metadata_get, citation_text_get
from deals.licensing import DATASET_LICENSE
from deals.models import DatasetRelease, ReleaseFile
from deals.services.dataset_lock import dataset_lock_acquire
from deals.services.release_tables import (
    TOMBSTONE_COLUMNS,
    Table,
    csv_bytes,
    release_tables,
    table_csv,
    table_rows,
    table_schema,
    tombstone_rows,
    tombstone_schema,
)

PACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
PACKAGE_NAME = "reexapi-critical-mineral-deals"
# records.jsonl: resource type -> (API basename, the release table whose rows are the published records).
RECORD_TYPES = (
    ("commodity", "commodity", "commodities"),
    ("source", "source", "sources"),
    ("company", "company", "companies"),
    ("facility", "facility", "facilities"),
    ("deal", "deal", "deals"),
)
MEDIA_TYPES = {".json": "application/json", ".jsonl": "application/jsonl", ".csv": "text/csv", ".sha256": "text/plain"}


class ReleaseRefused(ValidationError):
    """The release was not made (e.g. nothing changed since the previous one); nothing was written."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _detail_views() -> dict[str, Any]:
    # Imported here: the API imports the services' models and selectors, never the other way round at import time.
    from deals.api import views

    return {
        "commodity": views.CommodityViewSet.as_view({"get": "retrieve"}),
        "source": views.SourceViewSet.as_view({"get": "retrieve"}),
        "company": views.CompanyViewSet.as_view({"get": "retrieve"}),
        "facility": views.FacilityViewSet.as_view({"get": "retrieve"}),
        "deal": views.DealViewSet.as_view({"get": "retrieve"}),
    }


def records_jsonl(*, released: dict[str, list[str]], base_url: str) -> bytes:
    """Every published record as its API detail endpoint answers it, through the API's own view (so serializers,
    selectors and lifecycle rules are the API's, not a copy); absolute URLs are built on ``base_url``.

    One request per record, in process and without the middleware (no cache, no rate limit): a few queries each,
    seconds for thousands of records.
    """
    factory = RequestFactory()
    views = _detail_views()
    lines = []
    for type_name, basename, table in RECORD_TYPES:
        for slug in released[table]:
            request = factory.get(reverse(f"api:{basename}-detail", kwargs={"slug": slug}))
            # build_absolute_uri() reads this cached property: the public URL, whatever host the command runs on.
            request._current_scheme_host = base_url.rstrip("/")
            response = views[type_name](request, slug=slug)
            response.render()
            if response.status_code != 200:
                raise RuntimeError(f"the API answers {response.status_code} for {type_name} {slug!r}")
            record = json.loads(response.content)
            line = {"type": type_name, "slug": slug, "record": record}
            lines.append(json.dumps(line, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def _records_index(content: bytes) -> dict[tuple[str, str], dict]:
    index = {}
    for line in content.decode("utf-8").splitlines():
        if line:
            entry = json.loads(line)
            index[(entry["type"], entry["slug"])] = entry["record"]
    return index


def _tombstones_index(content: bytes) -> dict[tuple[str, str], dict[str, str]]:
    rows = csv.DictReader(io.StringIO(content.decode("utf-8"), newline=""))
    return {(row["type"], row["slug"]): row for row in rows}


def release_changes(
    *, previous: dict[str, bytes] | None, records: bytes, tombstones: bytes, version: str
) -> dict[str, Any]:
    """CHANGES.json: what differs between the previous release's files and this one's.

    ``added``: in this release's records, not in the previous one's; ``changed``: in both, with the names of the
    top-level fields whose values differ; ``withdrawn`` / ``merged``: in the previous records and now a tombstone
    (merged ones name the survivor); ``removed``: gone without a tombstone (a record back to draft, a source no
    longer cited, a commodity deleted). Each list is sorted by type and slug.
    """
    now = _records_index(records)
    before = _records_index(previous["records.jsonl"]) if previous else {}
    tombs = _tombstones_index(tombstones)
    changes: dict[str, list] = {"added": [], "changed": [], "withdrawn": [], "merged": [], "removed": []}
    for key in sorted(now.keys() - before.keys()):
        changes["added"].append({"type": key[0], "slug": key[1]})
    for key in sorted(now.keys() & before.keys()):
        old, new = before[key], now[key]
        fields = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
        if fields:
            changes["changed"].append({"type": key[0], "slug": key[1], "fields": fields})
    for key in sorted(before.keys() - now.keys()):
        tomb = tombs.get(key)
        entry = {"type": key[0], "slug": key[1]}
        if tomb is None:
            changes["removed"].append(entry)
        elif tomb["merged_into"]:
            changes["merged"].append({**entry, "merged_into": tomb["merged_into"], "at": tomb["withdrawn_at"]})
        else:
            changes["withdrawn"].append({**entry, "reason": tomb["withdrawn_reason"], "at": tomb["withdrawn_at"]})
    return {"version": version, "previous_version": previous["version"] if previous else None, **changes}


def _previous_files(release: DatasetRelease | None) -> dict[str, Any] | None:
    if release is None:
        return None
    files = {f.name: bytes(f.content) for f in release.files.filter(name__in=["records.jsonl", "tombstones.csv"])}
    return {"version": release.version, **files}


def _resource(table_name: str, title: str, content: bytes, schema: dict) -> dict[str, Any]:
    return {
        "name": table_name,
        "type": "table",
        "path": f"{table_name}.csv",
        "title": title,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": len(content),
        "hash": f"sha256:{_sha256(content)}",
        "schema": schema,
    }


def _version_next(*, created: datetime.datetime) -> tuple[int, str]:
    day = created.astimezone(datetime.UTC).strftime("%Y.%m.%d")
    number = (DatasetRelease.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    same_day = DatasetRelease.objects.filter(version__startswith=f"{day}.").count()
    return number, f"{day}.{same_day + 1}"


@dataclass
class ReleaseData:
    """The data files of a release (everything but the metadata, CHANGES.json and checksums)."""

    tables: list[tuple[Table, bytes]]
    tombstones: bytes
    records: bytes
    counts: dict[str, int]

    @property
    def files(self) -> dict[str, bytes]:
        """The data files by name, in release order: the CSVs, tombstones.csv, records.jsonl."""
        files = {f"{table.name}.csv": content for table, content in self.tables}
        return {**files, "tombstones.csv": self.tombstones, "records.jsonl": self.records}


def release_data(*, base_url: str) -> ReleaseData:
    """The current published dataset as a release's data files (read-only: nothing is written)."""
    tables: list[tuple[Table, bytes]] = []
    counts: dict[str, int] = {}
    released: dict[str, set[str]] = {}
    for table in release_tables():
        rows = table_rows(table, released=released)
        if table.primary_key == ["slug"]:
            column = [f.name for f in table.fields].index("slug")
            released[table.name] = {row[column] for row in rows}
        tables.append((table, table_csv(table, rows)))
        counts[table.name] = len(rows)
    tombs = tombstone_rows()
    counts["tombstones"] = len(tombs)
    records = records_jsonl(released={name: sorted(slugs) for name, slugs in released.items()}, base_url=base_url)
    return ReleaseData(tables, csv_bytes(list(TOMBSTONE_COLUMNS), tombs), records, counts)


def release_create(*, base_url: str | None = None, lock_timeout: float = 30.0) -> DatasetRelease:
    """Make a release of the published dataset, or raise :class:`ReleaseRefused` when nothing changed since the
    previous release (nothing is written then).

    Runs under the dataset lock (one load or release at a time) and, on PostgreSQL when it starts the transaction,
    in a REPEATABLE READ snapshot, so every file describes the same state of the dataset while editors keep saving.
    """
    return _release_create(base_url=base_url, lock_timeout=lock_timeout, snapshot=not connection.in_atomic_block)


@transaction.atomic
def _release_create(*, base_url: str | None, lock_timeout: float, snapshot: bool) -> DatasetRelease:
    if snapshot and connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # must be the transaction's first statement
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    dataset_lock_acquire(timeout=lock_timeout)
    base_url = base_url or settings.REEXAPI_PUBLIC_URL
    created = timezone.now().replace(microsecond=0)

    data = release_data(base_url=base_url)
    tables, tombstones, records, counts = data.tables, data.tombstones, data.records, data.counts
    data_files = list(data.files.items())
    digest = _sha256("".join(f"{name} {_sha256(content)}\n" for name, content in data_files).encode())
    previous = DatasetRelease.objects.order_by("-number").first()
    if previous is not None and previous.dataset_sha256 == digest:
        raise ReleaseRefused(
            f"Nothing changed since release {previous.version}: the published dataset is identical, so no release "
            "was made."
        )

    number, version = _version_next(created=created)
    changes = _json_bytes(
        release_changes(previous=_previous_files(previous), records=records, tombstones=tombstones, version=version)
    )
    homepage = base_url.rstrip("/") + "/"
    # The project's one citation (CITATION.cff, deals/citation.py), as the API index and the landing page give it.
    citation = citation_text_get(url=homepage, version=version)
    resources = [_resource(table.name, table.title, content, table_schema(table)) for table, content in tables]
    resources.append(_resource("tombstones", "Withdrawn and merged records", tombstones, tombstone_schema()))
    package = {
        "$schema": PACKAGE_PROFILE,
        "name": PACKAGE_NAME,
        "title": citation_metadata_get()["title"],
        "description": "Critical-mineral deals (funding rounds, offtakes, MOUs, grants, plant investments, government "
        "agreements), the companies and governments making them, the facilities they concern and the source "
        "articles they come from. Every public fact is backed by a verbatim quote with offsets into its source's "
        "normalised text. Published records only.",
        "version": version,
        "created": created.isoformat().replace("+00:00", "Z"),
        "homepage": homepage,
        "licenses": [{"name": DATASET_LICENSE["id"], "path": DATASET_LICENSE["url"], "title": DATASET_LICENSE["name"]}],
        "contributors": [{"title": name, "roles": ["creator", "publisher"]} for name in citation_authors_get()],
        "citation": citation,
        "keywords": ["critical minerals", "rare earths", "supply chain", "deals", "provenance"],
        "resources": resources,
    }
    files = [("datapackage.json", _json_bytes(package)), ("CHANGES.json", changes), ("records.jsonl", records)]
    files += [(name, content) for name, content in data_files if name != "records.jsonl"]
    checksums = "".join(f"{_sha256(content)}  {name}\n" for name, content in files).encode()
    files.append(("checksums.sha256", checksums))

    release = DatasetRelease.objects.create(
        number=number,
        version=version,
        created=created,
        dataset_sha256=digest,
        metadata={"license": DATASET_LICENSE, "citation": citation, "counts": counts},
    )
    ReleaseFile.objects.bulk_create(
        ReleaseFile(
            release=release,
            position=position,
            name=name,
            media_type=MEDIA_TYPES[name[name.rindex(".") :]],
            size=len(content),
            sha256=_sha256(content),
            content=content,
        )
        for position, (name, content) in enumerate(files)
    )
    return release
