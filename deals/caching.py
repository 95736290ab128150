"""HTTP caching for the public API: a dataset version, strong ETags, 304s and a rendered-response cache.

The dataset is read-mostly: it changes only when an editor saves in the admin or the loader runs. Every committed
write replaces the *dataset version*, a random token in one database row (:class:`deals.models.DatasetVersion`,
bumped by deals/signals.py). Everything the API serves is a function of (dataset version, code, request URL,
negotiated format), so:

- the ETag of a response is a hash of exactly those inputs, computed after one cheap query (the version row) and
  before any other database access;
- ``If-None-Match`` with a matching ETag is answered 304 without calling the view: one query, no serialisation;
- a rendered 200 response is stored in the "responses" cache under the same hash and replayed byte for byte.

Why this never serves stale data after a write: the middleware reads the version *before* the view reads the data.
A write bumps the version only after it commits (``transaction.on_commit``). If a request read the old version, the
data it then read is either the old data (consistent with that version) or the new, committed data; in the second
case it is stored under the old version's key, which nobody can reach any more once the bump lands, because every
later request reads the new version first. A request that reads the new version starts after the commit, so it can
only see the new data. Old entries are never deleted: they become unreachable and expire.

Why the database and not the cache: the database is the one thing every writer (admin, shell, loader, import,
another server) and every server process share, with the default local-memory cache as well as with Redis. A
version kept in a per-process cache would leave a shell's write invisible to a running server.

On PostgreSQL the version is pushed rather than read on every request (deals/version_listener.py): each process
``LISTEN``s on a connection of its own and a bump sends ``NOTIFY`` in its own transaction. "Reads the version" above
then means "takes the version this process knows", which changes only after the commit: at once for the process's
own writes, and for another process's when the notification arrives (normally well under a millisecond later). So
across processes a write can stay invisible for that long; if the listener degrades, for at most two heartbeats
(``REEXAPI_DATASET_VERSION_HEARTBEAT``), after which, and whenever it is not live, every request reads the row again.
``REEXAPI_DATASET_VERSION_LISTEN=false`` reads it on every request: strict read-after-write across processes.
SQLite always reads it (in-process and cheap).

Faults (deals/outages.py): if the version cannot be read (database stalled or down), the middleware uses the last
version it knew and serves 304s and cached responses from it; anything else is a JSON 503 with Retry-After, at
once, without waiting for the database again until ``REEXAPI_DB_RETRY_AFTER`` has passed. If the response cache
(Redis) fails, it is skipped for ``REEXAPI_CACHE_RETRY_AFTER`` seconds; each call gives up after
``REEXAPI_REDIS_TIMEOUT``.

Bounded: at most ``REEXAPI_RESPONSE_CACHE_BUDGET`` bytes of new entries are stored per
``REEXAPI_RESPONSE_CACHE_WINDOW`` seconds, counted in the cache itself (so across all servers sharing Redis), and
each entry expires after ``REEXAPI_RESPONSE_CACHE_TIMEOUT``: a client inventing query strings cannot grow it
beyond budget x (timeout / window + 1) bytes.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified, JsonResponse
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

from deals import outages, version_listener
from deals.api.negotiation import negotiated_format_get

logger = logging.getLogger(__name__)

# The last dataset version this process read, shared through the response cache too: what a server that has just
# started can use while the database is unreachable.
LAST_VERSION_KEY = "reexapi:last-dataset-version"
RESPONSE_KEY_PREFIX = "reexapi:response:"
BUDGET_KEY_PREFIX = "reexapi:response-budget:"
# Bumped whenever the ETag/key recipe changes, so that ETags issued by an older release never match.
_RECIPE = "3"

# Headers the middleware sets itself (or Django's outer middleware recomputes), not replayed from the cache.
_NOT_REPLAYED = {"etag", "cache-control", "vary", "content-length", "set-cookie"}

_last_version: str | None = None


def response_cache():
    """The cache that holds rendered API responses (the "responses" alias of ``CACHES``)."""
    return caches["responses"]


def dataset_version_get() -> str:
    """Return the current dataset version from the database, creating the row with a random token if missing.

    One primary-key read. ``ignore_conflicts`` makes two processes racing to create the row agree on one token.
    Raises the database's error when it is unavailable (see :func:`dataset_version_current`).
    """
    from deals.models import DatasetVersion

    version = _version_read_checked()
    if version is None:
        DatasetVersion.objects.bulk_create([DatasetVersion(id=1, token=secrets.token_hex(16))], ignore_conflicts=True)
        version = DatasetVersion.objects.filter(pk=1).values_list("token", flat=True).get()
        version_listener.version_notify(version)  # listeners that found no row learn the first token
    return version


def _version_read(connection) -> str | None:
    """The version row's token, or ``None`` when the row is missing: one statement, no ORM query compiled.

    Raw SQL because this runs on every API request, a cache hit included, where compiling the equivalent QuerySet
    cost about as much CPU as the rest of the hit.
    """
    from deals.models import DatasetVersion

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {DatasetVersion._meta.db_table} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


def _version_read_checked() -> str | None:
    """:func:`_version_read`, the read itself serving as the request's connection health check.

    With ``CONN_HEALTH_CHECKS`` Django checks a kept connection with a ``SELECT 1`` before a request's first query:
    a second round trip to the database on every cache hit, whose only query is this one. Here that first query is
    the version read: if it fails on a kept connection that then proves unusable (killed, server restarted), the
    connection is closed and the read tried once more on a new one, which is what the health check would have
    done. A failure on a usable connection (a statement timeout: the database is stalled) is raised at once, as
    before, so a stall still costs one timeout, not two.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    health_check_due = (
        connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
        and not connection.in_atomic_block
    )
    if not health_check_due:
        return _version_read(connection)
    connection.health_check_done = True
    try:
        return _version_read(connection)
    except outages.DATABASE_UNAVAILABLE_ERRORS:
        if connection.is_usable():
            raise
        connection.close()
        return _version_read(connection)


def dataset_version_bump() -> str:
    """Replace the dataset version with a new random token, invalidating every ETag and cached response.

    Called after each committed write to a dataset model (deals/signals.py); safe to call at any time, from any
    process. A new random token, never a counter, so an ETag from before a database was recreated never matches.
    On PostgreSQL the ``NOTIFY`` is in the ``UPDATE``'s transaction, so listeners (deals/version_listener.py) learn
    the token exactly when it commits; this process knows it at once (in an enclosing transaction: at its commit,
    by the notification).
    """
    from django.db import transaction
    from django.utils import timezone

    from deals.models import DatasetVersion

    version = secrets.token_hex(16)
    with transaction.atomic():
        if not DatasetVersion.objects.filter(pk=1).update(token=version, changed=timezone.now()):
            DatasetVersion.objects.bulk_create([DatasetVersion(id=1, token=version)], ignore_conflicts=True)
            DatasetVersion.objects.filter(pk=1).update(token=version, changed=timezone.now())
        version_listener.version_notify(version)
    if not connections[DEFAULT_DB_ALIAS].in_atomic_block:  # committed: this process knows it from now on
        version_listener.version_own_publish(version)
    return version


def dataset_version_current() -> tuple[str | None, bool]:
    """``(version, database_down)`` for the middleware: the database's version, or the last known one.

    The database's version is the listener's while it vouches for it (PostgreSQL), else one read of the row.

    While the database breaker is open (a failure less than ``REEXAPI_DB_RETRY_AFTER`` seconds ago) the database is
    not asked at all, so cached responses are served at full speed during an outage. The fallback is this
    process's last version, else the one the response cache holds (written by any process); ``None`` if neither.
    """
    global _last_version
    if outages.database_breaker.is_open():
        return _last_version_fallback(), True
    try:
        version = version_listener.version_known() or dataset_version_get()
    except outages.DATABASE_UNAVAILABLE_ERRORS:
        outages.database_breaker.trip()
        logger.exception(
            "Database unavailable: serving the API from its cache, 503 otherwise, for %ss",
            settings.REEXAPI_DB_RETRY_AFTER,
        )
        return _last_version_fallback(), True
    if version != _last_version:
        _last_version = version
        _cache_call(response_cache().set, LAST_VERSION_KEY, version, timeout=None)
    return version, False


def _last_version_fallback() -> str | None:
    return _last_version or _cache_call(response_cache().get, LAST_VERSION_KEY)


@functools.cache
def code_fingerprint_get() -> str:
    """A hash of the code that renders responses: the project's Python files and its pinned dependencies.

    Responses depend on the code as much as on the data. With Redis the cache outlives a deployment, so without
    this a new release would keep serving (and 304-confirming) what the old code rendered until the next write.
    Every worker of one release computes the same value, so they still share ETags and cached responses.
    """
    base = Path(settings.BASE_DIR)
    # Templates render the landing page; CITATION.cff is the citation the index and the landing page show.
    files = sorted(
        [
            *(base / "deals").rglob("*.py"),
            *(base / "deals" / "templates").rglob("*.html"),
            *(base / "reexapi").rglob("*.py"),
            base / "pyproject.toml",
            base / "CITATION.cff",
        ]
    )
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(base)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def response_cache_key_get(*, request: HttpRequest, version: str, negotiated: str) -> str:
    """Hash everything a rendered API response depends on: the dataset version, the code and the request.

    The absolute URL covers the path, the query string (filters, ordering, page, ``?format=``) and the scheme and
    host that hyperlinks in the body are built from; ``negotiated`` (:func:`negotiated_format_get`) is the
    renderer content negotiation chooses. The raw Accept header is not used: any random parameter in it would
    otherwise make a new cache entry.
    """
    material = "\n".join((_RECIPE, code_fingerprint_get(), version, request.build_absolute_uri(), negotiated))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()


def _etag_matches(*, if_none_match: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".

    ``*`` is not matched here: it means "any current representation", and only the view knows whether there is
    one (an unknown slug is a 404, not a 304). See ``ApiCacheMiddleware.__call__``.
    """
    bare = etag.removeprefix("W/")
    return any(candidate.removeprefix("W/") == bare for candidate in parse_etags(if_none_match))


def _cache_call(method, *args, **kwargs):
    """A response-cache call that gives up if the cache fails: it is only an optimisation.

    The first failure (e.g. Redis stalled: the call waited ``REEXAPI_REDIS_TIMEOUT``) opens the cache breaker, and
    for ``REEXAPI_CACHE_RETRY_AFTER`` seconds every call returns ``None`` at once; then the next call tries again.
    """
    if outages.cache_breaker.is_open():
        return None
    try:
        return method(*args, **kwargs)
    except Exception:
        outages.cache_breaker.trip()
        logger.exception("API response cache unavailable; skipping it for %ss", settings.REEXAPI_CACHE_RETRY_AFTER)
        return None


def _budget_allows(nbytes: int) -> bool:
    """Whether ``nbytes`` more fit in this window's storage budget (counted in the cache, across all servers)."""
    window = settings.REEXAPI_RESPONSE_CACHE_WINDOW
    key = f"{BUDGET_KEY_PREFIX}{int(time.time() // window)}"
    store = response_cache()

    def count() -> int | None:
        store.add(key, 0, timeout=window * 2)
        try:
            return store.incr(key, nbytes)
        except ValueError:  # the counter was culled between add and incr: count this window from here
            store.set(key, nbytes, timeout=window * 2)
            return nbytes

    used = _cache_call(count)
    if used is None:
        return False
    if used > settings.REEXAPI_RESPONSE_CACHE_BUDGET:
        # Not stored, so not counted: one large response must not spend the window's budget for the small ones.
        _cache_call(store.decr, key, nbytes)
        return False
    return True


def response_store(*, key: str, frozen: dict) -> bool:
    """Store a rendered response unless this window's budget is spent; ``True`` if it was stored."""
    nbytes = len(frozen["content"]) + sum(len(name) + len(value) for name, value in frozen["headers"])
    if not _budget_allows(nbytes):
        return False
    _cache_call(response_cache().set, key, frozen, timeout=settings.REEXAPI_RESPONSE_CACHE_TIMEOUT)
    return not outages.cache_breaker.is_open()


def _query_string_too_long(request: HttpRequest) -> JsonResponse | None:
    """A JSON 400 for a query string longer than ``REEXAPI_MAX_QUERY_STRING`` bytes (before anything parses it)."""
    limit = settings.REEXAPI_MAX_QUERY_STRING
    length = len(request.META.get("QUERY_STRING", ""))
    if length <= limit:
        return None
    message = f"Query string too long ({length} bytes); at most {limit} bytes are allowed."
    return JsonResponse({"query": [message]}, status=400)


def _cacheable(response: HttpResponseBase) -> bool:
    """Only plain 200 responses that do not set or depend on cookies are stored and given an ETag."""
    if response.status_code != 200 or response.streaming:
        return False
    if response.has_header("Set-Cookie") or response.cookies:
        return False
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",")}
    return "cookie" not in vary and "*" not in vary


class ApiCacheMiddleware:
    """ETag, 304 and rendered-response cache for GET and HEAD under ``/api/`` and on ``REEXAPI_CACHED_PAGES`` (the
    landing page).

    Sits after CommonMiddleware and inside CorsMiddleware, so 304s and cached hits still get CORS headers.
    Error responses (400, 404…) are neither cached nor given an ETag: they are cheap, and caching whatever a client
    or a scanner invents would only fill the cache.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        cached_path = request.path.startswith(settings.REEXAPI_API_CACHE_PREFIX) or (
            request.path in settings.REEXAPI_CACHED_PAGES
        )
        if request.method not in ("GET", "HEAD") or not cached_path:
            return self.get_response(request)

        too_long = _query_string_too_long(request)
        if too_long is not None:
            return too_long
        # The version is read first, before the view touches the database: see the module docstring. The schema
        # and the docs pages do not depend on the dataset (only on the code, which the key covers): no query, and
        # they stay up while the database is down.
        if request.path in settings.REEXAPI_API_DATASET_INDEPENDENT_PATHS:
            version, database_down = "code-only", False
        else:
            version, database_down = dataset_version_current()
        if version is None:
            return outages.database_unavailable_response(request) if database_down else self.get_response(request)
        if not database_down:
            # What the view may key its rendered records by (deals/api/fast/record_cache.py): read before the data.
            request.reexapi_dataset_version = version
        negotiated = negotiated_format_get(request=request)
        if negotiated is None:
            # Negotiation fails (unknown ?format=, unacceptable Accept, unparsable query): the view answers an
            # error, which is never cached.
            return outages.database_unavailable_response(request) if database_down else self.get_response(request)
        key = response_cache_key_get(request=request, version=version, negotiated=negotiated)
        etag = f'"{key[:40]}"'

        # An ETag is only ever issued with a 200, and the same version and request always give the same 200:
        # a matching one proves the client's copy is current without asking the view.
        if_none_match = request.headers.get("If-None-Match", "")
        if if_none_match and _etag_matches(if_none_match=if_none_match, etag=etag):
            return self._decorate(HttpResponseNotModified(), etag=etag)
        any_current = parse_etags(if_none_match) == ["*"]

        use_store = settings.REEXAPI_RESPONSE_CACHE
        cache_key = RESPONSE_KEY_PREFIX + key
        if use_store:
            stored = _cache_call(response_cache().get, cache_key)
            if stored is not None:
                response = HttpResponseNotModified() if any_current else self._replay(stored)
                return self._decorate(response, etag=etag)
        if database_down:
            # Not cached, and the database failed moments ago: answer now rather than wait for its timeouts again.
            return outages.database_unavailable_response(request)

        response = self.get_response(request)
        if not _cacheable(response):
            return response
        if use_store:
            response_store(key=cache_key, frozen=self._freeze(response))
        if any_current:
            response = HttpResponseNotModified()
        return self._decorate(response, etag=etag)

    @staticmethod
    def _decorate(response: HttpResponseBase, *, etag: str) -> HttpResponseBase:
        """Headers every cacheable answer carries, including a 304 (RFC 9110 §15.4.5)."""
        response["ETag"] = etag
        response["Cache-Control"] = f"public, max-age={settings.REEXAPI_API_CACHE_MAX_AGE}"
        patch_vary_headers(response, ("Accept",))
        return response

    @staticmethod
    def _freeze(response: HttpResponse) -> dict:
        """What is stored: the rendered bytes and the headers the view and inner middleware set."""
        headers = [(name, value) for name, value in response.items() if name.lower() not in _NOT_REPLAYED]
        vary = [v.strip() for v in response.get("Vary", "").split(",") if v.strip()]
        return {"content": response.content, "headers": headers, "vary": vary}

    @staticmethod
    def _replay(stored: dict) -> HttpResponse:
        response = HttpResponse(stored["content"], status=200)
        for name, value in stored["headers"]:
            response[name] = value
        if stored["vary"]:
            patch_vary_headers(response, stored["vary"])
        return response
