"""Loading the dataset: writing a validated :class:`deals.loader.DatasetPlan` in one transaction.

The database is the source of truth; the fixtures seed it. The loader writes a fixture record only while it owns
it, i.e. while nobody else changed it since the loader last wrote it (see :mod:`deals.services.dataset_state`);
everything else is left alone and named in the report, unless ``overwrite`` takes the fixture's version explicitly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone

from deals.history import history_deferred, history_discarded
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
    SupplyChainStage,
)
from deals.services.dataset_lock import dataset_lock_acquire
from deals.services.dataset_state import (
    CHECK,
    CREATE,
    DELETED,
    KEEP,
    LINKS,
    LOAD_CHANGE_REASON,
    WRITE,
    Decision,
    decisions_dependencies,
    fixture_decisions,
    record_last_change,
    record_snapshots,
    snapshot_changes,
    snapshot_digest,
)

if TYPE_CHECKING:
    from deals.loader import DatasetPlan, RecordPlan

__all__ = ["LOAD_CHANGE_REASON", "LoadReport", "dataset_load"]

DEFAULT_LOCK_TIMEOUT = 300.0


@dataclass
class LoadReport:
    """What :func:`dataset_load` did, per model: created, updated, unchanged, deleted and left-alone rows."""

    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    deleted: Counter = field(default_factory=Counter)
    left_alone: Counter = field(default_factory=Counter)
    checks: int = 0
    kept: list[str] = field(default_factory=list)
    overwritten: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        """Rows written or deleted; 0 when the database already matched the fixtures."""
        return sum(self.created.values()) + sum(self.updated.values()) + sum(self.deleted.values())

    def total(self, name: str) -> int:
        return self.created[name] + self.updated[name] + self.unchanged[name] + self.left_alone[name]

    def lines(self) -> list[str]:
        names = ["source", "commodity", "company", "facility", "deal", "deal party", "facility company", "evidence"]
        out = []
        for name in names:
            alone = f", {self.left_alone[name]} left alone" if self.left_alone[name] else ""
            out.append(
                f"{name}: {self.total(name)} ({self.created[name]} created, {self.updated[name]} updated, "
                f"{self.unchanged[name]} unchanged, {self.deleted[name]} deleted{alone})"
            )
        out.append(f"source metadata checks verified: {self.checks}")
        out.append("nothing changed" if not self.changed else f"{self.changed} row(s) written or deleted")
        if self.kept:
            out.append(
                f"left alone, because they were changed outside the loader since it last wrote them "
                f"({len(self.kept)}; `load_dataset --overwrite <model>:<slug>` takes the fixture's version):"
            )
            out += [f"  - {line}" for line in self.kept]
        if self.overwritten:
            out.append(f"overwritten with the fixture's version (--overwrite): {len(self.overwritten)}")
            out += [f"  - {line}" for line in self.overwritten]
        return out


def _write(obj: models.Model, *, reason: str, delete: bool = False) -> None:
    """Save or delete with the change reason django-simple-history records for fixture loads."""
    obj._change_reason = reason
    if delete:
        obj.delete()
    else:
        obj.save()


def _differs(obj: models.Model, name: str, value: Any) -> bool:
    fld = obj._meta.get_field(name)
    if fld.is_relation:
        return getattr(obj, fld.attname) != (value.pk if value is not None else None)
    return fld.get_prep_value(getattr(obj, name)) != fld.get_prep_value(value)


def _record_upsert(
    *,
    plan: RecordPlan,
    obj: models.Model | None,
    values: dict[str, Any],
    m2m: dict[str, list[models.Model]],
    links: tuple[type[models.Model], str, str, list[tuple[models.Model, str]]] | None,
    reason: str,
    report: LoadReport,
) -> models.Model:
    """Create or update one record and its many-to-many sets and role links, saving only what differs.

    ``links`` is (link model, accessor on the record, the link's field naming the record, [(company, role)]).
    """
    name = plan.model._meta.verbose_name
    created = obj is None
    if created:
        obj = plan.model(slug=plan.slug, **values)
        changed = True
    else:
        # An editor's withdrawal or merge is a change like any other: the snapshot check (fixture_decisions) keeps
        # the record and names it, unless --overwrite takes the fixture's lifecycle too.
        diffs = [n for n, v in values.items() if _differs(obj, n, v)]
        for n in diffs:
            setattr(obj, n, values[n])
        m2m_diffs = [
            n for n, targets in m2m.items() if {o.pk for o in getattr(obj, n).all()} != {t.pk for t in targets}
        ]
        link_rows = list(getattr(obj, links[1]).all()) if links else []
        link_diff = links is not None and {(lk.company_id, lk.role) for lk in link_rows} != {
            (c.pk, role) for c, role in links[3]
        }
        changed = bool(diffs or m2m_diffs or link_diff)
    if not changed:
        report.unchanged[name] += 1
        if links:
            report.unchanged[links[0]._meta.verbose_name] += len(links[3])
        return obj
    # A change to a record's relations also saves the record, so its `updated` and history show the load.
    _write(obj, reason=reason)
    (report.created if created else report.updated)[name] += 1
    for n, targets in m2m.items():
        getattr(obj, n).set(targets)
    if links:
        link_model, accessor, owner, wanted = links
        link_name = link_model._meta.verbose_name
        current = {} if created else {(lk.company_id, lk.role): lk for lk in getattr(obj, accessor).all()}
        wanted_keys = {(c.pk, role) for c, role in wanted}
        for key, link in current.items():
            if key not in wanted_keys:
                _write(link, reason=reason, delete=True)
                report.deleted[link_name] += 1
        for company, role in wanted:
            if (company.pk, role) in current:
                report.unchanged[link_name] += 1
            else:
                _write(link_model(**{owner: obj}, company=company, role=role), reason=reason)
                report.created[link_name] += 1
    return obj


def _writes(*, plan: DatasetPlan, decisions: dict[tuple, Decision], report: LoadReport) -> dict[tuple, models.Model]:
    """Write every record the loader may write (create, write, check); return every fixture record's row by key.

    Rows are read afresh, by primary key where the loader knows the record, so a renamed record is still found.
    """
    rows: dict[tuple, models.Model] = {}

    def fetch(model, plans, *prefetch):
        pks = [decisions[_key(p)].obj_id for p in plans if decisions[_key(p)].obj_id is not None]
        found = model.objects.prefetch_related(*prefetch).in_bulk(pks)
        for p in plans:
            d = decisions[_key(p)]
            if d.obj_id in found:
                rows[d.key] = found[d.obj_id]

    def upsert(p, build):
        """``build()`` gives (values, m2m, links); called only for records written, whose references all exist."""
        d = decisions[_key(p)]
        if d.action not in (CREATE, WRITE, CHECK):
            if d.action == KEEP:
                report.left_alone[p.model._meta.verbose_name] += 1
                if p.model in LINKS:
                    report.left_alone[LINKS[p.model][0]._meta.verbose_name] += len(p.links)
            return
        values, m2m, links = build()
        if getattr(p, "merged_into", None) is None and hasattr(p.model, "merged_into"):
            values = {**values, "merged_into": None}  # no longer merged: unlinked with the record's own save
        rows[d.key] = _record_upsert(
            plan=p, obj=rows.get(d.key), values=values, m2m=m2m, links=links, reason=d.change_reason, report=report
        )

    def ref(kind, slug):
        return rows[(kind, slug)]

    fetch(Source, plan.sources)
    for p in plan.sources:
        upsert(p, lambda p=p: (p.values, {}, None))
    fetch(Commodity, plan.commodities)
    for p in plan.commodities:
        upsert(p, lambda p=p: ({**p.values, "parent": ref("commodity", p.parent) if p.parent else None}, {}, None))
    fetch(Company, plan.companies)
    for p in plan.companies:
        upsert(p, lambda p=p: ({**p.values, "parent": ref("company", p.parent) if p.parent else None}, {}, None))
    fetch(Facility, plan.facilities, "commodities", "company_links")
    for p in plan.facilities:
        upsert(
            p,
            lambda p=p: (
                p.values,
                {"commodities": [ref("commodity", s) for s in p.m2m["commodities"]]},
                (FacilityCompany, "company_links", "facility", [(ref("company", c), r) for c, r in p.links]),
            ),
        )
    stages = SupplyChainStage.objects.in_bulk(field_name="slug")
    fetch(Deal, plan.deals, "stages", "commodities", "facilities", "party_links")
    for p in plan.deals:
        upsert(
            p,
            lambda p=p: (
                p.values,
                {
                    "stages": [stages[s] for s in p.m2m["stages"]],
                    "commodities": [ref("commodity", s) for s in p.m2m["commodities"]],
                    "facilities": [ref("facility", s) for s in p.m2m["facilities"]],
                },
                (DealParty, "party_links", "deal", [(ref("company", c), r) for c, r in p.links]),
            ),
        )
    _merged_into_set(plan=plan, decisions=decisions, rows=rows, report=report)
    written = [
        d
        for d in decisions.values()
        if d.action in (CREATE, WRITE, CHECK) and d.plan.model in (Company, Facility, Deal)
    ]
    for d in decisions.values():
        if d.action == KEEP and d.plan.model in (Company, Facility, Deal):
            report.left_alone["evidence"] += len(d.plan.evidence)
    _evidence_sync(decisions=written, rows=rows, report=report)
    return rows


def _merged_into_set(*, plan: DatasetPlan, decisions: dict, rows: dict, report: LoadReport) -> None:
    """Point merged duplicates at their survivors, once every record exists (a survivor may come later).

    The withdrawn status a merge needs was written with the record's values; a record that is no longer merged was
    unlinked by that same save (its values carry ``merged_into=None``).
    """
    for p in plan.companies + plan.facilities + plan.deals:
        d = decisions[_key(p)]
        if d.action not in (CREATE, WRITE, CHECK) or p.merged_into is None:
            continue
        obj, target = rows[d.key], rows.get((d.key[0], p.merged_into))
        if target is not None and obj.merged_into_id != target.pk:
            obj.merged_into = target
            _write(obj, reason=d.change_reason)
            report.updated[p.model._meta.verbose_name] += 0 if d.action == CREATE else 1


def _key(p: RecordPlan) -> tuple[str, str]:
    return (p.model._meta.model_name, p.slug)


def _all_plans(plan: DatasetPlan) -> list[RecordPlan]:
    return plan.sources + plan.commodities + plan.companies + plan.facilities + plan.deals


def _snapshots(decisions: list[Decision], rows: dict[tuple, models.Model] | None = None) -> dict[tuple, dict]:
    """Current snapshots of the decisions' records (by the row's pk after a write, else the known pk)."""
    by_model: dict[type[models.Model], dict[int, tuple]] = {}
    for d in decisions:
        pk = rows[d.key].pk if rows is not None and d.key in rows else d.obj_id
        if pk is not None:
            by_model.setdefault(d.plan.model, {})[pk] = d.key
    out: dict[tuple, dict] = {}
    for model, keys in by_model.items():
        for pk, snap in record_snapshots(model=model, pks=list(keys)).items():
            out[keys[pk]] = snap
    return out


def _check_pending(*, plan: DatasetPlan, decisions: dict[tuple, Decision]) -> None:
    """Settle the records changed outside the loader: adopted when the fixture already matches them, else kept.

    The fixture's version is written in a savepoint and compared with the record's current snapshot, then rolled
    back; this compares exactly what a load would store, through the same code path.
    """
    pending = [d for d in decisions.values() if d.action == CHECK]
    if not pending:
        return
    before = _snapshots(pending)
    sid = transaction.savepoint()
    # The trial writes are rolled back, so the versions and `updated` moves they would note must go with them.
    with history_discarded():
        try:
            rows = _writes(plan=plan, decisions=decisions, report=LoadReport())
            after = _snapshots(pending, rows)
        finally:
            transaction.savepoint_rollback(sid)
    for d in pending:
        same = before.get(d.key) == after.get(d.key)
        # A rename is an editor's change the fixture cannot match (it names the old slug), so it keeps the record.
        if same and before.get(d.key, {}).get("values", {}).get("slug") == d.plan.slug:
            d.action = WRITE  # identical: the loader adopts it (an editor's work committed back to the fixtures)
        else:
            d.action = KEEP
            d.changes = d.changes or snapshot_changes(after.get(d.key, {}), before.get(d.key, {}))
            since = d.state.written if d.state is not None else None
            who = record_last_change(model=d.plan.model, pk=d.obj_id, since=since)
            what = ", ".join(d.changes) or "its rows"
            d.reason = f"changed ({what}) {who}"


def _states_save(*, decisions: dict[tuple, Decision], rows: dict[tuple, models.Model]) -> None:
    """Store the snapshot of every record the loader now owns; rows whose snapshot is unchanged are not written."""
    owned = [d for d in decisions.values() if d.action in (CREATE, WRITE) and d.key in rows]
    snaps = _snapshots(owned, rows)
    now = timezone.now()
    for d in owned:
        snap = snaps[d.key]
        digest = snapshot_digest(snap)
        state = d.state
        pk = rows[d.key].pk
        if state is not None and state.digest == digest and state.object_id == pk:
            continue
        if state is None:
            state = FixtureState(model=d.plan.model._meta.label_lower, slug=d.plan.slug)
        state.object_id, state.digest, state.snapshot, state.written = pk, digest, snap, now
        state.save()


def _describe(d: Decision) -> str:
    name = d.plan.model._meta.verbose_name
    if d.action == DELETED:
        who = record_last_change(model=d.plan.model, pk=d.state.object_id, since=d.state.written, deleted=True)
        return f"{name} {d.plan.slug!r}: deleted {who}; not re-created"
    return f"{name} {d.plan.slug!r}: {d.reason}"


@transaction.atomic
@history_deferred()
def dataset_load(
    *,
    path: Path,
    overwrite: set[tuple[str, str]] | None = frozenset(),
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> LoadReport:
    """Load the YAML dataset at ``path`` (see :mod:`deals.loader`) into the database, in one transaction.

    Everything is validated first (every quote located in its source's normalised text, every slug resolved,
    every record ``full_clean()``-ed); any problem raises :class:`deals.loader.DatasetError` before a row is
    written. Concurrent loads are serialised by a database lock (:func:`dataset_lock_acquire`; a wait longer than
    ``lock_timeout`` seconds raises ``DatasetBusy``).

    A fixture record that was changed or deleted outside the loader since it last wrote it is left alone (with its
    links and evidence) and named in the report; ``overwrite`` names records, as (model name, slug), whose fixture
    version is taken anyway (``None``: all of them), with the change reason ``load_dataset --overwrite``. The load
    is idempotent: rows whose values already match are not saved, so a second run changes no timestamps, history
    rows or evidence ids. Evidence is matched on (source, record, start, end); evidence of a fixture record that the
    fixture no longer lists is deleted. Records absent from the fixtures are left alone. Every write carries a change
    reason in django-simple-history, and each record changed gets one version, recording its relations as loaded
    (:func:`deals.history.history_deferred`).
    """
    from deals.loader import DatasetError, dataset_plan, stored_evidence_problems

    dataset_lock_acquire(timeout=lock_timeout)
    plan = dataset_plan(path=path)
    decisions = fixture_decisions(plans=_all_plans(plan), overwrite=overwrite)
    decisions_dependencies(decisions=decisions)
    _check_pending(plan=plan, decisions=decisions)

    problems: list[str] = []
    for p in plan.sources:
        d = decisions[_key(p)]
        stored = Source.objects.filter(pk=d.obj_id).values_list("text", flat=True).first()
        if d.action == KEEP and stored is not None and stored != p.values["text"]:
            problems.append(
                f"{p.label}: the fixture's text differs from the stored text, but the source was changed outside "
                f"the loader ({d.reason}); take the fixture's version with --overwrite source:{p.slug}"
            )
    rewritten: dict[str, set[str]] = {}
    for d in decisions.values():
        if d.action in (CREATE, WRITE):
            rewritten.setdefault(d.plan.model._meta.model_name, set()).add(d.plan.slug)
    problems += stored_evidence_problems(sources=plan.sources, rewritten=rewritten)
    if problems:
        raise DatasetError(problems)

    report = LoadReport(checks=plan.checks)
    rows = _writes(plan=plan, decisions=decisions, report=report)
    _states_save(decisions=decisions, rows=rows)
    for d in decisions.values():
        if d.action in (KEEP, DELETED):
            report.kept.append(_describe(d))
        elif d.forced:
            report.overwritten.append(f"{d.plan.model._meta.verbose_name} {d.plan.slug!r}")
    return report


def _evidence_sync(*, decisions: list[Decision], rows: dict[tuple, models.Model], report: LoadReport) -> None:
    """Upsert the evidence of every written fixture record by (source, record, start, end); delete what the fixture
    dropped. Records the load leaves alone keep their evidence untouched."""
    if not decisions:
        return
    target_filter = models.Q()
    for d in decisions:
        target_filter |= models.Q(**{d.key[0]: rows[d.key]})
    current = {
        (ev.source_id, ev.target_label, ev.deal_id or ev.company_id or ev.facility_id, ev.start, ev.end): ev
        for ev in Evidence.objects.filter(target_filter)
    }
    wanted: set[tuple] = set()
    reasons: dict[tuple, str] = {}
    for d in decisions:
        target, record = d.key[0], rows[d.key]
        for e in d.plan.evidence:
            source = rows[("source", e.source_slug)]
            key = (source.pk, target, record.pk, e.start, e.end)
            wanted.add(key)
            values = {"quote": e.quote, "fields": e.fields, "values": e.values, "note": e.note}
            ev = current.get(key)
            if ev is None:
                ev = Evidence(source=source, start=e.start, end=e.end, **{target: record}, **values)
                ev.clean()
                _write(ev, reason=d.change_reason)
                report.created["evidence"] += 1
            elif any(getattr(ev, n) != v for n, v in values.items()):
                for n, v in values.items():
                    setattr(ev, n, v)
                ev.source = source  # the in-memory source, so clean() reads the text just loaded
                ev.clean()
                _write(ev, reason=d.change_reason)
                report.updated["evidence"] += 1
            else:
                report.unchanged["evidence"] += 1
        for key in current:
            if key[1:3] == (target, record.pk):
                reasons[key] = d.change_reason
    for key, ev in current.items():
        if key not in wanted:
            _write(ev, reason=reasons.get(key, LOAD_CHANGE_REASON), delete=True)
            report.deleted["evidence"] += 1
