"""The plans of the dataset's parts: evidence (each quote located in its source's text), the links between
records, the sources (their raw files normalised and hashed) and the commodity vocabulary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import models

from deals.loader.reading import (
    _SOURCE_DERIVED,
    COMMODITIES_FILE,
    SOURCES_FILE,
    EvidencePlan,
    RecordPlan,
    _Collector,
    _full_clean,
    _read_yaml,
    _slug_ref,
    _topological,
    _values,
)
from deals.models import (
    Commodity,
    Source,
)
from deals.services.sources import evidence_locate, source_text_prepare
from deals.text import QuoteError


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
