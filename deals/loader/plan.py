""":func:`dataset_plan`: the whole dataset read and checked into one plan, every problem collected."""

from __future__ import annotations

from pathlib import Path

from django.db import models

from deals.coverage import coverage_gap_messages, fields_coverage, value_canonical
from deals.loader.reading import (
    COMMODITIES_FILE,
    SOURCES_FILE,
    DatasetError,
    DatasetPlan,
    RecordPlan,
    _Collector,
    _full_clean,
    _read_yaml,
    _slug_ref,
    _topological,
    _values,
)
from deals.loader.records import (
    _commodity_plans,
    _evidence,
    _links,
    _slug_list,
    _source_plans,
)
from deals.models import (
    Company,
    Deal,
    DealParty,
    Evidence,
    Facility,
    FacilityCompany,
    PublicationStatus,
    Source,
)
from deals.models import SupplyChainStage as Stage

_KINDS = {"companies": Company, "facilities": Facility, "deals": Deal}
_SPECIAL = {
    Company: {"evidence", "parent", "merged_into"},
    Facility: {"evidence", "commodities", "companies", "merged_into"},
    Deal: {"evidence", "stages", "commodities", "facilities", "parties", "merged_into"},
}


def stored_evidence_problems(*, sources: list[RecordPlan], rewritten: dict[str, set[str]]) -> list[str]:
    """Report stored evidence that a changed source text would break.

    The load replaces the evidence of the fixture records it rewrites (``rewritten``: target name → slugs), so only
    the other rows matter: evidence of records that are not in the fixtures (an editor's additions), or that the
    load leaves alone because an editor changed them, keeps its offsets and must still quote the new text there.
    """
    errors = _Collector()
    new_texts = {p.slug: p.values["text"] for p in sources}
    stored = Source.objects.filter(slug__in=new_texts).values_list("slug", "text")
    changed = {slug: new_texts[slug] for slug, text in stored if text != new_texts[slug]}
    if not changed:
        return []
    rows = Evidence.objects.filter(source__slug__in=changed).values_list(
        "pk", "source__slug", "quote", "start", "end", "deal__slug", "company__slug", "facility__slug"
    )
    for pk, source_slug, quote, start, end, deal, company, facility in rows.order_by("source__slug", "start", "pk"):
        target, slug = next((t, s) for t, s in (("deal", deal), ("company", company), ("facility", facility)) if s)
        if slug in rewritten.get(target, set()):
            continue
        text = changed[source_slug]
        if text[start:end] == quote:
            continue
        errors.add(
            f"{SOURCES_FILE}: source {source_slug!r}: the changed text would break evidence #{pk} of {target} "
            f"{slug!r} (not loaded from the fixtures): quote {quote[:100]!r} is no longer at {start}-{end}; "
            f"fix that evidence first"
        )
    return errors.errors


def _coverage_check(*, plan: RecordPlan, errors: _Collector) -> None:
    """Give each quote the values it states (the fixture's) and refuse every non-empty field no quote names.

    The same rule as ``verify_provenance`` (:mod:`deals.coverage`): coverage per field, relations item by item.
    """
    values = {name: value_canonical(value) for name, value in plan.values.items()}
    values.update({name: sorted(slugs) for name, slugs in plan.m2m.items()})
    if plan.model is Company:
        values["parent"] = plan.parent
    elif plan.model is Facility:
        values["companies"] = value_canonical(plan.links)
    else:
        values["parties"] = value_canonical(plan.links)
    for evidence in plan.evidence:
        evidence.values = {
            name: evidence.claims[name] if name in evidence.claims else values[name]
            for name in evidence.fields
            if name in values
        }
    for message in coverage_gap_messages(fields_coverage(model=plan.model, values=values, evidence=plan.evidence)):
        errors.add(f"{plan.label}: {message} Add a quote that states it (listing the field), or leave it empty.")


def dataset_plan(*, path: Path) -> DatasetPlan:
    """Read the dataset at ``path`` and check all of it; raise :class:`DatasetError` listing every problem.

    Reads the database only to learn which records exist (for slug clashes) and the seeded supply-chain stages.
    """
    path = Path(path)
    errors = _Collector()
    if not path.is_dir():
        raise DatasetError([f"dataset directory not found: {path}"])
    sources, texts, checks = _source_plans(path=path, errors=errors)
    commodities = _commodity_plans(path=path, errors=errors)
    commodity_slugs = {c.slug for c in commodities}
    stage_slugs = set(Stage.objects.values_list("slug", flat=True))

    # First pass: collect raw record mappings from every record file, so references may point across files.
    raw: dict[type[models.Model], list[tuple[str, str, dict, str | None]]] = {m: [] for m in _KINDS.values()}
    seen: dict[tuple[type[models.Model], str], str] = {}
    record_files = sorted(p for p in path.glob("*.yaml") if p.name not in (SOURCES_FILE, COMMODITIES_FILE))
    for file in record_files:
        data = _read_yaml(file, errors)
        if data is None:
            continue
        if not isinstance(data, dict):
            errors.add(f"{file.name}: must be a mapping with 'source', 'companies', 'facilities' and 'deals'")
            continue
        for key in sorted(set(data) - {"source", *_KINDS}):
            errors.add(f"{file.name}: unknown top-level key {key!r}")
        default_source = _slug_ref(data.get("source"), where=file.name, name="source", errors=errors)
        if default_source is not None and default_source not in texts:
            errors.add(f"{file.name}: source: unknown source slug {default_source!r}")
        for key, model in _KINDS.items():
            items = data.get(key) or []
            if not isinstance(items, list):
                errors.add(f"{file.name}: {key}: must be a list")
                continue
            for item in items:
                slug = item.get("slug") if isinstance(item, dict) else None
                name = model._meta.verbose_name
                if not isinstance(slug, str) or not slug:
                    errors.add(f"{file.name}: {key}: every {name} needs a slug, got {str(item)[:80]!r}")
                    continue
                where = f"{file.name}: {name} {slug!r}"
                if (model, slug) in seen:
                    errors.add(f"{where}: slug already used in {seen[(model, slug)]}")
                    continue
                seen[(model, slug)] = file.name
                raw[model].append((slug, where, item, default_source))

    company_slugs = {slug for slug, *_ in raw[Company]}
    facility_slugs = {slug for slug, *_ in raw[Facility]}
    plans: dict[type[models.Model], list[RecordPlan]] = {m: [] for m in _KINDS.values()}
    for model, entries in raw.items():
        for slug, where, item, default_source in entries:
            values = _values(model=model, data=item, special=_SPECIAL[model], where=where, errors=errors)
            _full_clean(model=model, slug=slug, values=values, where=where, errors=errors)
            plan = RecordPlan(model=model, slug=slug, label=where, values=values)
            plan.merged_into = _slug_ref(item.get("merged_into"), where=where, name="merged_into", errors=errors)
            if plan.merged_into is not None and plan.merged_into not in {s for s, *_ in raw[model]}:
                errors.add(f"{where}: merged_into: unknown {model._meta.verbose_name} slug {plan.merged_into!r}")
                plan.merged_into = None
            # A draft or withdrawn record may have no evidence yet (an export includes them); a published one may not.
            needs_evidence = item.get("evidence") or values.get("publication_status") == PublicationStatus.PUBLISHED
            plan.evidence = []
            if needs_evidence:
                plan.evidence = _evidence(
                    items=item.get("evidence"),
                    model=model,
                    default_source=default_source,
                    texts=texts,
                    where=where,
                    errors=errors,
                )
            if model is Company:
                plan.parent = _slug_ref(item.get("parent"), where=where, name="parent", errors=errors)
            elif model is Facility:
                plan.m2m["commodities"] = _slug_list(
                    item.get("commodities"),
                    where=where,
                    name="commodities",
                    known=commodity_slugs,
                    kind="commodity",
                    errors=errors,
                )
                plan.links = _links(
                    item.get("companies"),
                    where=where,
                    name="companies",
                    roles=set(FacilityCompany.Role.values),
                    companies=company_slugs,
                    errors=errors,
                )
            else:
                for name, known, kind in (
                    ("stages", stage_slugs, "supply-chain stage"),
                    ("commodities", commodity_slugs, "commodity"),
                    ("facilities", facility_slugs, "facility"),
                ):
                    plan.m2m[name] = _slug_list(
                        item.get(name), where=where, name=name, known=known, kind=kind, errors=errors
                    )
                plan.links = _links(
                    item.get("parties"),
                    where=where,
                    name="parties",
                    roles=set(DealParty.Role.values),
                    companies=company_slugs,
                    errors=errors,
                )
            plans[model].append(plan)

    # A raw document already stored under another slug would break Source.raw_sha256's uniqueness.
    for source in sources:
        clash = (
            Source.objects.filter(raw_sha256=source.values["raw_sha256"])
            .exclude(slug=source.slug)
            .values_list("slug", flat=True)
            .first()
        )
        if clash:
            errors.add(f"{source.label}: the same raw document is already stored as source {clash!r}")

    for model_plans in plans.values():
        for plan in model_plans:
            # Coverage is the rule for what is public: a draft (in an export) still gets its quotes' values.
            published = plan.values.get("publication_status") == PublicationStatus.PUBLISHED
            _coverage_check(plan=plan, errors=errors if published else _Collector())
    companies = _topological(plans[Company], "company", errors)
    if errors.errors:
        raise DatasetError(errors.errors)
    return DatasetPlan(
        sources=sources,
        commodities=commodities,
        companies=companies,
        facilities=plans[Facility],
        deals=plans[Deal],
        checks=checks,
    )
