"""A third-party program on the Python client that openapi-python-client generates from ReexAPI's schema.

It lists the signed or closed deals, following the pagination to the end, reads the largest one's detail,
revalidates it with its ETag (``If-None-Match``, answered ``304 Not Modified``) and reads a slug that does not
exist (a typed ``404``), printing a short summary. It uses the plain, unauthenticated ``Client`` and makes the
client raise on any status the schema does not document, so the run also checks that the schema declares every
status it meets. Generate the client and run it as docs/api.md ("Generated clients") shows:

    bash clients/generate.sh openapi.json build/clients
    PYTHONPATH=build/clients/python python clients/python/example.py http://127.0.0.1:8000

It exits non-zero (with the reason on stderr) when the API answers anything it does not expect.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from reexapi_client import Client
from reexapi_client.api.deals import v1_deals_list, v1_deals_retrieve
from reexapi_client.models import DealDetail, DealStatusEnum, ErrorDetail, PaginatedDealList

PAGE_SIZE = 3
# The filter takes the same enum as the responses' `status` (one shared schema component).
STATUSES = [DealStatusEnum.SIGNED, DealStatusEnum.CLOSED]
MISSING_SLUG = "no-such-deal"


def fail(message: str) -> None:
    """Stop the program: the API answered something this program does not expect."""
    print(f"unexpected: {message}", file=sys.stderr)
    raise SystemExit(1)


def page_of(link: str | None) -> int | None:
    """The page number of a ``next`` link (``None`` on the last page)."""
    if link is None:
        return None
    return int(parse_qs(urlsplit(link).query)["page"][0])


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def usd(amount: str | None) -> str:
    """A decimal string of US dollars as a reader would write it; 'not stated' when the sources give none."""
    if amount is None:
        return "not stated"
    return f"USD {Decimal(amount) / 1_000_000:,.1f}M"


def main(base_url: str) -> None:
    client = Client(base_url=base_url, raise_on_unexpected_status=True)

    # 1. A filtered list, followed page by page through the `next` links.
    slugs: list[str] = []
    largest: tuple[Decimal, str] | None = None
    page: int | None = 1
    pages = 0
    while page is not None:
        listed = v1_deals_list.sync_detailed(client=client, status=STATUSES, page=page, page_size=PAGE_SIZE)
        body = listed.parsed
        if not isinstance(body, PaginatedDealList):
            fail(f"deals list page {page} answered {listed.status_code}: {listed.content!r}")
            return
        pages += 1
        print(f"page {page}: {len(body.results)} of {body.count} deals")
        for deal in body.results:
            slugs.append(deal.slug)
            print(f"  {deal.slug} [{deal.status}] {usd(deal.amount_usd)}")
            if deal.amount_usd is not None and (largest is None or Decimal(deal.amount_usd) > largest[0]):
                largest = (Decimal(deal.amount_usd), deal.slug)
        page = page_of(body.next_)
    print(f"listed {len(slugs)} signed or closed deals in {pages} pages")
    if largest is None:
        fail("no listed deal has a stated value")
        return

    # 2. One detail, and its ETag.
    detailed = v1_deals_retrieve.sync_detailed(client=client, slug=largest[1])
    detail = detailed.parsed
    if not isinstance(detail, DealDetail):
        fail(f"deal {largest[1]} answered {detailed.status_code}: {detailed.content!r}")
        return
    parties = ", ".join(f"{party.name} ({party.role})" for party in detail.parties)
    print(f"detail: {detail.title} | {detail.deal_type} | {usd(detail.amount_usd)} | parties: {parties}")
    sources = {quote.source.slug for quote in detail.provenance}
    print(f"evidence: {plural(detail.evidence_count, 'quote')} from {plural(len(sources), 'source')}")
    etag = detailed.headers.get("ETag")
    if etag is None:
        fail("the detail has no ETag")
        return

    # 3. The same request with If-None-Match: unchanged, so 304 and no body.
    revalidated = v1_deals_retrieve.sync_detailed(client=client.with_headers({"If-None-Match": etag}), slug=largest[1])
    if revalidated.status_code != HTTPStatus.NOT_MODIFIED or revalidated.content:
        fail(f"If-None-Match answered {revalidated.status_code}: {revalidated.content!r}")
    print(f"revalidated with If-None-Match: {revalidated.status_code.value} {revalidated.status_code.phrase}")

    # 4. A slug that does not exist: a 404 whose body is the typed ErrorDetail.
    missing = v1_deals_retrieve.sync_detailed(client=client, slug=MISSING_SLUG)
    if missing.status_code != HTTPStatus.NOT_FOUND or not isinstance(missing.parsed, ErrorDetail):
        fail(f"{MISSING_SLUG} answered {missing.status_code}: {missing.content!r}")
        return
    print(f"{MISSING_SLUG}: {missing.status_code.value} {missing.parsed.detail}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
