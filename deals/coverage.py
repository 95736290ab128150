"""Per-field evidence coverage: which quotes support each field's *current* value, and which are claims of an old one.

Every evidence row lists the record's fields it supports (``Evidence.fields``) and keeps, per field, a JSON
snapshot of the value it states (``Evidence.values``), taken when the field is ticked (admin, import) or loaded
(``load_dataset``). Whether a quote still supports a field is then *computed* by comparing that snapshot with the
record's current value, so the rule holds on every write path (admin, import, loader, shell) without any logic in
``save()`` or signals:

- a **scalar** field (title, amount, a date, a foreign key…) is supported by a quote whose snapshot equals the
  current value;
- a **list** field (parties with roles, facilities, commodities, stages, countries, aliases, facility companies)
  is supported item by item: a quote is current when every item it states is still in the value, and each current
  item needs at least one current quote stating it;
- a quote whose snapshot differs is a **claim** of that old value: kept, shown beside the current value in the API,
  and supporting nothing;
- a ticked field with no snapshot (written by code that bypassed the services) supports nothing until it is
  re-ticked.

A field is empty, and needs no quote, when it holds nothing (``None``, ``""``, ``[]``) or the choice ``unknown``
("Not stated"): that is the absence of a stated fact. The slug, timestamps and counts are never fields of a quote
(:func:`deals.models.evidence_field_names`).
"""

from __future__ import annotations

import datetime
import decimal
import enum
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.text import capfirst

from deals.models import Deal, Evidence, Facility, PublicationStatus, evidence_field_names

# The "Not stated" choice of status fields: stating that the sources say nothing is not a fact that needs a quote.
NOT_STATED = "unknown"
_MISSING = object()
# Relations whose items are (company, role) pairs: the link rows, read through their prefetched reverse accessor.
_ROLE_LINKS = {(Deal, "parties"): "party_links", (Facility, "companies"): "company_links"}


def coverage_field_names(*, model: type[models.Model]) -> list[str]:
    """The fields of ``model`` that a quote can support, in the model's own order (the order the admin shows)."""
    allowed = evidence_field_names(model=model)
    ordered = [f.name for f in model._meta.concrete_fields] + [f.name for f in model._meta.many_to_many]
    return [name for name in ordered if name in allowed]


def field_label(*, model: type[models.Model], name: str) -> str:
    """The label an editor sees for field ``name`` (its verbose name, capitalised), e.g. "Announced date"."""
    return str(capfirst(model._meta.get_field(name).verbose_name))


def field_is_list(*, model: type[models.Model], name: str) -> bool:
    """Whether ``name`` holds a list of items (relations, multiple countries, aliases), checked item by item."""
    fld = model._meta.get_field(name)
    return fld.many_to_many or getattr(fld, "multiple", False) or isinstance(fld, models.JSONField)


def value_canonical(value: Any) -> Any:
    """A JSON-comparable form of a field value: dates as ISO strings, decimals without trailing zeros, countries
    as codes, lists sorted (their order carries no meaning) and tuples kept in order (a ``(company, role)`` pair)."""
    if isinstance(value, tuple):
        return [value_canonical(v) for v in value]
    if isinstance(value, enum.Enum):  # a TextChoices member set from code: store its plain value
        return value.value
    if isinstance(value, list) or type(value).__name__ == "MultipleCountriesDescriptor":
        return sorted((value_canonical(v) for v in value), key=repr)
    if hasattr(value, "code") and not isinstance(value, models.Model):  # django_countries' Country
        return value.code or ""
    if isinstance(value, models.Model):
        return getattr(value, "slug", value.pk)
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def field_value(*, record: models.Model, name: str) -> Any:
    """The current value of ``record``'s field ``name`` in canonical form (see :func:`value_canonical`).

    Relations read ``.all()``, so a prefetched record (:mod:`deals.selectors`) costs no query. Role links are
    ``[company slug, role]`` pairs.
    """
    model = type(record)
    links = _ROLE_LINKS.get((model, name))
    if record.pk is None and (links is not None or model._meta.get_field(name).many_to_many):
        return []  # an unsaved record has no relations yet
    if links is not None:
        return value_canonical([(link.company.slug, link.role) for link in getattr(record, links).all()])
    fld = model._meta.get_field(name)
    if fld.many_to_many:
        return value_canonical([related.slug for related in getattr(record, name).all()])
    if fld.many_to_one:
        return value_canonical(getattr(record, name))
    return value_canonical(getattr(record, fld.attname))


def value_is_empty(value: Any) -> bool:
    """Whether a canonical value states nothing (see the module docstring)."""
    return value is None or value == "" or value == [] or value == {} or value == NOT_STATED


def evidence_values_take(*, record: models.Model, fields: list[str], previous: dict | None = None) -> dict:
    """The snapshots an evidence row should store for ``fields``: kept from ``previous`` for fields that stay
    ticked (so a quote of an old value stays a claim of it), the record's current value for newly ticked ones."""
    previous = previous if isinstance(previous, dict) else {}
    return {
        name: previous[name] if name in previous else field_value(record=record, name=name)
        for name in fields
        if name in evidence_field_names(model=type(record))
    }


@dataclass
class Claim:
    """An old value of a field, with the quotes that state it."""

    value: Any
    quotes: list[Evidence] = field(default_factory=list)


@dataclass
class FieldCoverage:
    """One field of a record: its current value, the quotes supporting it, the claims of other values, and the
    items (or the whole value) no current quote supports."""

    name: str
    label: str
    value: Any
    is_list: bool
    quotes: list[Evidence] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    unsupported: list[Any] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return value_is_empty(self.value)

    @property
    def supported(self) -> bool:
        return self.empty or not self.unsupported


def fields_coverage(
    *, model: type[models.Model], values: dict[str, Any], evidence: list[Evidence], hidden: dict[str, Any] | None = None
) -> list[FieldCoverage]:
    """Coverage of every quotable field of ``model`` given its canonical ``values`` and its ``evidence`` rows
    (which need ``fields`` and ``values`` only, so unsaved rows work too). A snapshot equal to ``hidden[name]``
    (a reference to a record that is not public, see :func:`record_coverage`) is left out of field ``name``."""
    hidden = hidden or {}
    result = []
    for name in coverage_field_names(model=model):
        current = values.get(name)
        is_list = field_is_list(model=model, name=name)
        cov = FieldCoverage(name=name, label=field_label(model=model, name=name), value=current, is_list=is_list)
        claims: dict[str, Claim] = {}
        stated: list = []
        for ev in evidence:
            if name not in (ev.fields or []):
                continue
            snapshots = ev.values if isinstance(ev.values, dict) else {}
            snapshot = snapshots.get(name, _MISSING)
            if snapshot is _MISSING or (name in hidden and snapshot == hidden[name]):
                continue
            if is_list and isinstance(snapshot, list) and isinstance(current, list):
                is_current = all(item in current for item in snapshot)
            else:
                is_current = snapshot == current
            if is_current:
                cov.quotes.append(ev)
                stated.extend(snapshot if is_list and isinstance(snapshot, list) else [snapshot])
            else:
                key = repr(snapshot)
                claims.setdefault(key, Claim(value=snapshot)).quotes.append(ev)
        cov.claims = list(claims.values())
        if not cov.empty:
            if is_list and isinstance(current, list):
                cov.unsupported = [item for item in current if item not in stated]
            elif not cov.quotes:
                cov.unsupported = [current]
        result.append(cov)
    return result


def record_values(*, record: models.Model) -> dict[str, Any]:
    """Every quotable field's current canonical value (see :func:`field_value`)."""
    return {name: field_value(record=record, name=name) for name in coverage_field_names(model=type(record))}


def _unpublished_references(*, record: models.Model) -> dict[str, Any]:
    """The quotable foreign keys of ``record`` that name a record the public cannot see (a draft or withdrawn parent
    company), with that record's canonical value (its slug). The related rows are loaded with the record
    (``select_related`` in :mod:`deals.selectors.records`), so this costs no query."""
    hidden = {}
    for name in coverage_field_names(model=type(record)):
        fld = type(record)._meta.get_field(name)
        if fld.many_to_one and getattr(record, fld.attname) is not None:
            related = getattr(record, name)
            if not getattr(related, "is_public", True):
                hidden[name] = value_canonical(related)
    return hidden


def record_coverage(*, record: models.Model, public: bool = False) -> list[FieldCoverage]:
    """:func:`fields_coverage` of a stored record, from its (prefetched) evidence and relations.

    ``public``: as the public API shows the record, where a reference to an unpublished record reads as none (as
    ``Company.parent_public`` does): such a field's value is null and the quotes stating that reference are left
    out of it, so the unpublished record's slug appears nowhere. Editors (the admin, publication checks) see all.
    Relations to many (parties, facilities, companies) are public already: their prefetches hold published records.
    """
    evidence = list(record.evidence.all()) if record.pk is not None else []
    values = record_values(record=record)
    hidden = _unpublished_references(record=record) if public else {}
    values.update(dict.fromkeys(hidden))
    return fields_coverage(model=type(record), values=values, evidence=evidence, hidden=hidden)


def _item_text(item: Any) -> str:
    if isinstance(item, list) and len(item) == 2:
        return f"{item[0]} as {item[1]}"
    return repr(item) if isinstance(item, str) else str(item)


def coverage_gap_messages(coverage: list[FieldCoverage]) -> list[str]:
    """One message per unsupported field, naming it by its label and saying what no current quote supports."""
    messages = []
    for cov in coverage:
        if cov.supported:
            continue
        if cov.is_list:
            items = ", ".join(_item_text(item) for item in cov.unsupported)
            messages.append(f"{cov.label}: no current quote supports {items}.")
        else:
            stale = " (the quotes that name it state another value)" if cov.claims else ""
            messages.append(f"{cov.label}: no current quote supports the value {_item_text(cov.value)}{stale}.")
    return messages


def record_coverage_gaps(*, record: models.Model) -> list[str]:
    """Every non-empty field of ``record`` that no current quote supports, one human-readable message each,
    naming the field by the label editors see (e.g. "Deal type: no current quote supports the value 'mou'.")."""
    return coverage_gap_messages(record_coverage(record=record))


def record_change_gaps(
    *, model: type[models.Model], before: dict[str, Any], after: dict[str, Any], evidence: list
) -> dict[str, str]:
    """The changed fields (``before`` → ``after``, canonical values) that no current quote among ``evidence``
    supports, each with a message naming the field by its label: what saving a published record must refuse."""
    changed = {name for name in after if before.get(name) != after.get(name)}
    gaps = {}
    for cov in fields_coverage(model=model, values=after, evidence=evidence):
        if cov.name not in changed:
            continue
        if cov.is_list:
            # Only the items this change adds: items that were there before are not part of the change.
            old = before.get(cov.name) if isinstance(before.get(cov.name), list) else []
            cov.unsupported = [item for item in cov.unsupported if item not in old]
        messages = coverage_gap_messages([cov])
        if messages:
            gaps[cov.name] = messages[0]
    return gaps


def record_change_is_gated(*, record: models.Model) -> bool:
    """Whether a change to ``record`` must be backed by current quotes before it is saved: when the stored record is
    published, so the change would be public at once. A draft is checked when it is published."""
    if record.pk is None:
        return False
    return type(record)._default_manager.filter(pk=record.pk, publication_status=PublicationStatus.PUBLISHED).exists()
