"""Read and check the YAML dataset (``fixtures/dataset/``) into a load plan, without writing anything.

The dataset is a directory of YAML files:

- ``sources.yaml``: the source documents (``file`` points at the raw document, relative to the dataset directory);
- ``commodities.yaml``: the commodity vocabulary;
- any other ``*.yaml``: records, one file per source article, with top-level ``source`` (the default source of
  its evidence), ``companies``, ``facilities`` and ``deals``.

:func:`dataset_plan` validates everything a load needs before :func:`deals.services.dataset.dataset_load` writes a row:
every quote is located in its source's normalised text (computed here from the raw bytes), every slug reference
resolves, every choice value is known, and every record passes ``full_clean()``. All problems are collected, each
naming the file, the record and (for evidence) the quote, so one run reports them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import models

from deals.coverage import coverage_gap_messages, fields_coverage, value_canonical
from deals.models import (
    Commodity,
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
from deals.services.sources import evidence_locate, source_text_prepare
from deals.text import QuoteError

SOURCES_FILE = "sources.yaml"
COMMODITIES_FILE = "commodities.yaml"
# Fields the loader never takes from a fixture: keys, timestamps, and the values it derives from the raw file.
_SKIPPED = {"id", "slug", "created", "updated"}
_SOURCE_DERIVED = {"text", "raw_sha256", "text_sha256", "original_filename"}


class DatasetError(Exception):
    """The dataset cannot be loaded; ``errors`` lists every problem found, each naming its record and quote."""

    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} problem(s) in the dataset:\n" + "\n".join(f"- {e}" for e in errors))
        self.errors = errors


@dataclass
class EvidencePlan:
    """One located quote: offsets into the normalised text of ``source_slug``."""

    source_slug: str
    start: int
    end: int
    quote: str
    fields: list[str]
    note: str
    # Per field, the value the quote states: the fixture's own value (fixture quotes support their record as loaded).
    values: dict[str, Any] = field(default_factory=dict)
    # Values the fixture states explicitly (an export's claims: a quote of a value the record no longer holds).
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass
class RecordPlan:
    """One record as the fixture wants it: plain field values plus references by slug."""

    model: type[models.Model]
    slug: str
    label: str
    values: dict[str, Any]
    parent: str | None = None
    # The survivor a merged duplicate points at (same model), by slug: an export's merged records.
    merged_into: str | None = None
    m2m: dict[str, list[str]] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)
    evidence: list[EvidencePlan] = field(default_factory=list)


@dataclass
class DatasetPlan:
    """Everything to write, in dependency order (parents before children)."""

    sources: list[RecordPlan]
    commodities: list[RecordPlan]
    companies: list[RecordPlan]
    facilities: list[RecordPlan]
    deals: list[RecordPlan]
    checks: int = 0

    @property
    def evidence_count(self) -> int:
        return sum(len(r.evidence) for r in self.companies + self.facilities + self.deals)


def _plain_fields(model: type[models.Model]) -> dict[str, models.Field]:
    """The concrete, non-relational fields a fixture sets (everything but keys and timestamps)."""
    return {
        f.name: f
        for f in model._meta.concrete_fields
        if f.name not in _SKIPPED and not f.is_relation and not f.primary_key
    }


def _empty(fld: models.Field) -> Any:
    """The value a field takes when the fixture leaves it out: the documents do not state it."""
    if getattr(fld, "multiple", False):
        return []
    if fld.has_default():
        return fld.get_default()
    return None if fld.null else ""


class _Collector:
    """Accumulates problems so that one run reports all of them."""

    def __init__(self):
        self.errors: list[str] = []

    def add(self, message: str) -> None:
        self.errors.append(message)

    def validation(self, where: str, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for name, errs in exc.message_dict.items():
                self.add(f"{where}: {name}: {' '.join(errs)}")
        else:
            self.add(f"{where}: {' '.join(exc.messages)}")


class _YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The safe loader (libyaml's when PyYAML was built with it: the pure-Python one is most of the load time), with
    unquoted dates kept as strings.

    PyYAML turns ``2025-08-22`` into a date itself and raises a bare ValueError for ``2025-13-01``, which names no
    record; as a string the value reaches the model field's own parsing, which reports it on the record and field.
    """


_YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _YamlLoader.construct_yaml_str)


def _read_yaml(path: Path, errors: _Collector) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_YamlLoader)
    except FileNotFoundError:
        errors.add(f"{path.name}: file not found at {path}")
    except yaml.YAMLError as exc:
        errors.add(f"{path.name}: not valid YAML: {exc}")
    except (ValueError, UnicodeDecodeError) as exc:
        # A scalar that PyYAML's own constructors reject, or bytes that are not UTF-8.
        errors.add(f"{path.name}: cannot be read: {exc}")
    return None


def _slug_ref(value: Any, *, where: str, name: str, errors: _Collector) -> str | None:
    """A single slug reference (a parent, a source): a non-empty string or nothing; anything else is an error."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        errors.add(f"{where}: {name}: must be a single slug, got {value!r}")
        return None
    return value


def _values(
    *, model: type[models.Model], data: dict, special: set[str], where: str, errors: _Collector
) -> dict[str, Any]:
    """Convert a fixture mapping into field values; unknown keys and unparseable values are errors."""
    fields = _plain_fields(model)
    for key in sorted(set(data) - set(fields) - special - {"slug"}):
        errors.add(f"{where}: unknown field {key!r}")
    values: dict[str, Any] = {}
    for name, fld in fields.items():
        if name not in data or data[name] is None:
            # Fixture records are the published dataset: they load as published unless the fixture says otherwise.
            values[name] = PublicationStatus.PUBLISHED if name == "publication_status" else _empty(fld)
            continue
        try:
            values[name] = fld.to_python(data[name])
        except ValidationError as exc:
            errors.add(f"{where}: {name}: {' '.join(exc.messages)}")
            values[name] = _empty(fld)
    return values


def _full_clean(*, model: type[models.Model], slug: str, values: dict, where: str, errors: _Collector) -> None:
    """Run the model's own validation (choices, validators, clean(), check constraints) on the fixture values.

    Relations are checked separately (by slug), and slug uniqueness is the plan's own check, because an existing
    row with the same slug is the one this record updates.
    """
    instance = model(slug=slug, **values)
    exclude = [f.name for f in model._meta.get_fields() if f.is_relation]
    try:
        instance.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as exc:
        errors.validation(where, exc)


def _topological(plans: list[RecordPlan], kind: str, errors: _Collector) -> list[RecordPlan]:
    """Order records so that every parent comes before its children; report unknown parents and cycles."""
    by_slug = {p.slug: p for p in plans}
    for p in plans:
        if p.parent is not None and p.parent not in by_slug:
            errors.add(f"{p.label}: parent: unknown {kind} slug {p.parent!r}")
            p.parent = None
    ordered: list[RecordPlan] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(p: RecordPlan) -> None:
        if state.get(p.slug) == 2:
            return
        if state.get(p.slug) == 1:
            errors.add(f"{p.label}: parent: the parent chain loops back to {p.slug!r}")
            return
        state[p.slug] = 1
        if p.parent is not None:
            visit(by_slug[p.parent])
        state[p.slug] = 2
        ordered.append(p)

    for p in plans:
        visit(p)
    return ordered


def _evidence(
    *,
    items: Any,
    model: type[models.Model],
    default_source: str | None,
    texts: dict[str, str],
    where: str,
    errors: _Collector,
) -> list[EvidencePlan]:
    """Locate every quote of one record in its source's normalised text."""
    if not isinstance(items, list) or not items:
        errors.add(f"{where}: no evidence; every record needs at least one quote")
        return []
    known = {f.name for f in model._meta.get_fields()}
    plans: list[EvidencePlan] = []
    spans: set[tuple[str, int, int]] = set()
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("quote"), str):
            errors.add(f"{where}: evidence #{i}: needs a 'quote' string")
            continue
        quote = item["quote"]
        at = f"{where}: evidence #{i} quote {quote[:100]!r}"
        for key in sorted(set(item) - {"quote", "source", "occurrence", "fields", "note", "values"}):
            errors.add(f"{at}: unknown key {key!r}")
        source_slug = item.get("source", default_source)
        if not isinstance(source_slug, str) or source_slug not in texts:
            errors.add(f"{at}: unknown source slug {source_slug!r}")
            continue
        fields = item.get("fields", [])
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            errors.add(f"{at}: fields must be a list of field names")
            fields = []
        unknown = sorted(set(fields) - known)
        if unknown:
            errors.add(f"{at}: not fields of {model._meta.model_name}: {', '.join(unknown)}")
        claims = item.get("values") or {}
        if not isinstance(claims, dict) or not set(claims) <= set(fields):
            errors.add(f"{at}: values must map some of the quote's fields to the value it states")
            claims = {}
        occurrence = item.get("occurrence")
        if occurrence is not None and (not isinstance(occurrence, int) or isinstance(occurrence, bool)):
            errors.add(f"{at}: occurrence must be a whole number")
            continue
        try:
            loc = evidence_locate(source=Source(text=texts[source_slug]), quote=quote, occurrence=occurrence)
        except QuoteError as exc:
            errors.add(f"{at} in source {source_slug!r}: {exc}")
            continue
        span = (source_slug, loc.start, loc.end)
        if span in spans:
            errors.add(f"{at}: the same passage is quoted twice for this record")
            continue
        spans.add(span)
        plans.append(
            EvidencePlan(
                source_slug=source_slug,
                start=loc.start,
                end=loc.end,
                quote=loc.quote,
                fields=list(fields),
                note=str(item.get("note") or "").strip(),
                claims=claims,
            )
        )
    return plans


def _slug_list(value: Any, *, where: str, name: str, known: set[str], kind: str, errors: _Collector) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        errors.add(f"{where}: {name}: must be a list of slugs")
        return []
    for s in value:
        if s not in known:
            errors.add(f"{where}: {name}: unknown {kind} slug {s!r}")
    if len(set(value)) != len(value):
        errors.add(f"{where}: {name}: a slug is listed twice")
    return [s for s in dict.fromkeys(value) if s in known]


def _links(
    value: Any, *, where: str, name: str, roles: set[str], companies: set[str], errors: _Collector
) -> list[tuple[str, str]]:
    """Parse ``[{company: slug, role: role}, …]`` for deal parties and facility companies."""
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(f"{where}: {name}: must be a list of {{company, role}} mappings")
        return []
    links: list[tuple[str, str]] = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"company", "role"}:
            errors.add(f"{where}: {name}: each entry needs exactly 'company' and 'role', got {item!r}")
            continue
        company, role = item["company"], item["role"]
        if not isinstance(company, str) or not isinstance(role, str):
            errors.add(f"{where}: {name}: company and role must each be a single value, got {item!r}")
            continue
        ok = True
        if company not in companies:
            errors.add(f"{where}: {name}: unknown company slug {company!r}")
            ok = False
        if role not in roles:
            errors.add(f"{where}: {name}: unknown role {role!r} (choose from {', '.join(sorted(roles))})")
            ok = False
        if ok and (company, role) in links:
            errors.add(f"{where}: {name}: {company!r} is listed twice as {role!r}")
        elif ok:
            links.append((company, role))
    return links


def _source_plans(*, path: Path, errors: _Collector) -> tuple[list[RecordPlan], dict[str, str], int]:
    data = _read_yaml(path / SOURCES_FILE, errors)
    if data is None:
        return [], {}, 0
    if not isinstance(data, list):
        errors.add(f"{SOURCES_FILE}: must be a list of sources")
        return [], {}, 0
    plans: list[RecordPlan] = []
    texts: dict[str, str] = {}
    raw_digests: dict[str, str] = {}
    checks = 0
    for item in data:
        slug = item.get("slug") if isinstance(item, dict) else None
        if not isinstance(slug, str) or not slug:
            errors.add(f"{SOURCES_FILE}: every source needs a slug, got {item!r}")
            continue
        where = f"{SOURCES_FILE}: source {slug!r}"
        if slug in texts:
            errors.add(f"{where}: slug used twice")
            continue
        raw_path = path / str(item.get("file", ""))
        if not item.get("file") or not raw_path.is_file():
            errors.add(f"{where}: file: raw document not found at {raw_path}")
            continue
        try:
            prepared = source_text_prepare(raw=raw_path.read_bytes())
        except UnicodeDecodeError as exc:
            errors.add(f"{where}: file: {raw_path.name} is not UTF-8 ({exc})")
            continue
        # Source.raw_sha256 is unique: one row per raw document.
        if prepared.raw_sha256 in raw_digests:
            other = raw_digests[prepared.raw_sha256]
            errors.add(f"{where}: file: {raw_path.name} is the same raw document as source {other!r}")
            continue
        raw_digests[prepared.raw_sha256] = slug
        data_fields = {k: v for k, v in item.items() if k not in _SOURCE_DERIVED}
        values = _values(model=Source, data=data_fields, special={"file", "checks"}, where=where, errors=errors)
        for k in _SOURCE_DERIVED & set(item):
            errors.add(f"{where}: {k} is computed from the raw file and cannot be set")
        values.update(
            text=prepared.text,
            raw_sha256=prepared.raw_sha256,
            text_sha256=prepared.text_sha256,
            original_filename=raw_path.name,
        )
        _full_clean(model=Source, slug=slug, values=values, where=where, errors=errors)
        texts[slug] = prepared.text
        # Metadata checks are verified like evidence but not stored: Evidence rows support deals, companies
        # and facilities only.
        # Checks are optional: a source an editor added in the admin has none.
        located = (
            _evidence(items=item["checks"], model=Source, default_source=slug, texts=texts, where=where, errors=errors)
            if item.get("checks")
            else []
        )
        checks += len(located)
        # Stored on the source (as located, so the quote is the text's own) for verify_provenance and the export.
        values["checks"] = [{"quote": e.quote, "fields": e.fields, "note": e.note} for e in located]
        plans.append(RecordPlan(model=Source, slug=slug, label=where, values=values))
    return plans, texts, checks


def _commodity_plans(*, path: Path, errors: _Collector) -> list[RecordPlan]:
    data = _read_yaml(path / COMMODITIES_FILE, errors)
    if data is None:
        return []
    if not isinstance(data, list):
        errors.add(f"{COMMODITIES_FILE}: must be a list of commodities")
        return []
    plans: list[RecordPlan] = []
    seen: set[str] = set()
    names: dict[str, str] = {}
    for item in data:
        slug = item.get("slug") if isinstance(item, dict) else None
        if not isinstance(slug, str) or not slug:
            errors.add(f"{COMMODITIES_FILE}: every commodity needs a slug, got {item!r}")
            continue
        where = f"{COMMODITIES_FILE}: commodity {slug!r}"
        if slug in seen:
            errors.add(f"{where}: slug used twice")
            continue
        seen.add(slug)
        values = _values(model=Commodity, data=item, special={"parent"}, where=where, errors=errors)
        _full_clean(model=Commodity, slug=slug, values=values, where=where, errors=errors)
        # Commodity.name is unique; _full_clean() leaves uniqueness to the plan, so check it here.
        name = values.get("name")
        if name and name in names:
            errors.add(f"{where}: name: {name!r} is already the name of commodity {names[name]!r}")
        elif name:
            names[name] = slug
        parent = _slug_ref(item.get("parent"), where=where, name="parent", errors=errors)
        plans.append(RecordPlan(model=Commodity, slug=slug, label=where, values=values, parent=parent))
    # …and against the database: a stored commodity of another slug may already have the name.
    stored = Commodity.objects.filter(name__in=names).exclude(slug__in=seen).values_list("name", "slug")
    for name, other in stored:
        errors.add(
            f"{COMMODITIES_FILE}: commodity {names[name]!r}: name: {name!r} is already the name of commodity "
            f"{other!r} in the database"
        )
    return _topological(plans, "commodity", errors)


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
