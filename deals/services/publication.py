"""The publication lifecycle of deals, companies and facilities: publish, withdraw, merge, and old URLs.

HackSoft style: ``<entity>_<action>`` names, keyword-only typed arguments, ``@transaction.atomic`` on writes. The
admin's actions and buttons and the ``record_withdraw`` / ``record_merge`` commands are thin wrappers over these,
so every entry point applies the same checks and writes the same history.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from deals.coverage import record_coverage_gaps
from deals.history import history_deferred
from deals.models import (
    Company,
    Deal,
    DealParty,
    Evidence,
    Facility,
    FacilityCompany,
    PublicationStatus,
    PublishableModel,
)

# The models with a publication lifecycle, by the names the commands and the API use.
PUBLISHABLE_MODELS: dict[str, type[PublishableModel]] = {"deal": Deal, "company": Company, "facility": Facility}
# How long a chain of merges may be followed before it is treated as broken (a cycle written by hand in SQL).
_MAX_CHAIN = 50


class PublicationError(ValidationError):
    """The record cannot be published, withdrawn or merged; ``messages`` names each missing piece."""


def _history_reason(record: models.Model, reason: str) -> None:
    # django-simple-history stores this on the history row the next save() writes.
    record._change_reason = reason


def record_related_shown(*, record: PublishableModel) -> list[PublishableModel]:
    """The companies and facilities ``record`` shows in the API (parties, facilities, operators, parent)."""
    if isinstance(record, Deal):
        companies = Company.objects.filter(deal_links__deal=record).distinct().order_by("slug")
        return [*companies, *record.facilities.order_by("slug")]
    if isinstance(record, Facility):
        return list(Company.objects.filter(facility_links__facility=record).distinct().order_by("slug"))
    if isinstance(record, Company) and record.parent_id is not None:
        return [record.parent]
    return []


def record_publication_problems(*, record: PublishableModel) -> list[str]:
    """Everything that stops ``record`` from being published, one message per missing piece (empty when none):
    fields without a supporting quote, and related companies or facilities that are not published yet."""
    problems: list[str] = []
    if record.merged_into_id is not None:
        problems.append(f"It was merged into “{record.merged_into.slug}”; publish that record instead.")
        return problems
    problems.extend(record_coverage_gaps(record=record))
    for related in record_related_shown(record=record):
        if not related.is_public:
            noun = related._meta.verbose_name
            problems.append(
                f"The {noun} “{related.slug}” ({related}) is {related.get_publication_status_display().lower()}; "
                f"publish it first."
            )
    return problems


@transaction.atomic
def record_publish(*, record: PublishableModel) -> PublishableModel:
    """Publish ``record`` (a draft, or a withdrawn record being reinstated) once its evidence checks out.

    Raises :class:`PublicationError` listing every problem of :func:`record_publication_problems`.
    """
    problems = record_publication_problems(record=record)
    if problems:
        raise PublicationError(problems)
    if record.is_public:
        return record
    record.publication_status = PublicationStatus.PUBLISHED
    record.published_at = timezone.now()
    record.withdrawn_at = None
    record.withdrawn_reason = ""
    _history_reason(record, "published")
    record.save()
    return record


@transaction.atomic
def record_withdraw(*, record: PublishableModel, reason: str) -> PublishableModel:
    """Withdraw ``record`` with a public ``reason``: it leaves the API and its URL answers 410 Gone.

    Withdrawal replaces deletion: the row, its evidence and its history stay. A merged duplicate is already
    withdrawn and keeps answering 301 to its survivor, so it cannot be withdrawn again.
    """
    reason = (reason or "").strip()
    if not reason:
        raise PublicationError({"withdrawn_reason": "Give the reason for the withdrawal; the API shows it."})
    if record.merged_into_id is not None:
        raise PublicationError(f"“{record.slug}” was merged into “{record.merged_into.slug}”; it is already withdrawn.")
    record.publication_status = PublicationStatus.WITHDRAWN
    record.withdrawn_at = timezone.now()
    record.withdrawn_reason = reason
    _history_reason(record, f"withdrawn: {reason}"[:100])
    record.save()
    return record


def _evidence_move(*, duplicate: PublishableModel, survivor: PublishableModel, target: str) -> None:
    """Move the duplicate's evidence to the survivor; a span the survivor already quotes keeps one row, listing
    the fields of both."""
    survivor_rows = {(e.source_id, e.start, e.end): e for e in Evidence.objects.filter(**{target: survivor})}
    for evidence in Evidence.objects.filter(**{target: duplicate}):
        twin = survivor_rows.get((evidence.source_id, evidence.start, evidence.end))
        if twin is None:
            setattr(evidence, target, survivor)
            evidence.save()
            continue
        merged_fields = list(dict.fromkeys([*twin.fields, *evidence.fields]))
        if merged_fields != twin.fields:
            twin.fields = merged_fields
            twin.save()
        evidence.delete()


def _links_move(*, queryset, owner: str, survivor: models.Model, key: tuple[str, ...]) -> None:
    """Re-point role links (``owner`` is the field naming the merged record) without duplicating a link the
    survivor already has (the unique constraints on link rows)."""
    existing = set(queryset.model.objects.filter(**{owner: survivor}).values_list(*key))
    for link in queryset:
        if tuple(getattr(link, name) for name in key) in existing:
            link.delete()
        else:
            setattr(link, owner, survivor)
            link.save()


def _m2m_move(*, duplicate: models.Model, survivor: models.Model, name: str) -> None:
    manager = getattr(duplicate, name)
    getattr(survivor, name).add(*manager.all())
    manager.clear()


@history_deferred()
def record_merge(*, duplicate: PublishableModel, survivor: PublishableModel) -> PublishableModel:
    """Merge ``duplicate`` into ``survivor``: its evidence and links move to the survivor, and it stays as a
    withdrawn row whose URL answers 301 to the survivor's.

    The survivor keeps its own field values; the moved quotes keep naming the fields they supported. Records
    merged into the duplicate earlier are re-pointed to the survivor, so every old URL redirects in one hop.
    One transaction and one version per record changed (a history scope): the change feed shows the duplicate's
    merge and the survivor's update, not each moved row.
    """
    if type(duplicate) is not type(survivor):
        raise PublicationError("Only records of the same kind can be merged.")
    if duplicate.pk == survivor.pk:
        raise PublicationError("A record cannot be merged into itself.")
    if duplicate.merged_into_id is not None:
        raise PublicationError(f"“{duplicate.slug}” was already merged into “{duplicate.merged_into.slug}”.")
    if survivor.publication_status == PublicationStatus.WITHDRAWN:
        raise PublicationError(f"“{survivor.slug}” is withdrawn; merge into a record that is not.")
    target = duplicate._meta.model_name
    _evidence_move(duplicate=duplicate, survivor=survivor, target=target)
    if isinstance(duplicate, Deal):
        _links_move(queryset=duplicate.party_links.all(), owner="deal", survivor=survivor, key=("company_id", "role"))
        for name in ("stages", "commodities", "facilities"):
            _m2m_move(duplicate=duplicate, survivor=survivor, name=name)
        survivor.countries = list(dict.fromkeys([*survivor.countries, *duplicate.countries]))
    elif isinstance(duplicate, Facility):
        _links_move(
            queryset=duplicate.company_links.all(), owner="facility", survivor=survivor, key=("company_id", "role")
        )
        for name in ("commodities", "deals"):
            _m2m_move(duplicate=duplicate, survivor=survivor, name=name)
    else:
        _links_move(
            queryset=DealParty.objects.filter(company=duplicate),
            owner="company",
            survivor=survivor,
            key=("deal_id", "role"),
        )
        _links_move(
            queryset=FacilityCompany.objects.filter(company=duplicate),
            owner="company",
            survivor=survivor,
            key=("facility_id", "role"),
        )
        for child in Company.objects.filter(parent=duplicate).exclude(pk=survivor.pk):
            child.parent = survivor
            _history_reason(child, f"parent {duplicate.slug} merged into {survivor.slug}")
            child.save()
        if survivor.parent_id == duplicate.pk:
            survivor.parent = duplicate.parent if duplicate.parent_id != survivor.pk else None
    type(duplicate).objects.filter(merged_into=duplicate).update(merged_into=survivor)
    duplicate.publication_status = PublicationStatus.WITHDRAWN
    duplicate.merged_into = survivor
    duplicate.withdrawn_at = timezone.now()
    duplicate.withdrawn_reason = f"Duplicate of “{survivor.slug}”, merged into it."
    _history_reason(duplicate, f"merged into {survivor.slug}")
    duplicate.save()
    _history_reason(survivor, f"merged {duplicate.slug} into this record")
    survivor.save()
    return survivor


def record_by_slug(*, model_name: str, slug: str) -> PublishableModel:
    """The deal, company or facility with ``slug``; raises :class:`PublicationError` naming what is wrong (an
    unknown model name, or no such record, with the record an old slug now redirects to)."""
    model = PUBLISHABLE_MODELS.get(model_name)
    if model is None:
        raise PublicationError(f"Unknown model “{model_name}”: use one of {', '.join(PUBLISHABLE_MODELS)}.")
    record = model.objects.filter(slug=slug).first()
    if record is None:
        renamed = record_resolve(model=model, slug=slug)
        hint = f" (it was renamed to “{renamed.slug}”)" if renamed is not None else ""
        raise PublicationError(f"No {model._meta.verbose_name} has the slug “{slug}”{hint}.")
    return record


def record_resolve(*, model: type[PublishableModel], slug: str) -> PublishableModel | None:
    """The record an API URL with ``slug`` means: the record with that slug, or the one that had it before a
    rename (found through its history, so renames from any entry point count); ``None`` when there is none.

    The caller follows ``merged_into`` (see :func:`record_final`) and decides what is public.
    """
    record = model.objects.filter(slug=slug).first()
    if record is not None:
        return record
    history = model.history.model
    ids = history.objects.filter(slug=slug).order_by("-history_date").values_list("id", flat=True)[:20]
    for pk in ids:
        record = model.objects.filter(pk=pk).first()
        if record is not None:
            return record
    return None


def record_final(*, record: PublishableModel) -> PublishableModel:
    """Follow ``merged_into`` to the record that survived every merge."""
    seen = {record.pk}
    while record.merged_into_id is not None and len(seen) < _MAX_CHAIN:
        record = record.merged_into
        if record.pk in seen:
            break
        seen.add(record.pk)
    return record


def slug_taken_by_rename(*, model: type[PublishableModel], slug: str, exclude_pk: int | None = None):
    """The other record whose old URL ``slug`` still redirects to (after a rename), or ``None``.

    A new record may not take such a slug: the old URL would silently change meaning.
    """
    record = record_resolve(model=model, slug=slug)
    if record is None or record.pk == exclude_pk or record.slug == slug:
        return None
    return record
