"""History bookkeeping: each version of a deal, company or facility records its relations, and ``updated`` moves
with them.

django-simple-history copies a record's own columns into ``Historical<Model>``. The records' relations live in other
tables (deal parties and facility companies with their roles, the many-to-many lists, evidence), so this module adds
one JSON column, ``history_relations``, to the historical deal, company and facility tables (simple-history's
documented ``bases`` option) and fills it with a snapshot of those relations whenever a version is written (its
documented ``pre_create_historical_record`` signal). See docs/data-model.md ("History") for the snapshot's shape.

Why not ``HistoricalRecords(m2m_fields=…)``: it writes a version on every ``m2m_changed`` action (``set()`` sends
two), so one admin save would write several versions; its table for a tracked through model is named
``Historical<Through>``, which clashes with the through model's own history (``HistoricalDealParty``); it cannot
record evidence (a reverse foreign key); and its admin revert restores none of it.

Signals are used here for bookkeeping only, as in deals/signals.py: a link row, an evidence row or a many-to-many
list changes, and the record it belongs to gets a new ``updated`` and a new version that records the change. The
signals decide nothing about the data; they are the one hook that sees every write path (admin, import, loader,
shell) without each of them having to remember.

One write, one version: inside :func:`history_deferred` (the admin's save, revert, delete and action views, every
import batch and every ``load_dataset`` run open one) each record gets at most one version, written when the scope
ends, after its inlines, lists and evidence are saved; so the version records what the editor saved, and names the
editor. Outside a scope (a shell, a plain ``save()``) every write records its own version at once.

Every version also feeds the public change feed: a ``ChangeEntry`` is written with it, in the same transaction, when
the public sees a difference (deals/changes.py).

Writes that send no signal (``QuerySet.update()``, ``bulk_create()``, raw SQL) to link or evidence rows must call
:func:`record_relations_changed` for the records they belong to.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from deals.changes import change_entry_relations_bumped, change_entry_write

# What each record's version records. "links": (snapshot key, accessor on the record, the link row's other end).
RELATIONS: dict[str, dict[str, Any]] = {
    "deals.Deal": {
        "links": ("parties", "party_links", "company"),
        "m2m": ("stages", "commodities", "facilities"),
        "evidence": "deal",
    },
    "deals.Facility": {
        "links": ("companies", "company_links", "company"),
        "m2m": ("commodities",),
        "evidence": "facility",
    },
    "deals.Company": {"links": ("facility_links", "facility_links", "facility"), "m2m": (), "evidence": "company"},
}


class RelationsHistory(models.Model):
    """Abstract base of the historical deal, company and facility models: the version's relations snapshot."""

    history_relations = models.JSONField(
        default=dict,
        blank=True,
        encoder=DjangoJSONEncoder,
        help_text="The record's relations at this version: links with roles, many-to-many lists and evidence.",
    )

    class Meta:
        abstract = True


# --- snapshots ------------------------------------------------------------------------------------------------------


def evidence_snapshot(evidence) -> dict[str, Any]:
    """One evidence row as a version records it: every column (by attname) and its source's slug, for display."""
    row = {f.attname: f.value_from_object(evidence) for f in evidence._meta.concrete_fields}
    row["source"] = evidence.source.slug
    return row


def relations_snapshot(*, record: models.Model) -> dict[str, Any]:
    """The relations of ``record`` (a deal, company or facility) as stored now, in a stable order."""
    spec = RELATIONS[record._meta.label]
    key, accessor, other = spec["links"]
    links = getattr(record, accessor).select_related(other).order_by(f"{other}__slug", "role", "pk")
    snapshot: dict[str, Any] = {
        key: [
            {other: getattr(link, f"{other}_id"), "slug": getattr(link, other).slug, "role": link.role}
            for link in links
        ]
    }
    for name in spec["m2m"]:
        snapshot[name] = [
            {"id": pk, "slug": slug} for pk, slug in getattr(record, name).order_by("slug").values_list("pk", "slug")
        ]
    evidence = record.evidence.select_related("source").order_by("source__slug", "start", "end", "pk")
    snapshot["evidence"] = [evidence_snapshot(ev) for ev in evidence]
    return snapshot


def _feed_entry(sender, instance, history_instance, **kwargs) -> None:
    # The change feed's entry is written with the version it describes, in the same transaction (deals/changes.py).
    change_entry_write(model=type(instance), version=history_instance)


def _fill_snapshot(sender, instance, history_instance, **kwargs) -> None:
    stashed = getattr(instance, "_history_relations_before_delete", None)
    if history_instance.history_type == "-" and stashed is not None:
        history_instance.history_relations = stashed
    else:
        history_instance.history_relations = relations_snapshot(record=instance)


# --- one version per record per write -------------------------------------------------------------------------------


@dataclass
class _Pending:
    """A record that changed inside a :func:`history_deferred` scope, to be versioned when the scope ends."""

    model: type[models.Model]
    pk: Any
    instance: models.Model | None = None  # the saved instance, when the record itself was saved
    history_type: str = "~"
    version: bool = True
    reason: str | None = None
    user: Any = None  # who saved the link or evidence row, for the parent's version (outside an admin request)


_scope: contextvars.ContextVar[dict | None] = contextvars.ContextVar("reexapi_history_scope", default=None)
# Records being deleted: their cascaded evidence and links are not changes to version them for.
_deleting: contextvars.ContextVar[frozenset] = contextvars.ContextVar("reexapi_history_deleting", default=frozenset())


@contextmanager
def history_deferred():
    """One transaction in which every changed deal, company or facility gets exactly one version, at the end.

    Usable as a decorator. Nested scopes join the outermost one. On an exception nothing is versioned, and the
    transaction rolls back.
    """
    with transaction.atomic():
        if _scope.get() is not None:
            yield
            return
        pending: dict = {}
        token = _scope.set(pending)
        try:
            yield
        finally:
            _scope.reset(token)
        for item in list(pending.values()):
            _apply(item)


@contextmanager
def history_discarded():
    """Trial writes that will be rolled back (the loader compares a fixture's version in a savepoint): whatever
    they note is dropped, so no version and no ``updated`` move outlives the rollback."""
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def _note(
    model: type[models.Model],
    pk: Any,
    *,
    instance: models.Model | None = None,
    history_type: str = "~",
    version: bool = True,
    reason: str | None = None,
    user: Any = None,
) -> None:
    """Record that ``model`` ``pk`` changed: versioned at the end of the scope, or at once outside one."""
    if pk is None or (model._meta.label, pk) in _deleting.get():
        return
    item = _Pending(model, pk, instance, history_type, version, reason, user)
    pending = _scope.get()
    if pending is None:
        _apply(item)
        return
    seen = pending.get((model._meta.label, pk))
    if seen is None:
        pending[(model._meta.label, pk)] = item
        return
    seen.instance = instance or seen.instance
    seen.history_type = "+" if "+" in (seen.history_type, history_type) else "~"
    seen.version = seen.version or version
    seen.reason = seen.reason or reason
    seen.user = seen.user or user


def _apply(item: _Pending) -> None:
    """Move ``updated`` (unless the record itself was saved, which did) and write the record's one version."""
    instance = item.instance
    if instance is None:
        manager = item.model._base_manager
        if not manager.filter(pk=item.pk).update(updated=timezone.now()):
            return  # deleted meanwhile: its deletion is its last version
        if not item.version:
            if item.model._meta.label == "deals.Company":  # only its deal parties bump it without a version
                change_entry_relations_bumped(model=item.model, pk=item.pk, fields=["deals"])
            return
        instance = manager.get(pk=item.pk)
        if item.reason:
            instance._change_reason = item.reason
        if item.user is not None:
            instance._history_user = item.user
    if item.version and hasattr(item.model, "history"):
        _RECORDS[item.model._meta.label].create_historical_record(instance, item.history_type)


_RECORDS: dict[str, HistoricalRecords] = {}


class RelationalHistoricalRecords(HistoricalRecords):
    """:class:`HistoricalRecords` whose versions also record the relations (see the module docstring)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("bases", [RelationsHistory])
        super().__init__(**kwargs)

    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        if sender is self.cls:
            _RECORDS[sender._meta.label] = self

    def post_save(self, instance, created, using=None, **kwargs):
        enabled = getattr(settings, "SIMPLE_HISTORY_ENABLED", True) and not hasattr(
            instance, "skip_history_when_saving"
        )
        if enabled and not kwargs.get("raw", False) and _scope.get() is not None:
            _note(type(instance), instance.pk, instance=instance, history_type="+" if created else "~")
            return
        super().post_save(instance, created, using=using, **kwargs)

    def pre_delete(self, instance, **kwargs):
        super().pre_delete(instance, **kwargs)
        # The cascade deletes the evidence and links before the record: keep what they were for its last version.
        instance._history_relations_before_delete = relations_snapshot(record=instance)
        _deleting.set(_deleting.get() | {(instance._meta.label, instance.pk)})

    def post_delete(self, instance, using=None, **kwargs):
        super().post_delete(instance, using=using, **kwargs)
        _deleting.set(_deleting.get() - {(instance._meta.label, instance.pk)})
        pending = _scope.get()
        if pending is not None:
            pending.pop((instance._meta.label, instance.pk), None)


def record_relations_changed(*, record: models.Model, reason: str | None = None) -> None:
    """Move ``record``'s ``updated`` and version it (a deal, company or facility; a source's ``updated`` only), for
    writers that change its relations without signals. Inside :func:`history_deferred` this joins the scope."""
    _note(type(record), record.pk, version=record._meta.label in RELATIONS, reason=reason)


# --- what changes a record's relations ------------------------------------------------------------------------------


def _reason(row: models.Model, what: str) -> str:
    return getattr(row, "_change_reason", None) or f"{what} changed"


def _stash_old(sender, instance, raw=False, **kwargs) -> None:
    """Before a link or evidence row is saved, remember the records it pointed at (it may be moved to another)."""
    if raw or instance._state.adding or instance.pk is None:
        instance._history_old_ends = {}
        return
    names = [f.attname for f in sender._meta.concrete_fields if f.is_relation]
    instance._history_old_ends = sender._base_manager.filter(pk=instance.pk).values(*names).first() or {}


def _ends(sender, instance) -> list[tuple[str, type[models.Model], Any]]:
    """(field name, model, id) of every record the row belongs to, now and (after a save) before."""
    ends = []
    old = getattr(instance, "_history_old_ends", {}) or {}
    for f in sender._meta.concrete_fields:
        if f.is_relation and f.related_model._meta.label in (*RELATIONS, "deals.Source"):
            for value in {getattr(instance, f.attname), old.get(f.attname)} - {None}:
                ends.append((f.name, f.related_model, value))
    return ends


def _on_row_changed(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    what = sender._meta.verbose_name
    for name, model, pk in _ends(sender, instance):
        # A deal party shows on the company's page in the API (its deals) but the company's versions do not record
        # it (the deal's do), so the company only gets a new `updated`; the same holds for a source's evidence.
        versioned = model._meta.label in RELATIONS and not (
            sender._meta.label == "deals.DealParty" and name == "company"
        )
        _note(
            model, pk, version=versioned, reason=_reason(instance, what), user=getattr(instance, "_history_user", None)
        )


def _m2m_handler(field: models.ManyToManyField):
    owner = field.model
    source_id = f"{field.m2m_field_name()}_id"
    target = field.m2m_reverse_field_name()

    def handler(sender, instance, action, reverse, pk_set, **kwargs) -> None:
        if action == "pre_clear" and reverse:
            # A reverse clear sends no ids; remember them so the owners can be versioned afterwards.
            through = field.remote_field.through
            instance._history_clear_ids = list(
                through.objects.filter(**{target: instance.pk}).values_list(source_id, flat=True)
            )
            return
        if action not in ("post_add", "post_remove", "post_clear"):
            return
        reason = _reason(instance, field.name)
        if not reverse:
            _note(owner, instance.pk, reason=reason)
            return
        ids = pk_set if action != "post_clear" else getattr(instance, "_history_clear_ids", [])
        for pk in ids or ():
            _note(owner, pk, reason=reason)

    return handler


def history_signals_connect() -> None:
    """Connect the bookkeeping above: snapshots for every version, and versions for every relation change.

    ``dispatch_uid`` makes this idempotent.
    """
    for label in RELATIONS:
        model = apps.get_model(label)
        pre_create_historical_record.connect(
            _fill_snapshot, sender=model.history.model, dispatch_uid=f"reexapi-history-snapshot:{label}"
        )
        post_create_historical_record.connect(
            _feed_entry, sender=model.history.model, dispatch_uid=f"reexapi-history-feed:{label}"
        )
        for name in RELATIONS[label]["m2m"]:
            field = model._meta.get_field(name)
            m2m_changed.connect(
                _m2m_handler(field),
                sender=field.remote_field.through,
                weak=False,
                dispatch_uid=f"reexapi-history:{label}:{name}",
            )
    for label in ("deals.DealParty", "deals.FacilityCompany", "deals.Evidence"):
        model = apps.get_model(label)
        uid = f"reexapi-history:{label}"
        pre_save.connect(_stash_old, sender=model, dispatch_uid=f"{uid}:pre_save")
        post_save.connect(_on_row_changed, sender=model, dispatch_uid=f"{uid}:post_save")
        post_delete.connect(_on_row_changed, sender=model, dispatch_uid=f"{uid}:post_delete")


# --- reading versions -----------------------------------------------------------------------------------------------

_LABELS = {"facility_links": "facility links", "companies": "companies", "parties": "parties"}


def _item_label(key: str, row: dict) -> str:
    if key == "evidence":
        quote = row.get("quote", "")
        quote = quote if len(quote) <= 70 else quote[:69] + "…"
        return f"#{row.get('id')} {row.get('source')}: “{quote}” ({', '.join(row.get('fields') or []) or 'no fields'})"
    if "role" in row:
        return f"{row.get('slug')} ({row.get('role')})"
    return str(row.get("slug"))


def _item_key(key: str, row: dict):
    if key == "evidence":
        return row.get("id")
    return (row.get("slug"), row.get("role")) if "role" in row else row.get("slug")


def relations_changes(*, old: dict | None, new: dict | None) -> list[dict[str, Any]]:
    """What changed in the relations between two versions' snapshots, per relation, for the history page.

    Each entry: ``name``, ``added``, ``removed`` and (evidence) ``changed``, as lists of readable labels. ``old`` is
    ``None`` for a record's first version (everything it has is added). A version written before relations were
    recorded has an empty snapshot; nothing is compared against it.
    """
    if not new or old == {}:
        return []
    old = old or {}
    changes = []
    for key, rows in new.items():
        before = {_item_key(key, r): r for r in old.get(key, [])}
        after = {_item_key(key, r): r for r in rows}
        entry = {
            "name": _LABELS.get(key, key),
            "added": [_item_label(key, after[k]) for k in after if k not in before],
            "removed": [_item_label(key, before[k]) for k in before if k not in after],
            "changed": [_item_label(key, after[k]) for k in after if k in before and before[k] != after[k]],
        }
        if entry["added"] or entry["removed"] or entry["changed"]:
            changes.append(entry)
    return changes
