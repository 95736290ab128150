"""A list asked for nothing but ``q`` (and its page): its count and its page's ids from one ranked query
(:func:`deals.selectors.search.deal_search_page`), then the page's rows by primary key.

Counting and ranking every match through the filtered queryset cost 200 ms at 100k deals on PostgreSQL; the search
levels (deals/search_levels.py) answer in a few milliseconds. On SQLite the query reads the FTS5 table alone
(without joining every match to its deal), about half the time. Where there is no such answer (the selector
returns ``None``), the list is the filtered queryset as before, with the same order.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connections
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from rest_framework.request import Request

from deals.api.pagination import CURSOR_PARAM
from deals.selectors.search import RankedPage, search_terms

# The parameters such a list may have: q and the page's own (any filter, ordering or cursor takes the general path).
_ASKED = frozenset({"q", "page", "page_size", "format"})


class RankedList:
    """The list for Django's Paginator: ``count()`` and the page's slice from one ranked query, the page being the
    one the pagination announces (``page_expect``); any other slice, or no levels, through ``fallback()``."""

    def __init__(self, *, base: QuerySet, q: str, search: Callable[..., RankedPage | None], fallback: Callable):
        self.base, self.q, self.search, self.fallback = base, q, search, fallback
        self._expect = (0, 1)
        self._page: RankedPage | None = None
        self._fallen: QuerySet | None = None

    def page_expect(self, *, offset: int, limit: int) -> None:
        """The slice the pagination will take, read with the count."""
        self._expect = (offset, limit)

    def _ranked(self, offset: int, limit: int) -> RankedPage | None:
        if self._fallen is not None:
            return None
        page = self.search(q=self.q, offset=offset, limit=limit)
        if page is None:
            self._fallen = self.fallback()
            if hasattr(self._fallen, "page_expect"):  # a compiled list reads the page with the count
                self._fallen.page_expect(offset=self._expect[0], limit=self._expect[1])
        return page

    def count(self) -> int:
        """The number of matches, read with the expected page (or by the fallback's count)."""
        if self._page is None and self._fallen is None:
            self._page = self._ranked(*self._expect)
        return self._fallen.count() if self._fallen is not None else self._page.count

    def __getitem__(self, item: slice) -> QuerySet:
        """The page's rows as a queryset of ``base`` in the ranked order (the expected page's ids when ``item`` is
        that page or the start of it, else a ranked query of its own)."""
        offset, limit = item.start or 0, item.stop - (item.start or 0)
        # The Paginator cuts the last page at the count: a shorter slice of the page read with it.
        read = self._page is not None and offset == self._expect[0] and limit <= self._expect[1]
        page = self._page if read else None
        if page is None and self._fallen is None:
            page = self._ranked(offset, limit)
        if self._fallen is not None:
            return self._fallen[item]
        ids = page.ids[:limit]
        if not ids:
            return self.base.none()
        order = _in_order(ids=ids, table=self.base.model._meta.db_table, vendor=connections[self.base.db].vendor)
        return self.base.filter(pk__in=ids).order_by(order.asc())


def _in_order(*, ids: list[int], table: str, vendor: str):
    """An ordering expression that sorts rows as ``ids`` lists them."""
    if vendor == "postgresql":
        return RawSQL(f'array_position(%s::bigint[], "{table}"."id")', (ids,))
    return Case(*(When(pk=pk, then=Value(position)) for position, pk in enumerate(ids)), output_field=IntegerField())


def ranked_list(
    *, request: Request, base: QuerySet, search: Callable[..., RankedPage | None] | None, fallback: Callable
) -> RankedList | None:
    """A :class:`RankedList` when the request asks for nothing but a ``q`` with terms and a numbered page."""
    params = request.query_params
    q = params.get("q")
    if search is None or CURSOR_PARAM in params or not q or not set(params) <= _ASKED or not search_terms(q=q):
        return None
    return RankedList(base=base, q=q, search=search, fallback=fallback)
