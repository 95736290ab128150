"""The load plan's types (:class:`DatasetPlan`, :class:`RecordPlan`, :class:`EvidencePlan`, :class:`DatasetError`)
and the reading of its YAML: values checked field by field, slug references, ``full_clean()`` and the order in which
records that name each other are written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import models

from deals.models import (
    PublicationStatus,
)

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


def plain_fields(model: type[models.Model]) -> dict[str, models.Field]:
    """The concrete, non-relational fields a fixture sets (everything but keys and timestamps)."""
    return {
        f.name: f
        for f in model._meta.concrete_fields
        if f.name not in _SKIPPED and not f.is_relation and not f.primary_key
    }


def field_empty(fld: models.Field) -> Any:
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


class YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The safe loader (libyaml's when PyYAML was built with it: the pure-Python one is most of the load time), with
    unquoted dates kept as strings.

    PyYAML turns ``2025-08-22`` into a date itself and raises a bare ValueError for ``2025-13-01``, which names no
    record; as a string the value reaches the model field's own parsing, which reports it on the record and field.
    """


YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", YamlLoader.construct_yaml_str)


def _read_yaml(path: Path, errors: _Collector) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=YamlLoader)
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
    fields = plain_fields(model)
    for key in sorted(set(data) - set(fields) - special - {"slug"}):
        errors.add(f"{where}: unknown field {key!r}")
    values: dict[str, Any] = {}
    for name, fld in fields.items():
        if name not in data or data[name] is None:
            # Fixture records are the published dataset: they load as published unless the fixture says otherwise.
            values[name] = PublicationStatus.PUBLISHED if name == "publication_status" else field_empty(fld)
            continue
        try:
            values[name] = fld.to_python(data[name])
        except ValidationError as exc:
            errors.add(f"{where}: {name}: {' '.join(exc.messages)}")
            values[name] = field_empty(fld)
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
