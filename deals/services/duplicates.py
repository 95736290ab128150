"""Duplicates caught before they are saved: a deal with the same type and parties, a source with the same text.

Both checks are read-only selectors; the admin forms turn a hit into an error that links the existing record.
"""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from deals.models import Deal, DealParty, PublicationStatus, Source

# Typographic variants that do not make a different text: curly and straight quotes, every dash, white space.
_QUOTES = str.maketrans(
    {c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u00b4`"}
    | {c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"}
)
_DASHES_RE = re.compile(r"[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d-]+")
_SPACE_RE = re.compile(r"\s+")


def text_comparison_key(*, text: str) -> str:
    """``text`` with quotes, dashes and white space folded, so that two copies of one article compare equal
    whatever their typography (the stored texts are already normalised by :func:`deals.text.text_normalise`)."""
    folded = _DASHES_RE.sub("-", text.translate(_QUOTES))
    return _SPACE_RE.sub(" ", folded).strip()


def source_duplicate_find(*, text: str, exclude_pk: int | None = None) -> Source | None:
    """The stored source whose text equals ``text`` once quotes, dashes and white space are folded, if any.

    Sources are few and long, so this compares in Python; an exact match of the stored text is found first by
    its digest column without loading any text.
    """
    key = text_comparison_key(text=text)
    candidates = Source.objects.exclude(pk=exclude_pk) if exclude_pk is not None else Source.objects.all()
    for source in candidates.only("pk", "slug", "title", "text").iterator(chunk_size=50):
        if text_comparison_key(text=source.text) == key:
            return source
    return None


def deal_duplicates_find(*, deal_type: str, company_ids, exclude_pk: int | None = None) -> list[Deal]:
    """Deals of ``deal_type`` whose parties are exactly the companies ``company_ids`` (roles aside); withdrawn and
    merged deals are not counted (they are no longer part of the dataset)."""
    wanted = set(company_ids)
    if not wanted or not deal_type:
        return []
    parties: dict[int, set[int]] = {}
    links = DealParty.objects.filter(deal__deal_type=deal_type, company__in=wanted).exclude(
        deal__publication_status=PublicationStatus.WITHDRAWN
    )
    if exclude_pk is not None:
        links = links.exclude(deal_id=exclude_pk)
    candidate_ids = set(links.values_list("deal_id", flat=True))
    for deal_id, company_id in DealParty.objects.filter(deal_id__in=candidate_ids).values_list("deal_id", "company_id"):
        parties.setdefault(deal_id, set()).add(company_id)
    same = [deal_id for deal_id, companies in parties.items() if companies == wanted]
    return list(Deal.objects.filter(pk__in=same).order_by("slug"))


def record_admin_link(*, record) -> SafeString:
    """An HTML link to ``record``'s admin change page, for messages that name an existing record."""
    url = reverse(f"admin:deals_{record._meta.model_name}_change", args=[record.pk])
    return format_html('<a href="{}">“{}”</a> ({})', url, record.slug, record)
