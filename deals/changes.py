"""Change-feed bookkeeping: every version of a public deal, company or facility becomes a ``ChangeEntry``.

The entries are written where the versions are written (``RelationalHistoricalRecords`` in deals/history.py calls
:func:`change_entry_write` for every historical row it creates, in the same transaction), so every write path
(admin, import, ``load_dataset``, the publication services, a shell) feeds ``/api/v1/changes/`` without having to
remember, and a rollback removes the entry with the change.

An entry is written only when the public sees a difference, comparing the new version with the record's previous
one:

- not public before, public now: ``created`` (publishing a draft, reinstating a withdrawn record, a fixture load);
- public before and now: ``updated`` with the fields that changed (relations and evidence count, as ``parties``,
  ``facilities``, ``evidence`` …), or ``renamed`` when the slug changed; nothing when no public field changed;
- public before, not now: ``merged`` (into the survivor), else ``withdrawn`` (a deletion, or a return to draft, is a
  withdrawal to the public);
- never public: nothing, so drafts' edits and who made any edit never reach the feed.

Sequence numbers come from the one :class:`~deals.models.ChangeSequence` row, incremented by an ``UPDATE`` that
holds the row's lock until the writing transaction ends: writers of public changes take turns, so numbers are
handed out in commit order and a reader who has seen N will never later find a committed entry below N.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import F

RESOURCES = {"deals.Deal": "deals", "deals.Company": "companies", "deals.Facility": "facilities"}
# Relations snapshot keys (deals/history.py) by their API name.
RELATION_NAMES = {"facility_links": "facilities"}
# Columns that are not record data in the feed: the lifecycle's bookkeeping and the timestamps.
_NOT_FIELDS = {"id", "created", "updated", "publication_status", "published_at", "withdrawn_at", "withdrawn_reason"}
_NOT_FIELDS |= {"merged_into", "history_relations"}
_PUBLISHED = "published"


def public_field_names(*, model: type[models.Model]) -> list[str]:
    """The record fields of ``model`` a version compares, by their API name (``parent``, not ``parent_id``)."""
    return [f.name for f in model._meta.concrete_fields if f.name not in _NOT_FIELDS]


def _is_public(version) -> bool:
    return version is not None and version.history_type != "-" and version.publication_status == _PUBLISHED


def version_changed_fields(*, model: type[models.Model], old, new) -> list[str]:
    """API names of the fields (and relations) that differ between two historical rows of one record."""
    changed = [
        name
        for name in public_field_names(model=model)
        if getattr(old, model._meta.get_field(name).attname) != getattr(new, model._meta.get_field(name).attname)
    ]
    before, after = old.history_relations or {}, new.history_relations or {}
    if before and after:  # a version written before relations were recorded has an empty snapshot: no comparison
        for key in sorted(set(before) | set(after)):
            if before.get(key, []) != after.get(key, []):
                changed.append(RELATION_NAMES.get(key, key))
    return changed


def _sequence_next() -> int:
    """The next sequence number; the counter row stays locked until the caller's transaction ends."""
    sequence = apps.get_model("deals", "ChangeSequence")
    if not sequence.objects.filter(pk=1).update(value=F("value") + 1):
        sequence.objects.get_or_create(pk=1, defaults={"value": 0})
        sequence.objects.filter(pk=1).update(value=F("value") + 1)
    return sequence.objects.values_list("value", flat=True).get(pk=1)


def change_entry_plan(*, model: type[models.Model], old, new) -> dict[str, Any] | None:
    """What the feed says about version ``new`` of a record whose previous version is ``old`` (``None`` for its
    first), as ``ChangeEntry`` field values, or ``None`` when the public saw no change."""
    was, now = _is_public(old), _is_public(new)
    if not was and not now:
        return None
    plan: dict[str, Any] = {"slug": new.slug, "fields": []}
    if now and not was:
        return {**plan, "action": "created"}
    if was and not now:
        if new.history_type != "-" and new.merged_into_id is not None:
            survivor = model._base_manager.filter(pk=new.merged_into_id).values_list("slug", flat=True).first()
            return {**plan, "action": "merged", "merged_into_slug": survivor or "", "reason": new.withdrawn_reason}
        reason = "deleted" if new.history_type == "-" else new.withdrawn_reason
        return {**plan, "action": "withdrawn", "reason": reason}
    fields = version_changed_fields(model=model, old=old, new=new)
    if not fields:
        return None
    if old.slug != new.slug:
        return {**plan, "action": "renamed", "previous_slug": old.slug, "fields": fields}
    return {**plan, "action": "updated", "fields": fields}


def change_entry_write(*, model: type[models.Model], version) -> None:
    """Write the feed entry for the historical row ``version`` just created (see the module docstring)."""
    label = model._meta.label
    if label not in RESOURCES:
        return
    history = type(version)
    old = history.objects.filter(id=version.id, history_id__lt=version.history_id).order_by("-history_id").first()
    plan = change_entry_plan(model=model, old=old, new=version)
    if plan is None:
        return
    apps.get_model("deals", "ChangeEntry").objects.create(
        sequence=_sequence_next(),
        time=version.history_date,
        resource=RESOURCES[label],
        record_id=version.id,
        history_id=version.history_id,
        **plan,
    )


def change_entry_relations_bumped(*, model: type[models.Model], pk: Any, fields: list[str]) -> None:
    """A public company shows its deals (the deal's versions record the party links, the company's do not): when
    they change, its ``updated`` moves without a version; the feed still says which of its fields changed."""
    label = model._meta.label
    if label not in RESOURCES:
        return
    row = model._base_manager.filter(pk=pk).values("slug", "publication_status", "updated").first()
    if row is None or row["publication_status"] != _PUBLISHED:
        return
    apps.get_model("deals", "ChangeEntry").objects.create(
        sequence=_sequence_next(),
        time=row["updated"],
        resource=RESOURCES[label],
        record_id=pk,
        slug=row["slug"],
        action="updated",
        fields=fields,
    )
