"""Who owns a fixture record: the loader (it may write it) or someone else (the loader leaves it alone).

The loader keeps, per record it writes, a :class:`deals.models.FixtureState`: a snapshot of exactly what it wrote
(the record's values, its relations and its evidence) and that snapshot's digest. At the next load, a record whose
current snapshot has another digest was changed outside the loader: in the admin, by an import, from a shell, by
``QuerySet.update()`` or raw SQL. The snapshot is read from the rows themselves, so no write path can slip past it;
django-simple-history is consulted only to say who changed the record and when.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models

from deals.models import (
    Commodity,
    Company,
    Deal,
    DealParty,
    Evidence,
    Facility,
    FacilityCompany,
    FixtureState,
    Source,
)

if TYPE_CHECKING:
    from deals.loader import RecordPlan

LOAD_CHANGE_REASON = "load_dataset"
OVERWRITE_CHANGE_REASON = "load_dataset --overwrite"
# Bookkeeping columns: never an editor's change, never compared.
_BOOKKEEPING = {"id", "created", "updated"}
# Role links that belong to their record (the link's foreign key naming the record).
LINKS: dict[type[models.Model], tuple[type[models.Model], str]] = {
    Deal: (DealParty, "deal"),
    Facility: (FacilityCompany, "facility"),
}
EVIDENCE_TARGETS: dict[type[models.Model], str] = {Deal: "deal", Company: "company", Facility: "facility"}
TRACKED = (Source, Commodity, Company, Facility, Deal)


def _plain(value: Any) -> Any:
    """A JSON-stable form of a column value (decimals without trailing zeros, ISO dates)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def _columns(model: type[models.Model], *, skip: set[str] = frozenset()) -> list[tuple[str, str]]:
    """(name, values() lookup) for every compared column: foreign keys by the target's slug."""
    out = []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.name in _BOOKKEEPING or f.name in skip:
            continue
        out.append((f.name, f"{f.name}__slug" if f.is_relation else f.name))
    return out


def _rows(model: type[models.Model], *, filters: dict, key: str, skip: set[str]) -> dict[int, list[dict]]:
    """The rows of ``model`` matching ``filters``, as plain dicts, grouped by the ``key`` column."""
    cols = _columns(model, skip=skip)
    grouped: dict[int, list[dict]] = {}
    for row in model.objects.filter(**filters).values(key, *(lookup for _, lookup in cols)):
        item = {name: _plain(row[lookup]) for name, lookup in cols}
        grouped.setdefault(row[key], []).append(item)
    return grouped


def _canonical(items: list[dict]) -> list[dict]:
    return sorted(items, key=lambda d: json.dumps(d, sort_keys=True, default=str, ensure_ascii=False))


def record_snapshots(*, model: type[models.Model], pks: list[int]) -> dict[int, dict]:
    """The current snapshot of each record of ``model`` with a primary key in ``pks`` (missing ones are absent)."""
    if not pks:
        return {}
    out: dict[int, dict] = {}
    for pk, (values,) in _rows(model, filters={"pk__in": pks}, key="pk", skip=set()).items():
        out[pk] = {"values": values}
    for f in model._meta.many_to_many:
        through = f.remote_field.through
        if not through._meta.auto_created:
            continue  # parties and facility companies: role links, below
        src, tgt = f.m2m_field_name(), f.m2m_reverse_field_name()
        for pk in out:
            out[pk][f.name] = []
        for pk, slug in through.objects.filter(**{f"{src}_id__in": pks}).values_list(f"{src}_id", f"{tgt}__slug"):
            out[pk][f.name].append(slug)
        for pk in out:
            out[pk][f.name].sort()
    if model in LINKS:
        link, owner = LINKS[model]
        rows = _rows(link, filters={f"{owner}_id__in": pks}, key=f"{owner}_id", skip={owner})
        for pk in out:
            out[pk]["links"] = _canonical(rows.get(pk, []))
    if model in EVIDENCE_TARGETS:
        target = EVIDENCE_TARGETS[model]
        rows = _rows(Evidence, filters={f"{target}_id__in": pks}, key=f"{target}_id", skip=set(Evidence.TARGETS))
        for pk in out:
            out[pk]["evidence"] = _canonical(rows.get(pk, []))
    return out


def snapshot_digest(snapshot: dict) -> str:
    """SHA-256 of the snapshot's canonical JSON."""
    data = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def snapshot_changes(old: dict, new: dict) -> list[str]:
    """What differs between two snapshots: field names, relation names, ``evidence``; sorted."""
    names = [n for n in sorted(set(old.get("values", {})) | set(new.get("values", {}))) if n != "slug"]
    out = [n for n in names if old.get("values", {}).get(n) != new.get("values", {}).get(n)]
    if old.get("values", {}).get("slug") != new.get("values", {}).get("slug"):
        out.insert(0, "slug")
    for key in sorted((set(old) | set(new)) - {"values"}):
        if old.get(key) != new.get(key):
            out.append("parties" if key == "links" and "parties" not in out else key)
    return out


def _history_querysets(*, model: type[models.Model], pk: int) -> list[models.QuerySet]:
    """History of a record, its role links and its evidence (deleted rows included)."""
    sets = [model.history.filter(id=pk)]
    if model in LINKS:
        link, owner = LINKS[model]
        sets.append(link.history.filter(**{f"{owner}_id": pk}))
    if model in EVIDENCE_TARGETS:
        sets.append(Evidence.history.filter(**{f"{EVIDENCE_TARGETS[model]}_id": pk}))
    return sets


def _latest(querysets: list[models.QuerySet]):
    rows = [qs.select_related("history_user").order_by("-history_date", "-history_id").first() for qs in querysets]
    rows = [r for r in rows if r is not None]
    return max(rows, key=lambda r: r.history_date) if rows else None


def record_last_loaded(*, model: type[models.Model], pk: int) -> bool:
    """Whether the last recorded write to the record (or its links or evidence) was the loader's.

    Only for records the loader has no snapshot of (databases loaded before snapshots existed).
    """
    latest = _latest(_history_querysets(model=model, pk=pk))
    return latest is not None and (latest.history_change_reason or "").startswith(LOAD_CHANGE_REASON)


def record_last_change(
    *, model: type[models.Model], pk: int, since: datetime.datetime | None, deleted: bool = False
) -> str:
    """'by <user> at <time>' for the latest change outside the loader, from the history; or 'unknown (no history)'
    when the history holds none after ``since`` (a ``QuerySet.update()``, raw SQL, or a write without history).

    For a deleted record only its own deletion row counts: the evidence deleted with it is recorded without a user.
    """
    sets = [model.history.filter(id=pk)] if deleted else _history_querysets(model=model, pk=pk)
    querysets = [qs.exclude(history_change_reason__startswith=LOAD_CHANGE_REASON) for qs in sets]
    latest = _latest(querysets)
    if latest is None or (since is not None and latest.history_date < since):
        return "by unknown (no history)"
    user = latest.history_user.get_username() if latest.history_user else "unknown user"
    return f"by {user} at {latest.history_date.strftime('%Y-%m-%d %H:%M:%S %Z').strip()}"


# --- decisions ----------------------------------------------------------------------------------------------------

CREATE = "create"  # not in the database: the loader creates it
WRITE = "write"  # the loader owns it (its snapshot is unchanged): written where the fixture differs
CHECK = "check"  # changed outside the loader, or never snapshotted: kept unless the fixture already matches it
KEEP = "keep"  # left alone, and named in the report
DELETED = "deleted"  # deleted outside the loader: not re-created


@dataclass
class Decision:
    """What the load does with one fixture record, and why."""

    plan: RecordPlan
    action: str
    obj_id: int | None = None
    state: FixtureState | None = None
    forced: bool = False  # --overwrite took the fixture's version of a record changed outside the loader
    reason: str = ""
    changes: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.plan.model._meta.model_name, self.plan.slug)

    @property
    def change_reason(self) -> str:
        return OVERWRITE_CHANGE_REASON if self.forced else LOAD_CHANGE_REASON


def fixture_decisions(*, plans: list[RecordPlan], overwrite: set[tuple[str, str]] | None) -> dict[tuple, Decision]:
    """Decide, per fixture record, whether the loader may write it (see the action constants).

    ``overwrite`` names records (model name, slug) whose fixture version is taken even though they were changed or
    deleted outside the loader; ``None`` means every record.
    """
    decisions: dict[tuple, Decision] = {}
    by_model: dict[type[models.Model], list[RecordPlan]] = {}
    for p in plans:
        by_model.setdefault(p.model, []).append(p)
    for model, group in by_model.items():
        label = model._meta.label_lower
        states = {s.slug: s for s in FixtureState.objects.filter(model=label, slug__in=[p.slug for p in group])}
        known = [s.object_id for s in states.values()]
        state_pks = set(model.objects.filter(pk__in=known).values_list("pk", flat=True))
        by_slug = dict(model.objects.filter(slug__in=[p.slug for p in group]).values_list("slug", "pk"))
        current = record_snapshots(model=model, pks=sorted(state_pks))
        for p in group:
            state = states.get(p.slug)
            d = Decision(plan=p, action=CREATE, state=state)
            if state is not None and state.object_id in state_pks:
                d.obj_id = state.object_id
                if snapshot_digest(current[d.obj_id]) == state.digest:
                    d.action = WRITE
                else:
                    d.action = CHECK
                    d.changes = snapshot_changes(state.snapshot, current[d.obj_id])
            elif p.slug in by_slug:
                # Never snapshotted (or deleted and made again under the same slug): the loader's own if the
                # history says it wrote it last, otherwise kept unless the fixture already matches it.
                d.obj_id = by_slug[p.slug]
                d.action = WRITE if state is None and record_last_loaded(model=model, pk=d.obj_id) else CHECK
            elif state is not None:
                d.action = DELETED
            forced = overwrite is None or (model._meta.model_name, p.slug) in overwrite
            if forced and d.action in (CHECK, DELETED):
                d.forced = True
                d.action = WRITE if d.action == CHECK else CREATE
            decisions[d.key] = d
    return decisions


def _references(p: RecordPlan) -> list[tuple[str, str]]:
    """The (model name, slug) of every fixture record that ``p`` points at."""
    refs: list[tuple[str, str]] = []
    kind = p.model._meta.model_name
    if p.parent:
        refs.append((kind, p.parent))
    refs += [("commodity", s) for s in p.m2m.get("commodities", [])]
    refs += [("facility", s) for s in p.m2m.get("facilities", [])]
    refs += [("company", c) for c, _role in p.links]
    refs += [("source", e.source_slug) for e in p.evidence]
    return refs


def decisions_dependencies(*, decisions: dict[tuple, Decision]) -> None:
    """Keep (not write) every record that points at a fixture record deleted outside the loader and not re-created.

    Records are checked in dependency order (the plans' order), so a record kept for this reason still exists and
    needs nothing further: what points at it can be written.
    """
    for d in decisions.values():
        if d.action not in (CREATE, WRITE, CHECK):
            continue
        for ref in _references(d.plan):
            other = decisions.get(ref)
            if other is not None and other.action == DELETED:
                d.action = KEEP
                d.reason = f"refers to {ref[0]} {ref[1]!r}, which was deleted outside the loader"
                break
