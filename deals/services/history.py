"""Reverting a deal, company or facility's relations to what one of its versions recorded."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from deals.history import RELATIONS
from deals.models import Evidence


@transaction.atomic
def record_relations_restore(*, record: models.Model, version: Any, m2m: bool = True) -> list[str]:
    """Make ``record``'s links (with roles), many-to-many lists (unless ``m2m=False``) and evidence exactly what
    ``version`` (one of its historical rows) recorded; return notes on what could not be restored.

    Evidence added after that version is deleted (it stays in the evidence history, and reverting to a later version
    brings it back); evidence of that version comes back with its id and its values then, and is checked against its
    source like any other (``full_clean()``): a quote that no longer matches refuses the whole revert with a
    ``ValidationError``. Linked records that no longer exist are skipped and named in the notes. A version written
    before relations were recorded (an empty snapshot) leaves the relations as they are.
    """
    snapshot = version.history_relations or {}
    if not snapshot:
        return ["This version was recorded before relations were; its links, lists and evidence were left as they are."]
    spec = RELATIONS[record._meta.label]
    notes: list[str] = []

    key, accessor, other = spec["links"]
    manager = getattr(record, accessor)
    link_model, owner = manager.model, manager.field.name
    other_model = link_model._meta.get_field(other).related_model
    wanted = [(row[other], row["role"], row.get("slug")) for row in snapshot.get(key, [])]
    alive = set(other_model._base_manager.filter(pk__in=[pk for pk, _, _ in wanted]).values_list("pk", flat=True))
    current = {(getattr(link, f"{other}_id"), link.role): link for link in manager.all()}
    for link_key, link in current.items():
        if link_key not in {(pk, role) for pk, role, _ in wanted}:
            link.delete()
    for pk, role, slug in wanted:
        if pk not in alive:
            notes.append(f"{key}: {slug} ({role}) no longer exists and was not restored.")
        elif (pk, role) not in current:
            link_model.objects.create(**{owner: record, f"{other}_id": pk, "role": role})

    if m2m:
        for name in spec["m2m"]:
            related = record._meta.get_field(name).related_model
            ids = [row["id"] for row in snapshot.get(name, [])]
            found = set(related._base_manager.filter(pk__in=ids).values_list("pk", flat=True))
            notes += [
                f"{name}: {row['slug']} no longer exists." for row in snapshot.get(name, []) if row["id"] not in found
            ]
            if set(getattr(record, name).values_list("pk", flat=True)) != found:
                getattr(record, name).set(sorted(found))

    rows = snapshot.get("evidence", [])
    record.evidence.exclude(pk__in=[row["id"] for row in rows]).delete()
    fields = [f for f in Evidence._meta.concrete_fields if not f.primary_key]
    for row in rows:
        evidence = Evidence._base_manager.filter(pk=row["id"]).first() or Evidence(pk=row["id"])
        values = {f.attname: f.to_python(row[f.attname]) for f in fields if f.attname in row}
        values.update({f"{t}_id": None for t in Evidence.TARGETS}, **{f"{spec['evidence']}_id": record.pk})
        if evidence._state.adding or any(getattr(evidence, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(evidence, name, value)
            evidence.full_clean()
            evidence.save()
    return notes
