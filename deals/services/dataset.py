"""Loading the dataset: writing a validated :class:`deals.loader.DatasetPlan` in one transaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.db.models import Q

from deals.history import history_deferred
from deals.models import (
    PUBLICATION_FIELDS,
    Commodity,
    Company,
    Deal,
    DealParty,
    Evidence,
    Facility,
    FacilityCompany,
    Source,
    SupplyChainStage,
)

if TYPE_CHECKING:
    from deals.loader import RecordPlan


LOAD_CHANGE_REASON = "load_dataset"


@dataclass
class LoadReport:
    """What :func:`dataset_load` did, per model: created, updated, unchanged and deleted rows."""

    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    deleted: Counter = field(default_factory=Counter)
    checks: int = 0

    @property
    def changed(self) -> int:
        """Rows written or deleted; 0 when the database already matched the fixtures."""
        return sum(self.created.values()) + sum(self.updated.values()) + sum(self.deleted.values())

    def total(self, name: str) -> int:
        return self.created[name] + self.updated[name] + self.unchanged[name]

    def lines(self) -> list[str]:
        names = ["source", "commodity", "company", "facility", "deal", "deal party", "facility company", "evidence"]
        out = []
        for name in names:
            out.append(
                f"{name}: {self.total(name)} ({self.created[name]} created, {self.updated[name]} updated, "
                f"{self.unchanged[name]} unchanged, {self.deleted[name]} deleted)"
            )
        out.append(f"source metadata checks verified: {self.checks}")
        out.append("nothing changed" if not self.changed else f"{self.changed} row(s) written or deleted")
        return out


def _write(obj: models.Model, *, delete: bool = False) -> None:
    """Save or delete with the change reason django-simple-history records for fixture loads."""
    obj._change_reason = LOAD_CHANGE_REASON
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
    existing: dict[str, models.Model],
    values: dict[str, Any],
    m2m: dict[str, list[models.Model]],
    links: tuple[type[models.Model], str, str, list[tuple[models.Model, str]]] | None,
    report: LoadReport,
) -> models.Model:
    """Create or update one record and its many-to-many sets and role links, saving only what differs.

    ``links`` is (link model, accessor on the record, the link's field naming the record, [(company, role)]).
    """
    name = plan.model._meta.verbose_name
    obj = existing.get(plan.slug)
    created = obj is None
    if created:
        obj = plan.model(slug=plan.slug, **values)
        changed = True
    else:
        # The lifecycle of a stored record (published, withdrawn, merged) belongs to the editors: the fixture's
        # publication_status applies when the loader creates the record, never over an editor's withdrawal or merge.
        diffs = [n for n, v in values.items() if n not in PUBLICATION_FIELDS and _differs(obj, n, v)]
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
    _write(obj)
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
                _write(link, delete=True)
                report.deleted[link_name] += 1
        for company, role in wanted:
            if (company.pk, role) in current:
                report.unchanged[link_name] += 1
            else:
                _write(link_model(**{owner: obj}, company=company, role=role))
                report.created[link_name] += 1
    return obj


@transaction.atomic
@history_deferred()
def dataset_load(*, path: Path) -> LoadReport:
    """Load the YAML dataset at ``path`` (see :mod:`deals.loader`) into the database, in one transaction.

    Everything is validated first (every quote located in its source's normalised text, every slug resolved,
    every record ``full_clean()``-ed); any problem raises :class:`deals.loader.DatasetError` before a row is
    written. The load is idempotent: rows whose values already match are not saved, so a second run changes no
    timestamps, history rows or evidence ids. Evidence is matched on (source, record, start, end); evidence of a
    fixture record that the fixture no longer lists is deleted. Records absent from the fixtures are left alone.
    Every write carries the change reason ``load_dataset`` in django-simple-history, and each record changed gets
    one version, recording its relations as loaded (:func:`deals.history.history_deferred`).
    """
    from deals.loader import dataset_plan  # the loader imports this module's text helpers

    plan = dataset_plan(path=path)
    report = LoadReport(checks=plan.checks)

    def bulk(model, plans, *prefetch):
        return model.objects.prefetch_related(*prefetch).in_bulk([p.slug for p in plans], field_name="slug")

    sources = {}
    existing = bulk(Source, plan.sources)
    for p in plan.sources:
        sources[p.slug] = _record_upsert(plan=p, existing=existing, values=p.values, m2m={}, links=None, report=report)

    commodities: dict[str, Commodity] = {}
    existing = bulk(Commodity, plan.commodities)
    for p in plan.commodities:
        values = {**p.values, "parent": commodities[p.parent] if p.parent else None}
        commodities[p.slug] = _record_upsert(
            plan=p, existing=existing, values=values, m2m={}, links=None, report=report
        )

    companies: dict[str, Company] = {}
    existing = bulk(Company, plan.companies)
    for p in plan.companies:
        values = {**p.values, "parent": companies[p.parent] if p.parent else None}
        companies[p.slug] = _record_upsert(plan=p, existing=existing, values=values, m2m={}, links=None, report=report)

    facilities: dict[str, Facility] = {}
    existing = bulk(Facility, plan.facilities, "commodities", "company_links")
    for p in plan.facilities:
        facilities[p.slug] = _record_upsert(
            plan=p,
            existing=existing,
            values=p.values,
            m2m={"commodities": [commodities[s] for s in p.m2m["commodities"]]},
            links=(FacilityCompany, "company_links", "facility", [(companies[c], r) for c, r in p.links]),
            report=report,
        )

    stages = SupplyChainStage.objects.in_bulk(field_name="slug")
    deals: dict[str, Deal] = {}
    existing = bulk(Deal, plan.deals, "stages", "commodities", "facilities", "party_links")
    for p in plan.deals:
        deals[p.slug] = _record_upsert(
            plan=p,
            existing=existing,
            values=p.values,
            m2m={
                "stages": [stages[s] for s in p.m2m["stages"]],
                "commodities": [commodities[s] for s in p.m2m["commodities"]],
                "facilities": [facilities[s] for s in p.m2m["facilities"]],
            },
            links=(DealParty, "party_links", "deal", [(companies[c], r) for c, r in p.links]),
            report=report,
        )

    _evidence_sync(
        targets=[
            (companies, plan.companies, "company"),
            (facilities, plan.facilities, "facility"),
            (deals, plan.deals, "deal"),
        ],
        sources=sources,
        report=report,
    )
    return report


def _evidence_sync(*, targets, sources: dict[str, Source], report: LoadReport) -> None:
    """Upsert the evidence of every fixture record by (source, record, start, end); delete what the fixture dropped."""
    target_filter = Q()
    for objs, _plans, target in targets:
        target_filter |= Q(**{f"{target}__in": list(objs.values())})
    current = {
        (ev.source_id, ev.target_label, ev.deal_id or ev.company_id or ev.facility_id, ev.start, ev.end): ev
        for ev in Evidence.objects.filter(target_filter)
    }
    wanted: set[tuple] = set()
    for objs, plans, target in targets:
        for p in plans:
            record = objs[p.slug]
            for e in p.evidence:
                source = sources[e.source_slug]
                key = (source.pk, target, record.pk, e.start, e.end)
                wanted.add(key)
                values = {"quote": e.quote, "fields": e.fields, "values": e.values, "note": e.note}
                ev = current.get(key)
                if ev is None:
                    ev = Evidence(source=source, start=e.start, end=e.end, **{target: record}, **values)
                    ev.clean()
                    _write(ev)
                    report.created["evidence"] += 1
                elif any(getattr(ev, n) != v for n, v in values.items()):
                    for n, v in values.items():
                        setattr(ev, n, v)
                    ev.source = source  # the in-memory source, so clean() reads the text just loaded
                    ev.clean()
                    _write(ev)
                    report.updated["evidence"] += 1
                else:
                    report.unchanged["evidence"] += 1
    for key, ev in current.items():
        if key not in wanted:
            _write(ev, delete=True)
            report.deleted["evidence"] += 1
