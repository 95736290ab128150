"""The tables of a release: one CSV per table of the published dataset, and its Table Schema, generated from the
models' ``_meta`` (types, constraints, choices, help texts), never written by hand.

Rows are keyed by slug (the records' stable ids); a foreign key is the slug of the row it names, and a reference to
a record outside the release (e.g. a parent company that is still a draft) is empty, as the API shows it. Evidence
rows are keyed by their database id. The lifecycle columns of published records (status, withdrawal) are constant,
so they are left out; withdrawn and merged records are listed in ``tombstones.csv`` instead.

Cells: empty is null for a non-text column and "" for a text column (the models store no null text); JSON
columns (lists, objects, a deal's countries) are compact JSON with sorted keys; datetimes are UTC ISO 8601 with
``Z``; decimals are written as stored. :mod:`deals.services.release_load` reads them back by the same rules.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import QuerySet
from django_countries.fields import CountryField

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
    SupplyChainStage,
)
from deals.models.publication import PUBLICATION_FIELDS
from deals.selectors.records import evidence_public, source_public
from deals.selectors.rights import source_text_public

_PUBLISHED = PublicationStatus.PUBLISHED
TABLE_SCHEMA_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"


@dataclass
class Table:
    """One CSV of a release: its resource name, model, rows and columns (model fields, in order)."""

    name: str
    model: type[models.Model]
    rows: Callable[[], QuerySet]
    fields: list[models.Field]
    primary_key: list[str]
    title: str
    descriptions: dict[str, str] = field(default_factory=dict)
    # Bounds the model's check constraints set beyond the column type (Table Schema ``minimum``/``maximum``).
    bounds: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Columns whose value comes from Python rather than from a database column (see _cell): called with the row's
    # object and the slugs released so far (table name -> slugs).
    computed: dict[str, Callable[[models.Model, dict[str, set[str]]], Any]] = field(default_factory=dict)


def _own_fields(model: type[models.Model], *, skip: set[str] = frozenset()) -> list[models.Field]:
    return [
        f
        for f in model._meta.get_fields()
        if f.concrete and not f.many_to_many and not f.primary_key and f.name not in skip
    ]


def _through_fields(m2m: models.ManyToManyField) -> list[models.Field]:
    through = m2m.remote_field.through
    return [f for f in through._meta.get_fields() if f.concrete and not f.primary_key]


def _public_links(through, **published) -> Callable[[], QuerySet]:
    return lambda: through.objects.filter(**{f"{name}__publication_status": _PUBLISHED for name in published})


def _m2m_table(name: str, title: str, m2m, *, published: tuple[str, ...]) -> Table:
    fields = _through_fields(m2m)
    owner, target = fields[0], fields[1]
    return Table(
        name=name,
        model=m2m.remote_field.through,
        rows=_public_links(m2m.remote_field.through, **dict.fromkeys(published)),
        fields=fields,
        primary_key=[owner.name, target.name],
        title=title,
        descriptions={owner.name: f"The {owner.name} (slug).", target.name: f"{m2m.help_text} (slug)"},
    )


_SKIP = PUBLICATION_FIELDS - {"published_at"}


def _evidence_values_public(evidence: Evidence, released: dict[str, set[str]]) -> dict:
    """The evidence's value snapshots, less a snapshot of a reference to a record outside the release (a quote that
    states a draft parent): the API leaves such a quote out of the field's provenance, and the reference itself
    is empty in the tables, so the unpublished slug appears nowhere."""
    values = evidence.values if isinstance(evidence.values, dict) else {}
    model = Deal if evidence.deal_id else Company if evidence.company_id else Facility  # ids only: no query
    references = {f.name: _target_table(f) for f in model._meta.concrete_fields if f.many_to_one}
    return {
        name: snapshot
        for name, snapshot in values.items()
        if name not in references or snapshot is None or snapshot in released.get(references[name], {snapshot})
    }


def release_tables() -> list[Table]:
    """The release's tables, in the order of the data package's resources (referenced tables first)."""
    return [
        Table("commodities", Commodity, Commodity.objects.all, _own_fields(Commodity), ["slug"], "Commodities"),
        Table(
            "supply_chain_stages",
            SupplyChainStage,
            SupplyChainStage.objects.all,
            _own_fields(SupplyChainStage),
            ["slug"],
            "Supply-chain stages",
        ),
        Table(
            "sources",
            Source,
            source_public,
            _own_fields(Source),
            ["slug"],
            "Source documents (metadata, digests; full text only where licensed for redistribution)",
            descriptions={
                "text": "The normalised text, only where the source is licensed for redistribution; otherwise "
                "empty (check quotes against your own copy with text_sha256, see docs/provenance.md)."
            },
            # H1's one rule for every public output (Source.redistribution_licensed, default no): unlicensed text is
            # an empty cell here and null in records.jsonl (the API's own serializer).
            computed={"text": lambda s, _released: source_text_public(source=s) or ""},
        ),
        Table("companies", Company, Company.objects.public, _own_fields(Company, skip=_SKIP), ["slug"], "Companies"),
        Table(
            "facilities", Facility, Facility.objects.public, _own_fields(Facility, skip=_SKIP), ["slug"], "Facilities"
        ),
        Table(
            "deals",
            Deal,
            Deal.objects.public,
            _own_fields(Deal, skip=_SKIP),
            ["slug"],
            "Deals",
            # deals/models/deal_terms.py; "more than 0" (unit_price, output_share_percent) is in the descriptions.
            bounds={"term_length": {"minimum": 1}, "output_share_percent": {"maximum": 100}},
        ),
        Table(
            "deal_parties",
            DealParty,
            _public_links(DealParty, deal=None, company=None),
            _own_fields(DealParty),
            ["deal", "company", "role"],
            "Deal parties (with their roles)",
        ),
        Table(
            "facility_companies",
            FacilityCompany,
            _public_links(FacilityCompany, facility=None, company=None),
            _own_fields(FacilityCompany),
            ["facility", "company", "role"],
            "Facility companies (with their roles)",
        ),
        _m2m_table("deal_commodities", "Deal commodities", Deal._meta.get_field("commodities"), published=("deal",)),
        _m2m_table("deal_stages", "Deal supply-chain stages", Deal._meta.get_field("stages"), published=("deal",)),
        _m2m_table(
            "deal_facilities", "Deal facilities", Deal._meta.get_field("facilities"), published=("deal", "facility")
        ),
        _m2m_table(
            "facility_commodities",
            "Facility commodities",
            Facility._meta.get_field("commodities"),
            published=("facility",),
        ),
        Table(
            "evidence",
            Evidence,
            evidence_public,  # each row has exactly one target: evidence of a published record
            [Evidence._meta.pk, *_own_fields(Evidence)],
            ["id"],
            "Evidence: verbatim quotes with offsets into their source's normalised text, and the fields they back",
            descriptions={"id": "The evidence row's id (stable within the database the release was made from)."},
            computed={"values": _evidence_values_public},
        ),
    ]


# --- cells ---------------------------------------------------------------------------------------------------------


def _is_json(f: models.Field) -> bool:
    return isinstance(f, models.JSONField) or (isinstance(f, CountryField) and f.multiple)


def _is_text(f: models.Field) -> bool:
    return isinstance(f, models.CharField | models.TextField) and not _is_json(f)


def _lookup(f: models.Field) -> str:
    return f"{f.name}__slug" if f.is_relation else f.attname


def _cell(value: Any, f: models.Field) -> str:
    if value is None:
        return ""
    if isinstance(f, CountryField) and f.multiple:
        codes = value.split(",") if isinstance(value, str) else [str(c) for c in value]
        return json.dumps([c for c in codes if c], separators=(",", ":"))
    if isinstance(f, models.JSONField):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date | Decimal | int):
        return str(value) if not isinstance(value, datetime.date) else value.isoformat()
    return str(value)


def table_rows(table: Table, *, released: dict[str, set[str]]) -> list[list[str]]:
    """The table's rows as CSV cells, ordered by primary key; references outside the release are emptied."""
    queryset = table.rows()
    plain = [f for f in table.fields if f.name not in table.computed]
    if table.computed:
        objects = {obj.pk: obj for obj in queryset}
    values = list(queryset.values("pk", *(_lookup(f) for f in plain)))
    if table.primary_key == ["slug"]:  # a self reference (a parent) points into this very table
        released = {**released, table.name: {row["slug"] for row in values}}
    rows = []
    for row in values:
        cells = []
        for f in table.fields:
            if f.name in table.computed:
                value = table.computed[f.name](objects[row["pk"]], released)
            else:
                value = row[_lookup(f)]
            if f.is_relation and value is not None and value not in released.get(_target_table(f), {value}):
                value = None
            cells.append(_cell(value, f))
        rows.append(cells)
    key = [i for i, f in enumerate(table.fields) if f.name in table.primary_key]
    rows.sort(key=lambda cells: [int(cells[i]) if table.name == "evidence" else cells[i] for i in key])
    return rows


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    """RFC 4180 CSV (CRLF line ends, minimal quoting), UTF-8, with a header row."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def table_csv(table: Table, rows: list[list[str]]) -> bytes:
    """The table's CSV, with a header row of the column names."""
    return csv_bytes([f.name for f in table.fields], rows)


# --- Table Schema --------------------------------------------------------------------------------------------------

_TABLE_OF_MODEL = {
    Commodity: "commodities",
    SupplyChainStage: "supply_chain_stages",
    Source: "sources",
    Company: "companies",
    Facility: "facilities",
    Deal: "deals",
}


def _target_table(f: models.Field) -> str:
    return _TABLE_OF_MODEL[f.related_model]


def _field_type(f: models.Field) -> str:
    if _is_json(f):
        default = f.get_default() if isinstance(f, models.JSONField) else []
        return "object" if isinstance(default, dict) else "array"
    if f.is_relation or _is_text(f) or isinstance(f, CountryField):
        return "string"
    if isinstance(f, models.DateTimeField):
        return "datetime"
    if isinstance(f, models.DateField):
        return "date"
    if isinstance(f, models.DecimalField):
        return "number"
    if isinstance(f, models.BooleanField):
        return "boolean"
    if isinstance(f, models.IntegerField | models.AutoField):
        return "integer"
    raise TypeError(f"no Table Schema type for {f!r}")


def _constraints(f: models.Field, table: Table) -> dict[str, Any]:
    constraints: dict[str, Any] = {}
    if f.name in table.computed:
        return constraints
    if (f.primary_key or not f.null) and (not _is_text(f) or not f.blank) and not _is_json(f):
        constraints["required"] = True
    if f.unique or table.primary_key == [f.name]:
        constraints["unique"] = True
    if f.choices and not isinstance(f, CountryField):
        constraints["enum"] = [value for value, _label in f.flatchoices if value != ""]
    if _is_text(f) and f.max_length and not f.is_relation:
        constraints["maxLength"] = f.max_length
    if isinstance(f, models.PositiveIntegerField | models.PositiveSmallIntegerField | models.PositiveBigIntegerField):
        constraints["minimum"] = 0
    for validator in f.validators:
        if isinstance(validator, RegexValidator) and not validator.inverse_match:
            constraints["pattern"] = validator.regex.pattern.removeprefix("^").removesuffix("$").removesuffix("\\Z")
    constraints.update(table.bounds.get(f.name, {}))
    if isinstance(f, models.SlugField):
        constraints["pattern"] = "[-a-zA-Z0-9_]+"
    if isinstance(f, CountryField) and not f.multiple:
        constraints["pattern"] = "[A-Z]{2}"
    return constraints


def table_schema(table: Table) -> dict[str, Any]:
    """The Table Schema (v2) of a table: fields with types, constraints and the models' help texts as descriptions,
    its primary key and its foreign keys."""
    fields = []
    for f in table.fields:
        description = table.descriptions.get(f.name) or str(f.help_text) or f.verbose_name
        entry: dict[str, Any] = {"name": f.name, "type": _field_type(f), "description": description}
        constraints = _constraints(f, table)
        if constraints:
            entry["constraints"] = constraints
        fields.append(entry)
    foreign_keys = [
        {"fields": [f.name], "reference": {"fields": ["slug"], "resource": _target_table(f)}}
        for f in table.fields
        if f.is_relation
    ]
    schema: dict[str, Any] = {
        "$schema": TABLE_SCHEMA_PROFILE,
        "fields": fields,
        "missingValues": [""],
        "primaryKey": table.primary_key,
    }
    if foreign_keys:
        schema["foreignKeys"] = foreign_keys
    return schema


# --- tombstones ----------------------------------------------------------------------------------------------------

TOMBSTONE_COLUMNS = ("type", "slug", "withdrawn_at", "withdrawn_reason", "merged_into")
TOMBSTONE_TYPES = (("company", Company), ("facility", Facility), ("deal", Deal))


def tombstone_rows() -> list[list[str]]:
    """Withdrawn and merged records: type, slug, when, why and (merged ones) the slug they were merged into."""
    rows = []
    for type_name, model in TOMBSTONE_TYPES:
        queryset = model.objects.filter(publication_status=PublicationStatus.WITHDRAWN).values_list(
            "slug", "withdrawn_at", "withdrawn_reason", "merged_into__slug", "merged_into__publication_status"
        )
        for slug, withdrawn_at, reason, merged_into, survivor_status in queryset:
            when = _cell(withdrawn_at, Deal._meta.get_field("withdrawn_at"))
            # Merged into a record that is not published (a draft): the API answers 404 for it, not 301, and its
            # reason names the draft; it is no tombstone, as drafts never appear in a release.
            if merged_into is not None and survivor_status != _PUBLISHED:
                continue
            rows.append([type_name, slug, when, reason, merged_into or ""])
    return sorted(rows, key=lambda r: (r[0], r[1]))


def tombstone_schema() -> dict[str, Any]:
    """Table Schema of tombstones.csv, with the lifecycle fields' help texts."""
    meta = Deal._meta
    return {
        "$schema": TABLE_SCHEMA_PROFILE,
        "fields": [
            {
                "name": "type",
                "type": "string",
                "description": "The record's type.",
                "constraints": {"required": True, "enum": [t for t, _ in TOMBSTONE_TYPES]},
            },
            {
                "name": "slug",
                "type": "string",
                "description": "The withdrawn record's slug: its API URL answers 410 Gone (301 when merged).",
                "constraints": {"required": True, "pattern": "[-a-zA-Z0-9_]+"},
            },
            {
                "name": "withdrawn_at",
                "type": "datetime",
                "description": str(meta.get_field("withdrawn_at").help_text),
                "constraints": {"required": True},
            },
            {
                "name": "withdrawn_reason",
                "type": "string",
                "description": str(meta.get_field("withdrawn_reason").help_text),
                "constraints": {"required": True},
            },
            {
                "name": "merged_into",
                "type": "string",
                "description": str(meta.get_field("merged_into").help_text) + " Empty when withdrawn, not merged.",
            },
        ],
        "missingValues": [""],
        "primaryKey": ["type", "slug"],
    }
