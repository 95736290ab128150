"""The client's IP address, as the API's rate limits and the admin's login protection see it.

``X-Forwarded-For`` is only trusted when ``REEXAPI_TRUSTED_PROXIES`` says how many proxies of ours stand in front
of the app (0, the default, ignores it: any client can write that header). Each trusted proxy appends the address
it received the connection from, so with N trusted proxies the client is the N-th address from the right;
everything further left was written by the client and is ignored.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip_get(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or the trusted hop of ``X-Forwarded-For`` (see the module docstring).

    A forwarded value that is not an IP address (a proxy misconfiguration, or a client's forgery passed through)
    falls back to ``REMOTE_ADDR``, so no invented string becomes a rate-limit or lockout key. ``None`` when there
    is no valid address at all (a Unix socket, or ``force_login`` in tests): django-axes stores the value in an
    IP address column, which PostgreSQL checks.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    hops = settings.REEXAPI_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if hops > 0 and forwarded:
        addresses = [item for item in forwarded.split(",") if item.strip()]
        if addresses:
            candidate = _valid_ip(addresses[-min(hops, len(addresses))])
            if candidate is not None:
                return candidate
    return _valid_ip(remote)
