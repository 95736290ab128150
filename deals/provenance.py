"""Checking provenance in the database: every record has evidence, every non-empty field is backed by a current
quote (:mod:`deals.coverage`), every quote matches, every digest matches.

Read-only (a selector in HackSoft terms). The query count is constant whatever the data size: the records come
with their relations and evidence prefetched by :mod:`deals.selectors`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from deals.coverage import record_coverage_gaps
from deals.models import Evidence, Source
from deals.selectors import company_list, deal_list, facility_list


@dataclass(frozen=True)
class ProvenanceFault:
    """One provenance problem, naming the record (``kind`` and ``slug``) and what is wrong."""

    kind: str
    slug: str
    problem: str

    def __str__(self) -> str:
        return f"{self.kind} {self.slug!r}: {self.problem}"


@dataclass(frozen=True)
class ProvenanceResult:
    """The faults found, with the counts the summary prints."""

    faults: list[ProvenanceFault]
    evidence: int
    verified: int
    sources: int
    records: int


def provenance_check() -> ProvenanceResult:
    """Check the whole database and return every fault with the counts (see :func:`provenance_verify`)."""
    faults: list[ProvenanceFault] = []

    texts: dict[int, tuple[str, str]] = {}
    for pk, slug, text, digest in Source.objects.values_list("pk", "slug", "text", "text_sha256"):
        texts[pk] = (slug, text)
        actual = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if actual != digest:
            faults.append(
                ProvenanceFault(
                    "source", slug, f"text_sha256 {digest} does not match the SHA-256 of the stored text ({actual})"
                )
            )

    records = 0
    for queryset, target in ((deal_list(), "deal"), (company_list(), "company"), (facility_list(), "facility")):
        for record in queryset.order_by("slug"):
            records += 1
            if not record.evidence.all():
                faults.append(ProvenanceFault(target, record.slug, "has no evidence"))
            for gap in record_coverage_gaps(record=record):
                faults.append(ProvenanceFault(target, record.slug, gap))

    rows = Evidence.objects.values_list(
        "pk", "source_id", "quote", "start", "end", "deal__slug", "company__slug", "facility__slug"
    ).order_by("pk")
    total = verified = 0
    for pk, source_id, quote, start, end, deal, company, facility in rows:
        total += 1
        target = (
            f"deal {deal!r}"
            if deal
            else f"company {company!r}"
            if company
            else f"facility {facility!r}"
            if facility
            else "no record"
        )
        slug, text = texts[source_id]
        if end > len(text):
            problem = f"ends at {end}, past the end of source {slug!r} ({len(text)} characters)"
        elif text[start:end] != quote:
            found = text[start:end][:80]
            problem = f"quote {quote[:80]!r} does not match source {slug!r} at {start}-{end}, which has {found!r}"
        else:
            verified += 1
            continue
        faults.append(ProvenanceFault("evidence", str(pk), f"(for {target}) {problem}"))

    return ProvenanceResult(faults=faults, evidence=total, verified=verified, sources=len(texts), records=records)


def provenance_verify() -> list[ProvenanceFault]:
    """Return every provenance fault in the database (empty when everything verifies):

    - a deal, company or facility without evidence;
    - a non-empty field of one that no current quote supports (:func:`deals.coverage.record_coverage_gaps`);
    - evidence whose quote is not exactly ``source.text[start:end]``;
    - a source whose ``text_sha256`` is not the SHA-256 of its stored text.
    """
    return provenance_check().faults
