"""Read-side selectors: the one place where each model's API querysets get their joins, prefetches and counts.

HackSoft style: ``<entity>_<action>`` names, keyword-only typed arguments, no writes. The API viewsets call
these from ``get_queryset`` and nothing else adds ``select_related``/``prefetch_related``/``annotate``, so the
number of queries per request is fixed here and pinned by tests (it does not grow with the page size).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

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

_PUBLISHED = PublicationStatus.PUBLISHED


def _count_subquery(queryset: QuerySet, *, column: str, distinct: str | None = None) -> Coalesce:
    """``COUNT(*)`` of ``queryset`` per outer row as a correlated subquery.

    Several ``Count()`` annotations over different joins multiply each other's rows; a subquery per count
    keeps each one exact and lets the database evaluate it only for the rows of the page.
    """
    count = Count(distinct, distinct=True) if distinct else Count("*")
    counted = queryset.order_by().values(column).annotate(n=count).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def evidence_public() -> QuerySet[Evidence]:
    """Evidence of published records: what the public sees of the quotes, and what makes a source public."""
    return Evidence.objects.filter(
        Q(deal__publication_status=_PUBLISHED)
        | Q(company__publication_status=_PUBLISHED)
        | Q(facility__publication_status=_PUBLISHED)
    )


def source_public() -> QuerySet[Source]:
    """Sources cited by at least one published record (a source is public once a published record cites it)."""
    return Source.objects.filter(pk__in=evidence_public().values("source_id"))


def _provenance_prefetch() -> Prefetch:
    """Evidence with its source in brief; the source's (long) text is never loaded for provenance."""
    return Prefetch(
        "evidence",
        queryset=Evidence.objects.select_related("source")
        .defer("source__text", "note")
        .order_by("source__slug", "start", "id"),
    )


def commodity_with_narrower(*, commodities: Iterable[Commodity]) -> set[int]:
    """The ids of ``commodities`` and of every narrower commodity below them in the tree (children, their
    children…), so that a filter on permanent magnets also finds NdFeB magnets. One query (the vocabulary is
    small: its ids and parents); a parent chain that loops (refused by clean()) still ends."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent_id in Commodity.objects.order_by().values_list("pk", "parent_id"):
        children[parent_id].append(pk)
    found: set[int] = set()
    pending = [commodity.pk for commodity in commodities]
    while pending:
        pk = pending.pop()
        if pk not in found:
            found.add(pk)
            pending.extend(children[pk])
    return found


# ``party_kind=government`` means any government party, national or regional, and its departments and agencies
# (the U.S. Department of Defense is an agency); every other kind means itself.
PARTY_KIND_INCLUDES: dict[str, tuple[str, ...]] = {
    Company.Kind.GOVERNMENT: (Company.Kind.GOVERNMENT, Company.Kind.AGENCY)
}


def party_kinds_matching(*, kinds: Iterable[str]) -> set[str]:
    """The company kinds that the party kinds ``kinds`` stand for (see :data:`PARTY_KIND_INCLUDES`)."""
    return {included for kind in kinds for included in PARTY_KIND_INCLUDES.get(kind, (kind,))}


def deal_list() -> QuerySet[Deal]:
    """Published deals with everything the API shows: parties (published companies only), published facilities,
    commodities, stages and provenance, plus ``evidence_count``; default order newest announcement first, ties by
    slug."""
    return (
        Deal.objects.public()
        .prefetch_related(
            Prefetch(
                "party_links",
                queryset=DealParty.objects.filter(company__publication_status=_PUBLISHED)
                .select_related("company")
                .order_by("role", "company__slug"),
            ),
            Prefetch("facilities", queryset=Facility.objects.public().order_by("slug")),
            Prefetch("commodities", queryset=Commodity.objects.order_by("slug")),
            "stages",
            _provenance_prefetch(),
        )
        .annotate(evidence_count=_count_subquery(Evidence.objects.filter(deal=OuterRef("pk")), column="deal"))
        .order_by(F("announced_date").desc(nulls_last=True), "slug")
    )


def company_list(*, detail: bool = False) -> QuerySet[Company]:
    """Published companies with annotated ``deal_count``, ``facility_count`` (published deals and facilities only)
    and ``evidence_count``, provenance and their roles in published facilities (with the facilities); with
    ``detail`` also their roles in published deals (with the deals)."""
    queryset = (
        Company.objects.public()
        .select_related("parent")  # the API shows it only when published (Company.parent_public)
        .prefetch_related(
            _provenance_prefetch(),
            # Lists show each company's facilities with its roles too: one query for the whole page.
            Prefetch(
                "facility_links",
                queryset=FacilityCompany.objects.filter(facility__publication_status=_PUBLISHED)
                .select_related("facility")
                .order_by("facility__slug", "role"),
            ),
        )
        .annotate(
            deal_count=_count_subquery(
                DealParty.objects.filter(company=OuterRef("pk"), deal__publication_status=_PUBLISHED),
                column="company",
                distinct="deal",
            ),
            facility_count=_count_subquery(
                FacilityCompany.objects.filter(company=OuterRef("pk"), facility__publication_status=_PUBLISHED),
                column="company",
            ),
            evidence_count=_count_subquery(Evidence.objects.filter(company=OuterRef("pk")), column="company"),
        )
        .order_by("name", "slug")
    )
    if detail:
        queryset = queryset.prefetch_related(
            Prefetch(
                "deal_links",
                queryset=DealParty.objects.filter(deal__publication_status=_PUBLISHED)
                .select_related("deal")
                .order_by("deal__slug", "role"),
            ),
        )
    return queryset


def facility_list() -> QuerySet[Facility]:
    """Published facilities with their published companies (and roles), commodities, published deals, provenance
    and ``evidence_count``."""
    return (
        Facility.objects.public()
        .prefetch_related(
            Prefetch(
                "company_links",
                queryset=FacilityCompany.objects.filter(company__publication_status=_PUBLISHED)
                .select_related("company")
                .order_by("role", "company__slug"),
            ),
            Prefetch("commodities", queryset=Commodity.objects.order_by("slug")),
            Prefetch("deals", queryset=Deal.objects.public().order_by("slug").only("slug", "title")),
            _provenance_prefetch(),
        )
        .annotate(evidence_count=_count_subquery(Evidence.objects.filter(facility=OuterRef("pk")), column="facility"))
        .order_by("name", "slug")
    )


def source_list(*, detail: bool = False) -> QuerySet[Source]:
    """Public sources (see :func:`source_public`) with ``evidence_count`` (evidence of published records); the full
    text is loaded only with ``detail``, which also prefetches that evidence with the record it supports (see
    :func:`source_records`)."""
    queryset = source_public().annotate(
        evidence_count=_count_subquery(evidence_public().filter(source=OuterRef("pk")), column="source")
    )
    queryset = queryset.order_by("slug")
    if detail:
        return queryset.prefetch_related(
            Prefetch(
                "evidence",
                queryset=evidence_public().select_related("deal", "company", "facility").order_by("start", "id"),
                to_attr="evidence_with_targets",
            )
        )
    return queryset.defer("text")


@dataclass(frozen=True)
class SourceRecords:
    """The records a source supports, each once, ordered by slug."""

    deals: list[Deal]
    companies: list[Company]
    facilities: list[Facility]


def source_records(*, source: Source) -> SourceRecords:
    """Every published deal, company and facility that ``source``'s evidence supports (from :func:`source_list`'s
    ``detail`` prefetch, so it costs no query)."""
    found: dict[str, dict[str, object]] = {"deal": {}, "company": {}, "facility": {}}
    for evidence in source.evidence_with_targets:
        for name in Evidence.TARGETS:
            record = getattr(evidence, name)
            if record is not None and record.is_public:
                found[name][record.slug] = record
    return SourceRecords(
        deals=[found["deal"][k] for k in sorted(found["deal"])],
        companies=[found["company"][k] for k in sorted(found["company"])],
        facilities=[found["facility"][k] for k in sorted(found["facility"])],
    )


def commodity_list() -> QuerySet[Commodity]:
    """Commodities with their parent and ``deal_count``/``facility_count`` (published records only); ordered by
    name."""
    return (
        Commodity.objects.select_related("parent")
        .annotate(
            deal_count=_count_subquery(
                Deal.commodities.through.objects.filter(commodity=OuterRef("pk"), deal__publication_status=_PUBLISHED),
                column="commodity",
            ),
            facility_count=_count_subquery(
                Facility.commodities.through.objects.filter(
                    commodity=OuterRef("pk"), facility__publication_status=_PUBLISHED
                ),
                column="commodity",
            ),
        )
        .order_by("name", "slug")
    )
