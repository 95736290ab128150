"""Exporting the dataset: the database written back as YAML, in the fixtures' own layout and canonical form.

``dataset_export`` writes ``sources.yaml``, ``commodities.yaml`` and one file of records per source,
``<source slug>.yaml``: a company, facility or deal goes into the file of the source its first evidence row cites
(``fixtures/dataset/`` was brought into this form, so an export right after a fresh load reproduces it byte for
byte). A record with no evidence at all (a draft an editor has not backed yet) goes into ``no-evidence.yaml``.
Raw documents live in the sibling directory ``../sources/`` as in ``fixtures/``: a source whose raw file is found
there or in ``fixtures/sources/`` (same SHA-256) is referenced (copied when needed); a source added in the admin,
whose raw bytes are not kept, is written as its normalised text, ``<slug>.txt``.

The YAML is emitted here, not by PyYAML's dumper, so that the layout stays the hand-written one (flow lists, folded
long text, double-quoted quotes); every file is parsed back and compared with the data before it is written.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import models, transaction
from django_countries.fields import CountryField

from deals.coverage import record_values
from deals.loader import COMMODITIES_FILE, SOURCES_FILE, YamlLoader, field_empty, plain_fields
from deals.models import Commodity, Company, Deal, Evidence, Facility, PublicationStatus, Source
from deals.text import quote_spans

WIDTH = 120
NO_EVIDENCE_FILE = "no-evidence.yaml"
_SOURCE_DERIVED = {"text", "raw_sha256", "text_sha256", "original_filename", "checks"}
_RECORD_KINDS = (("companies", Company), ("facilities", Facility), ("deals", Deal))

SOURCES_HEADER = """\
# The source documents. `file` points at the raw document (fixtures/sources/, byte for byte, never edited);
# the loader reads it, normalises it with deals.text.text_normalise and stores the text with both SHA-256 digests.
# Metadata is only what the document itself states; `checks` are quotes the loader verifies against the normalised
# text (they back the metadata; Evidence rows support deals, companies and facilities).
# Canonical form: `manage.py export_dataset --path fixtures/dataset` writes these files from the database.
"""
COMMODITIES_HEADER = """\
# The commodity vocabulary: what deals and facilities concern. Parents may be listed anywhere in this file; the
# loader orders them. Only commodities the documents name (or the parents that group them) are listed.
"""
NO_EVIDENCE_HEADER = """\
# Records with no evidence yet: drafts an editor has not backed with a quote (docs/editors.md).
"""


# --- YAML emitting --------------------------------------------------------------------------------------------------

_PLAIN = re.compile(r"^[^\x00-\x1f\x7f]*$")  # no line breaks, tabs or other control characters


def _parses_as(text: str, value: Any) -> bool:
    try:
        return yaml.load(f"k: {text}\n", Loader=YamlLoader) == {"k": value}
    except yaml.YAMLError:
        return False


def _plain_ok(s: str) -> bool:
    """Whether ``s`` can be written unquoted and read back as the same string."""
    if not s or s != s.strip() or ": " in s or " #" in s or s.endswith(":") or s[0] in "-?:,[]{}#&*!|>'\"%@`":
        return False
    return bool(_PLAIN.match(s)) and _parses_as(s, s)


def _quoted(s: str) -> str:
    """A double-quoted YAML scalar (JSON's escapes are YAML's)."""
    return json.dumps(s, ensure_ascii=False)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value if _plain_ok(value) else _quoted(value)
    raise TypeError(f"cannot write {value!r} as a YAML scalar")


def _fold(s: str, width: int) -> list[str] | None:
    """Lines of a ``>-`` folded scalar for ``s``, or None when folding would not read back as ``s``."""
    if "\n" in s or "\t" in s or "  " in s or s != s.strip() or not s:
        return None
    lines, line = [], ""
    for word in s.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return lines


def _key_value(key: str, value: Any, indent: int, *, quote: bool = False) -> list[str]:
    """``key: value`` at ``indent`` spaces: lists in flow style when short, long text folded."""
    pad = " " * indent
    if isinstance(value, dict):  # a claim's values: one JSON flow mapping (JSON is YAML), in a stable order
        return [f"{pad}{key}: {json.dumps(value, ensure_ascii=False, sort_keys=True)}"]
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            lines = [f"{pad}{key}:"]
            for item in value:
                flow = "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in item.items()) + "}"
                lines.append(f"{pad}  - {flow}")
            return lines
        flow = "[" + ", ".join(_scalar(v) for v in value) + "]"
        if all(isinstance(v, str) and _plain_ok(v) and not set(v) & set(",[]{}") for v in value) and (
            len(pad) + len(key) + 2 + len(flow) <= WIDTH
        ):
            return [f"{pad}{key}: {flow}"]
        return [f"{pad}{key}:"] + [f"{pad}  - {_scalar(v)}" for v in value]
    if isinstance(value, str) and not quote:
        text = _scalar(value)
        if len(pad) + len(key) + 2 + len(text) > WIDTH:
            folded = _fold(value, WIDTH - indent - 2)
            if folded is not None:
                return [f"{pad}{key}: >-"] + [f"{pad}  {line}" for line in folded]
        return [f"{pad}{key}: {text}"]
    text = _quoted(value) if quote else _scalar(value)
    return [f"{pad}{key}: {text}"]


def _entry(items: list[tuple[str, Any]], indent: int, *, quoted: set[str] = frozenset()) -> list[str]:
    """One list entry (``- key: value`` then the other keys), nested lists of mappings under ``evidence``."""
    lines: list[str] = []
    for i, (key, value) in enumerate(items):
        if key in ("evidence", "checks"):
            lines.append(f"{' ' * (indent + 2)}{key}:")
            for ev in value:
                lines += _entry(list(ev.items()), indent + 4, quoted={"quote"})
            continue
        kv = _key_value(key, value, indent + 2, quote=key in quoted)
        if i == 0:
            kv[0] = " " * indent + "- " + kv[0][indent + 2 :]
        lines += kv
    return lines


def _document(header: str, top: list[tuple[str, Any]], sections: list[tuple[str, list[list[tuple[str, Any]]]]]):
    """A whole file: the header comment, top-level keys, then each section's entries separated by blank lines."""
    out = [header.rstrip("\n")] if header else []
    for key, value in top:
        out += _key_value(key, value, 0)
    for name, entries in sections:
        if name:
            out += ["", f"{name}:"]
            indent = 2
        else:
            indent = 0
        for n, entry in enumerate(entries):
            if n or not name:
                out.append("")
            out += _entry(entry, indent)
    return "\n".join(out) + "\n"


# --- records as fixture data ------------------------------------------------------------------------------------------


def _fixture_value(fld: models.Field, value: Any) -> Any:
    """A field's value as the fixture writes it (the form the loader's ``to_python`` reads back)."""
    if isinstance(fld, CountryField):
        return [c.code for c in value] if fld.multiple else (value.code if value else "")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else format(value.normalize(), "f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _fields(obj: models.Model, *, skip: set[str] = frozenset()) -> list[tuple[str, Any]]:
    """The record's non-empty fixture fields, in model order: values, ``parent``, many-to-many sets, role links."""
    model = type(obj)
    plain = plain_fields(model)
    fields = [f for f in model._meta.concrete_fields + model._meta.many_to_many if f.name in plain or f.is_relation]
    out: list[tuple[str, Any]] = []
    for fld in sorted(fields, key=lambda f: f.creation_counter):
        if fld.name in skip or fld.name in ("id", "slug"):
            continue
        if fld.name in plain:
            value = getattr(obj, fld.name)
            # What the loader assumes for a missing key is left out: the documents do not state it, and fixture
            # records load as published.
            default = PublicationStatus.PUBLISHED if fld.name == "publication_status" else field_empty(fld)
            if value == default or (isinstance(fld, CountryField) and not value):
                continue
            out.append((fld.name, _fixture_value(fld, value)))
        elif fld.many_to_many and fld.remote_field.through._meta.auto_created:
            slugs = [o.slug for o in getattr(obj, fld.name).all()]
            if slugs:
                out.append((fld.name, slugs))
        elif fld.many_to_many:
            accessor = "party_links" if model is Deal else "company_links"
            links = sorted(getattr(obj, accessor).all(), key=lambda lk: lk.pk)
            if links:
                out.append((fld.name, [{"company": lk.company.slug, "role": lk.role} for lk in links]))
        elif fld.is_relation and fld.name in ("parent", "merged_into"):
            if getattr(obj, f"{fld.name}_id"):
                out.append((fld.name, getattr(obj, fld.name).slug))
    return out


def _evidence_items(rows: list[Evidence], *, default_source: str | None, current: dict) -> list[dict]:
    items = []
    for ev in rows:
        item: dict[str, Any] = {}
        if ev.source.slug != default_source:
            item["source"] = ev.source.slug
        item["quote"] = ev.quote
        spans = quote_spans(text=ev.source.text, quote=ev.quote)
        if len(spans) > 1:
            item["occurrence"] = spans.index((ev.start, ev.end)) + 1
        if ev.fields:
            item["fields"] = list(ev.fields)
        # A claim (a quote of a value the record no longer holds) keeps its value; the loader gives every other
        # quote the record's current value.
        claims = {n: v for n, v in (ev.values or {}).items() if n in current and v != current[n]}
        if claims:
            item["values"] = claims
        if ev.note:
            item["note"] = ev.note
        items.append(item)
    return items


def _raw_file(source: Source, sources_dir: Path) -> str:
    """The raw document's file name in ``sources_dir``, copying or writing it there when needed."""
    name = source.original_filename or f"{source.slug}.txt"
    candidates = [sources_dir / name, Path(settings.BASE_DIR) / "fixtures" / "sources" / name]
    for candidate in candidates:
        if candidate.is_file() and hashlib.sha256(candidate.read_bytes()).hexdigest() == source.raw_sha256:
            if candidate.parent.resolve() != sources_dir.resolve():
                sources_dir.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(candidate, sources_dir / name)
            return name
    # The raw bytes are not kept (a source pasted or uploaded in the admin): write the normalised text, which the
    # loader normalises to itself again.
    name = f"{source.slug}.txt"
    sources_dir.mkdir(parents=True, exist_ok=True)
    (sources_dir / name).write_bytes(source.text.encode("utf-8"))
    return name


def _check_round_trip(name: str, text: str, data: Any) -> None:
    parsed = yaml.load(text, Loader=YamlLoader)
    if parsed != data:
        raise AssertionError(f"export_dataset: {name} does not read back as the data written")


def _write(path: Path, name: str, text: str, data: Any) -> None:
    _check_round_trip(name, text, data)
    (path / name).write_text(text, encoding="utf-8")


@transaction.atomic
def dataset_export(*, path: Path) -> dict[str, int]:
    """Write the database's dataset to ``path`` in the fixtures' layout; return the number of records per file.

    Reads in one transaction (a consistent snapshot on PostgreSQL). Existing ``*.yaml`` files in ``path`` are
    replaced, so a deleted record disappears from the export too.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.yaml"):
        old.unlink()
    sources_dir = path.parent / "sources"
    counts: dict[str, int] = {}

    sources = list(Source.objects.order_by("pk"))
    source_entries = []
    for s in sources:
        entry = [("slug", s.slug), ("file", f"../sources/{_raw_file(s, sources_dir)}")]
        entry += _fields(s, skip=_SOURCE_DERIVED)
        if s.checks:
            # In a fixed key order: PostgreSQL's jsonb does not keep the order the loader stored.
            checks = [
                {k: c[k] for k in ("quote", "fields", "note") if c.get(k) not in ("", [], None)} for c in s.checks
            ]
            entry.append(("checks", checks))
        source_entries.append(entry)
    data = [dict(e) for e in source_entries]
    _write(path, SOURCES_FILE, _document(SOURCES_HEADER, [], [("", source_entries)]), data)
    counts[SOURCES_FILE] = len(sources)

    commodities = [[("slug", c.slug), *_fields(c)] for c in Commodity.objects.select_related("parent").order_by("pk")]
    _write(
        path, COMMODITIES_FILE, _document(COMMODITIES_HEADER, [], [("", commodities)]), [dict(e) for e in commodities]
    )
    counts[COMMODITIES_FILE] = len(commodities)

    files: dict[str | None, dict[str, list]] = {s.slug: {k: [] for k, _ in _RECORD_KINDS} for s in sources}
    files[None] = {k: [] for k, _ in _RECORD_KINDS}
    prefetch = {
        Company: ("evidence__source", "parent"),
        Facility: ("evidence__source", "commodities", "company_links__company"),
        Deal: ("evidence__source", "stages", "commodities", "facilities", "party_links__company"),
    }
    for key, model in _RECORD_KINDS:
        for obj in model.objects.prefetch_related(*prefetch[model]).order_by("pk"):
            evidence = sorted(obj.evidence.all(), key=lambda ev: ev.pk)
            home = evidence[0].source.slug if evidence else None
            entry = [("slug", obj.slug), *_fields(obj)]
            if evidence:
                current = record_values(record=obj)
                entry.append(("evidence", _evidence_items(evidence, default_source=home, current=current)))
            files[home][key].append(entry)
    titles = {s.slug: s for s in sources}
    for home, sections in files.items():
        if not any(sections.values()):
            continue
        if home is None:
            name, header, top = NO_EVIDENCE_FILE, NO_EVIDENCE_HEADER, []
        else:
            s = titles[home]
            name, top = f"{home}.yaml", [("source", home)]
            header = (
                f"# Records first described in {_quoted(s.title)}.\n"
                f"# Raw document: ../sources/{_raw_file(s, sources_dir)}.\n"
                f"# Evidence quotes come from this file's source unless an item names another `source`.\n"
            )
        body = [(k, v) for k, v in sections.items() if v]
        text = _document(header, top, body)
        data = {k: v for k, v in top} | {k: [dict(e) for e in v] for k, v in body}
        for entries in data.values():
            for e in entries if isinstance(entries, list) else []:
                if "evidence" in e:
                    e["evidence"] = [dict(i) for i in e["evidence"]]
        _write(path, name, text, data)
        counts[name] = sum(len(v) for v in sections.values())
    return counts
