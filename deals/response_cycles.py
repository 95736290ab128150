"""Free each API response as soon as it is sent, instead of at the next full garbage collection.

DRF links a view and its response both ways: ``APIView.dispatch`` keeps the response as ``view.response``, and the
response keeps the view, the request and itself in ``response.renderer_context`` (its renderer needs them,
``Response.rendered_content`` adds ``"response"``). Those reference cycles outlive the request, and with it
everything the response holds: the page's records (``response.data``) and its rendered body, a few hundred kilobytes
for a page of 100 deals. Reference counting cannot free a cycle; the cyclic garbage collector does, but these
objects have survived into its oldest generation by then, which is collected only when it has grown by a quarter, so
a worker carried a hundred-odd requests' worth of garbage and its RSS grew by about 10 MB over a few hundred varied
requests, never to shrink (freed memory stays with the process). Breaking the cycle when the response is closed (the
WSGI server's last call, after the body is sent) lets the response go with its last reference.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase


def response_cycle_break(*, response: HttpResponseBase) -> None:
    """Drop the view ↔ response references DRF leaves on a rendered response (none on a plain Django one)."""
    context = getattr(response, "renderer_context", None)
    if not context:
        return
    view = context.pop("view", None)
    context.pop("request", None)
    context.pop("response", None)
    if view is not None and vars(view).get("response") is response:
        del view.response


class ResponseCycleBreakMiddleware:
    """Registers :func:`response_cycle_break` as a closer of every response: Django's ``close()`` runs it, once the
    response is sent, and then forgets its closers (so the closer's own reference to the response goes too)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if getattr(response, "renderer_context", None):
            response._resource_closers.append(lambda: response_cycle_break(response=response))
        return response
