"""The ``Link: <…>; rel="license"`` header (RFC 8288) on every API response and on the landing page.

A middleware, not a view mixin, so that every answer carries it: lists, details, CSV, errors (the JSON 400s, 404s
and 405s, the 429 of the rate limit, the 503 of an outage) and the 304s and cached hits that the response cache
(deals/caching.py) returns without calling a view. It sits outside that cache, so a stored response never holds
the licence link and a replayed one gets it exactly once. A ``Link`` the view already set (pagination's
``rel="next"``/``rel="prev"``) is kept: RFC 8288 §3 allows one header with comma-separated link-values, and that is
what is sent, the licence last.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from deals.licensing import DATASET_LICENSE

LICENSE_LINK = f'<{DATASET_LICENSE["url"]}>; rel="license"'


def license_link_add(*, response: HttpResponseBase) -> HttpResponseBase:
    """Append the dataset licence's link-value to the response's ``Link`` header (once)."""
    existing = response.get("Link", "").strip()
    if LICENSE_LINK in existing:
        return response
    response["Link"] = f"{existing}, {LICENSE_LINK}" if existing else LICENSE_LINK
    return response


class LicenseLinkMiddleware:
    """Adds the licence link to every response under the API prefix and to the landing page ``/``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.path == "/" or request.path.startswith(settings.REEXAPI_API_CACHE_PREFIX):
            license_link_add(response=response)
        return response
