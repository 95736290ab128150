"""Rate limits of the public API: one DRF throttle per client IP, on the shared (default) cache.

Every request under ``/api/`` counts, whatever answers it: a view, a 304 or a replayed response of the response
cache (deals/caching.py), or an error. That is why the throttle runs in :class:`ApiRateLimitMiddleware`, outside the
response cache, instead of in DRF's ``check_throttles`` (which runs only when a view is reached, and after the
strict query checks): a client hammering one cached URL, or sending nothing but bad queries, is limited too.

The limit is a fixed window that opens with the client's first request: at most N requests per window, counted
with the cache's atomic ``incr`` (exact across workers and servers with Redis), so the ``RateLimit-*`` headers
are exact too. A cache that fails lets the request through: rate limiting must never take the API down. After a
failure the limit is skipped for ``REEXAPI_CACHE_RETRY_AFTER`` seconds (10 by default), so a stalled Redis costs
one request its timeout, not every request.

Headers (draft-ietf-httpapi-ratelimit-headers, the three separate fields), on every API response:
``RateLimit-Limit`` (requests per window), ``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds until the
window ends); a 429 adds ``Retry-After`` (the same number of seconds) and a JSON ``{"detail": ...}`` body.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from rest_framework.throttling import SimpleRateThrottle

from deals.client_ip import client_ip_get

logger = logging.getLogger(__name__)

RATE_DISABLED = ("", "off", "none")
# Set on the cache backend object (so a new cache configuration starts closed): when to try the cache again.
_SKIP_UNTIL_ATTRIBUTE = "_reexapi_throttle_skip_until"


def rate_parse(rate: str) -> tuple[int, int] | None:
    """``"600/minute"`` → (600, 60); ``off`` → None. Periods as DRF: second, minute, hour, day (first letter)."""
    rate = rate.strip().lower()
    if rate in RATE_DISABLED:
        return None
    try:
        number, period = rate.split("/")
        requests = int(number)
        duration = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period.strip()[0]]
    except (ValueError, KeyError, IndexError):
        raise ImproperlyConfigured(
            f"REEXAPI_API_RATE_LIMIT={rate!r}: expected <requests>/<second|minute|hour|day>, e.g. 600/minute, or off."
        ) from None
    if requests < 1:
        raise ImproperlyConfigured(f"REEXAPI_API_RATE_LIMIT={rate!r}: the number of requests must be at least 1.")
    return requests, duration


class ApiRateThrottle(SimpleRateThrottle):
    """DRF throttle keyed by client IP (:func:`deals.client_ip.client_ip_get`), rate from ``REEXAPI_API_RATE_LIMIT``.

    After :meth:`allow_request`, ``limit``, ``remaining`` and ``reset`` describe the client's current window.
    """

    scope = "api"
    cache_format = "reexapi:throttle:%(scope)s:%(ident)s"

    def __init__(self):
        # Read at each request, not at import, so the setting can change in tests and at runtime.
        parsed = rate_parse(settings.REEXAPI_API_RATE_LIMIT)
        self.rate = settings.REEXAPI_API_RATE_LIMIT if parsed else None
        self.num_requests, self.duration = parsed or (None, None)
        self.limit = self.num_requests
        self.remaining = self.num_requests
        self.reset = self.duration

    def get_cache_key(self, request, view):
        # Clients without a valid address (a Unix socket without a trusted proxy) share one budget.
        return self.cache_format % {"scope": self.scope, "ident": client_ip_get(request) or "unknown"}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        now = self.timer()
        start_key = f"{key}:start"
        # The window opens with the client's first request and lasts `duration` seconds; its counter is named after
        # its start, so a new window never inherits an old count.
        start = now if self.cache.add(start_key, now, timeout=self.duration) else self.cache.get(start_key, now)
        count_key = f"{key}:{start:.6f}"
        self.cache.add(count_key, 0, timeout=self.duration + 1)
        try:
            count = self.cache.incr(count_key)
        except ValueError:  # expired between add and incr
            self.cache.set(count_key, 1, timeout=self.duration + 1)
            count = 1
        self.remaining = max(0, self.num_requests - count)
        self.reset = max(0.0, start + self.duration - now)
        return count <= self.num_requests

    def wait(self):
        return self.reset


class ApiRateLimitMiddleware:
    """Applies :class:`ApiRateThrottle` to every request under ``/api/`` and adds the ``RateLimit-*`` headers.

    Sits inside CorsMiddleware (a browser app can read the 429 and its headers) and outside ApiCacheMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response
        rate_parse(settings.REEXAPI_API_RATE_LIMIT)  # a malformed limit stops the server at startup, not per request

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(settings.REEXAPI_API_CACHE_PREFIX):
            return self.get_response(request)
        throttle = ApiRateThrottle()
        if throttle.rate is None:
            return self.get_response(request)
        backend = caches["default"]
        if time.monotonic() < getattr(backend, _SKIP_UNTIL_ATTRIBUTE, 0.0):
            return self.get_response(request)
        try:
            allowed = throttle.allow_request(request, None)
        except Exception:
            retry_after = getattr(settings, "REEXAPI_CACHE_RETRY_AFTER", 10)
            setattr(backend, _SKIP_UNTIL_ATTRIBUTE, time.monotonic() + retry_after)
            logger.exception("API rate limit unavailable (cache error): requests pass unlimited for %ss", retry_after)
            return self.get_response(request)
        if allowed:
            response = self.get_response(request)
        else:
            response = self.too_many_requests(throttle)
        self.decorate(response, throttle)
        return response

    @staticmethod
    def too_many_requests(throttle: ApiRateThrottle) -> JsonResponse:
        wait = max(1, math.ceil(throttle.wait()))
        response = JsonResponse(
            {
                "detail": f"Too many requests: at most {throttle.limit} requests per {throttle.duration} seconds "
                f"per client. Retry in {wait} seconds."
            },
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response

    @staticmethod
    def decorate(response: HttpResponseBase, throttle: ApiRateThrottle) -> None:
        response["RateLimit-Limit"] = str(throttle.limit)
        response["RateLimit-Remaining"] = str(throttle.remaining)
        response["RateLimit-Reset"] = str(math.ceil(throttle.reset))
