"""Read side of the change feed and of the records' public history (``/api/v1/changes/`` and ``…/history/``).

Both read :class:`~deals.models.ChangeEntry` rows (written by deals/changes.py with every public change); the
history adds each version's old and new values from the historical tables.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import QuerySet

from deals.changes import RELATION_NAMES, public_field_names
from deals.models import ChangeEntry

# The relations snapshot's keys (deals/history.py) by the API names the history uses.
_SNAPSHOT_KEYS = {api: key for key, api in RELATION_NAMES.items()}


def change_list(*, since: int, limit: int) -> list[ChangeEntry]:
    """At most ``limit`` entries numbered above ``since``, in sequence order: a keyset page (no OFFSET)."""
    return list(ChangeEntry.objects.filter(sequence__gt=since).order_by("sequence")[:limit])


def change_latest_sequence() -> int:
    """The highest sequence number written so far (0 when the feed is empty)."""
    return ChangeEntry.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def record_history_entries(*, record: models.Model, resource: str) -> QuerySet[ChangeEntry]:
    """The record's public versions as feed entries, newest first (entries without a version, e.g. a company's
    deal list moving with a deal's parties, are left out: they have no values to show)."""
    return ChangeEntry.objects.filter(resource=resource, record_id=record.pk, history_id__isnull=False).order_by(
        "-sequence"
    )


def _relation_value(*, key: str, rows: list[dict]) -> list[str]:
    """A relation as the history shows it: slugs (with the role for links), evidence as ``source:start-end``."""
    if key == "evidence":
        return [f"{row.get('source')}:{row.get('start')}-{row.get('end')}" for row in rows]
    return [f"{row.get('slug')} ({row['role']})" if "role" in row else str(row.get("slug")) for row in rows]


def _plain(value: Any) -> Any:
    """A stored value as JSON shows it in the API: decimals as strings, dates in ISO 8601, countries as codes."""
    if not isinstance(value, (str, bytes, dict)) and hasattr(value, "__iter__"):  # lists, multiple countries
        return [_plain(item) for item in value]
    if hasattr(value, "code"):  # a django-countries Country
        return value.code or None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _value(*, model: type[models.Model], version, name: str, slugs: dict) -> Any:
    if version is None:
        return None
    if name in {f.name for f in model._meta.concrete_fields}:
        field = model._meta.get_field(name)
        value = getattr(version, field.attname)
        if field.is_relation:
            return None if value is None else slugs.get((name, value))
        return _plain(value)
    key = _SNAPSHOT_KEYS.get(name, name)
    rows = (version.history_relations or {}).get(key)
    return None if rows is None else _relation_value(key=key, rows=rows)


def _related_slugs(*, model: type[models.Model], rows: list) -> dict:
    """(field name, id) -> slug for the foreign keys the versions hold (a company's parent): one query per field."""
    slugs = {}
    for field in model._meta.concrete_fields:
        if field.is_relation and field.name in public_field_names(model=model):
            ids = {getattr(row, field.attname) for row in rows} - {None}
            found = field.related_model._base_manager.filter(pk__in=ids).values_list("pk", "slug") if ids else []
            slugs.update({(field.name, pk): slug for pk, slug in found})
    return slugs


def record_history_versions(*, record: models.Model, entries: list[ChangeEntry]) -> list[dict[str, Any]]:
    """Each entry with its version's date, change reason and changed fields' old and new values.

    One query for the record's historical rows and one per foreign key (a company's parent), whatever the page
    size. ``created`` lists every field that has a
    value (old: null), because what the record held as a draft was never public.
    """
    model = type(record)
    ids = [entry.history_id for entry in entries]
    if not ids:
        return []
    rows = list(
        model.history.model.objects.filter(id=record.pk, history_id__lte=max(ids))
        .order_by("history_id")
        .defer("history_user")
    )
    slugs = _related_slugs(model=model, rows=rows)
    by_id = {row.history_id: row for row in rows}
    previous = {row.history_id: rows[i - 1] if i else None for i, row in enumerate(rows)}
    relation_keys = sorted({key for row in rows for key in (row.history_relations or {})})
    everything = public_field_names(model=model) + [RELATION_NAMES.get(k, k) for k in relation_keys]
    versions = []
    for entry in entries:
        new = by_id.get(entry.history_id)
        if new is None:
            continue
        old = None if entry.action == "created" else previous.get(entry.history_id)
        names = entry.fields if entry.action in ("updated", "renamed") else []
        if entry.action == "created":
            names = [
                n for n in everything if _value(model=model, version=new, name=n, slugs=slugs) not in (None, "", [])
            ]
        changes = [
            {
                "field": n,
                "old": _value(model=model, version=old, name=n, slugs=slugs),
                "new": _value(model=model, version=new, name=n, slugs=slugs),
            }
            for n in names
        ]
        versions.append(
            {"entry": entry, "date": new.history_date, "reason": new.history_change_reason, "changes": changes}
        )
    return versions
