"""Rendered records of the fast read path, kept in each process for the current dataset version.

Third-party apps send varied URLs (filters, orderings, pages, sizes), so most requests miss the response cache
(deals/caching.py), yet the records on their pages are the same few thousand over and over. So each record is
kept, as the JSON bytes the list or detail sends, under everything it is a function of:

- the dataset version the request's middleware read (a write replaces it, and with it every key);
- its resource and whether it is the detail record (``DealDetailSerializer``) or the list one;
- the links' scheme and host and the script prefix (every record carries absolute URLs);
- its primary key.

The request still runs its queries (the count and the page's rows, which say which records answer it and in what
order, and are what a write changes), but a record already rendered at this version is neither fetched with its
relations nor built again; only the page's other records are (``relations_fetch`` for those alone). Stale records
are impossible for the same reason as stale cached responses: the version is read before the rows, and a record
stored under a version is only ever reused under it. Why in-process and not Redis: a hit has to cost less than
building the record (a few microseconds); a network round trip per page would cost more than it saves.

Bounded: at most ``REEXAPI_RECORD_CACHE_BYTES`` of JSON per process, least recently used first out; a new
version empties it (nothing stored under an older one can be reached again). ``0`` turns it off.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf

from deals.api.fast.base import absolute_base
from deals.api.renderers_json import json_bytes


class RecordCache:
    """A byte-bounded LRU map from record keys to JSON bytes, safe to share between a process's threads."""

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._version: str | None = None
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._version = None

    def version_use(self, version: str) -> None:
        """Drop everything when the dataset version changed: entries of another version are unreachable."""
        if version != self._version:
            with self._lock:
                self._entries.clear()
                self._bytes = 0
                self._version = version

    def get_many(self, keys: list[Hashable]) -> dict[Hashable, bytes]:
        found = {}
        with self._lock:
            for key in keys:
                value = self._entries.get(key)
                if value is not None:
                    self._entries.move_to_end(key)
                    found[key] = value
        return found

    def put(self, key: Hashable, value: bytes, *, budget: int) -> None:
        if len(value) > budget:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._entries[key] = value
            self._bytes += len(value)
            while self._bytes > budget:
                _key, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)


_CACHE = RecordCache()


def record_cache() -> RecordCache:
    """This process's record cache (tests clear it between tests, tests/conftest.py)."""
    return _CACHE


@dataclass(frozen=True)
class RecordStore:
    """The part of the record cache one request may use: the key prefix of its resource, variant and links."""

    prefix: tuple
    budget: int

    def reuse(self, *, found: list[dict], build: Callable[[list[dict]], list[dict]]) -> list:
        """The records of the rows ``found`` (each with its ``id``), in their order: those rendered before from the
        cache, the others from ``build(rows)`` (one record per row, in order) and then stored. Records come back as
        ``orjson.Fragment`` (the renderer copies their bytes as they are); one orjson cannot encode stays a dict,
        uncached, and goes to the renderer's fallback like any such data."""
        if not found:
            return []
        keys = [(self.prefix, row["id"]) for row in found]
        cached = _CACHE.get_many(keys)
        missing = [row for row, key in zip(found, keys, strict=True) if key not in cached]
        fresh = {}
        if missing:
            for row, record in zip(missing, build(missing), strict=True):
                key = (self.prefix, row["id"])
                try:
                    # A copy of exactly its size: orjson's own bytes keep the tail of a larger buffer, and thousands
                    # of them kept for long fragmented the heap (workers grew by 60 MB after the 100k benchmark).
                    body = memoryview(json_bytes(record)).tobytes()
                except orjson.JSONEncodeError:
                    fresh[key] = record
                    continue
                _CACHE.put(key, body, budget=self.budget)
                fresh[key] = orjson.Fragment(body)
        return [orjson.Fragment(cached[key]) if key in cached else fresh[key] for key in keys]


def record_store_get(*, request: HttpRequest, resource: str, detail: bool) -> RecordStore | None:
    """The record store for this request's ``resource`` records, or ``None`` (build everything) when the cache is
    off or the request carries no dataset version (it did not pass through deals.caching.ApiCacheMiddleware, or the
    database was down when it did)."""
    budget = settings.REEXAPI_RECORD_CACHE_BYTES
    version = getattr(request, "reexapi_dataset_version", None)
    if budget <= 0 or version is None:
        return None
    _CACHE.version_use(version)
    # The version is in every key, not only a reason to empty the cache: a request of the previous version still
    # running in another thread must not store its records where requests of the new one look.
    prefix = (version, resource, detail, absolute_base(request=request), get_script_prefix(), get_urlconf())
    return RecordStore(prefix=prefix, budget=budget)
