"""Faults contained: circuit breakers for the database and the response cache, and the 503 they answer.

A stalled database or Redis must cost a request a bounded time (the timeouts in reexapi/settings.py) and then not
again on every request: after a failure, a breaker stays *open* for a while and the API skips what failed (see
deals/caching.py): for the database it serves 304s and cached responses from the last known dataset version and
answers a 503 to the rest at once; for the cache it serves uncached. Once the retry time has passed the next
request tries again, so recovery needs nobody. Breakers are per process (each worker finds out on its own) and
thread-safe enough for gunicorn's threads: the state is one float, written atomically.
"""

from __future__ import annotations

import logging
import sys
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

# What a stalled, unreachable or killed database raises (timeouts, refused or dropped connections). Integrity or
# programming errors are bugs, and stay 500s.
DATABASE_UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)


class Breaker:
    """Open for ``retry_setting`` seconds (a settings name, read at each trip) after a failure, closed otherwise."""

    def __init__(self, *, retry_setting: str):
        self.retry_setting = retry_setting
        self.open_until = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self.open_until

    def trip(self) -> None:
        self.open_until = time.monotonic() + getattr(settings, self.retry_setting)

    def reset(self) -> None:
        self.open_until = 0.0


database_breaker = Breaker(retry_setting="REEXAPI_DB_RETRY_AFTER")
cache_breaker = Breaker(retry_setting="REEXAPI_CACHE_RETRY_AFTER")

UNAVAILABLE_DETAIL = "The database is unavailable. Please try again shortly."
UNAVAILABLE_PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>503 Service Unavailable</title></head>"
    "<body><h1>Service unavailable</h1><p>The database does not answer. Please try again in a few seconds.</p>"
    "</body></html>"
)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """A 503 with ``Retry-After``: JSON under /api/, a plain page elsewhere (the admin)."""
    if request.path.startswith(settings.REEXAPI_API_CACHE_PREFIX):
        response = JsonResponse({"detail": UNAVAILABLE_DETAIL}, status=503)
    else:
        response = HttpResponse(UNAVAILABLE_PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(settings.REEXAPI_DB_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 handler: a database failure is a 503 (and opens the breaker); anything else a real 500.

    Django calls it inside its exception handler, so ``sys.exc_info()`` is the exception; it has already been
    logged with its traceback by then (``django.request``).
    """
    from deals.api.views import api_server_error

    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_UNAVAILABLE_ERRORS):
        database_breaker.trip()
        return database_unavailable_response(request)
    return api_server_error(request)
