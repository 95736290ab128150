"""Loading a release's CSVs into an empty database: the proof (and the tool) that a release is lossless.

The inverse of :mod:`deals.services.release_tables`: every table's cells are parsed by the same rules they were
written with, foreign keys are resolved by slug, and every record is loaded as published with its own ``created``
and ``updated``. Tombstones are not loaded (they record what left the dataset, not records of it). A source that
was not licensed for redistribution comes without its full text (its cell is empty): its metadata, digests and the
quotes with their offsets are all there, and the text can be restored from one's own copy (docs/provenance.md).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django_countries.fields import CountryField

from deals.models import Commodity, Company, Deal, Evidence, Facility, PublicationStatus, Source, SupplyChainStage
from deals.models.publication import PublishableModel
from deals.services.release_tables import Table, release_tables


class ReleaseLoadError(Exception):
    """The release cannot be loaded: the database is not empty, or a file is missing or does not parse."""


_DATASET_MODELS = (Commodity, Source, Company, Facility, Deal, Evidence)


def _parse(cell: str, f: models.Field) -> Any:
    if isinstance(f, CountryField) and f.multiple:
        return json.loads(cell) if cell else []
    if isinstance(f, models.JSONField):
        return json.loads(cell) if cell else f.get_default()
    if isinstance(f, models.CharField | models.TextField):
        return cell
    if cell == "":
        return None
    if isinstance(f, models.DateTimeField):
        return datetime.datetime.fromisoformat(cell)
    if isinstance(f, models.DateField):
        return datetime.date.fromisoformat(cell)
    if isinstance(f, models.DecimalField):
        return Decimal(cell)
    if isinstance(f, models.BooleanField):
        return cell == "true"
    return int(cell)


def _rows(files: dict[str, bytes], name: str) -> list[dict[str, str]]:
    try:
        content = files[f"{name}.csv"]
    except KeyError:
        raise ReleaseLoadError(f"the release has no {name}.csv") from None
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))


def release_files_read(*, path: Path) -> dict[str, bytes]:
    """A downloaded release's files, by name, from a directory."""
    return {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}


def _load_table(table: Table, rows: list[dict[str, str]], pks: dict[type, dict[str, int]]) -> list[tuple]:
    """Create the table's rows; returns the (pk, created/updated) to write once every table is loaded."""
    model = table.model
    deferred_self: list[tuple[models.Model, str, str]] = []  # (row, parent column, parent slug)
    timestamps: list[tuple[int, dict[str, Any]]] = []
    for row in rows:
        values: dict[str, Any] = {}
        parents: list[tuple[str, str]] = []
        for f in table.fields:
            cell = row[f.name]
            if f.is_relation and f.related_model is model:  # a parent: set once every row of the table exists
                if cell:
                    parents.append((f.attname, cell))
            elif f.is_relation:
                values[f.attname] = pks[f.related_model][cell] if cell else None
            else:
                values[f.attname] = _parse(cell, f)
        if issubclass(model, PublishableModel):
            values["publication_status"] = PublicationStatus.PUBLISHED
        stamps = {name: values.pop(name) for name in ("created", "updated") if name in values}
        if model is SupplyChainStage:  # the vocabulary is seeded by a migration: align it, do not duplicate it
            obj, _ = model.objects.update_or_create(slug=values.pop("slug"), defaults=values)
        else:
            obj = model.objects.create(**values)
        deferred_self += [(obj, attname, slug) for attname, slug in parents]
        if stamps:
            timestamps.append((obj.pk, stamps))
        if hasattr(obj, "slug"):
            pks.setdefault(model, {})[obj.slug] = obj.pk
    for obj, attname, slug in deferred_self:
        model.objects.filter(pk=obj.pk).update(**{attname: pks[model][slug]})
    return [(model, pk, stamps) for pk, stamps in timestamps]


@transaction.atomic
def release_load(*, files: dict[str, bytes]) -> dict[str, int]:
    """Load a release (its files by name) into a database with no records; returns the rows loaded per table.

    Raises :class:`ReleaseLoadError` if the database already holds records (this is not a merge) or a file is
    missing.
    """
    for model in _DATASET_MODELS:
        if model.objects.exists():
            raise ReleaseLoadError(f"the database is not empty ({model._meta.verbose_name_plural} exist)")
    pks: dict[type, dict[str, int]] = {}
    counts = {}
    timestamps = []
    for table in release_tables():
        rows = _rows(files, table.name)
        timestamps += _load_table(table, rows, pks)
        counts[table.name] = len(rows)
    # created/updated are auto_now(_add) fields: create() sets them to now, and a new evidence row or link touches
    # its record's ``updated``. Written last, with update() (which leaves them as given), they are the release's.
    for model, pk, stamps in timestamps:
        model.objects.filter(pk=pk).update(**stamps)
    # Evidence keeps its ids: move PostgreSQL's sequence past them, so that the next new row gets a free id.
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [Evidence]):
            cursor.execute(statement)
    return counts
