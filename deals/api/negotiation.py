"""Content negotiation that answers with the renderer's own media type, whatever parameters the Accept header had.

DRF echoes the accepted media type, parameters included, into ``Content-Type`` (``Accept: application/json;
x=1`` gives ``Content-Type: application/json; x=1``) and JSON honours ``indent=``. Then every random parameter
would be a different response, and the response cache (deals/caching.py) would store a new copy for each. With
this class the response depends only on which renderer is chosen, which the cache keys on.

:func:`negotiated_format_get` tells the response cache, before any view runs, which renderer the view will choose.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpHeaders, HttpRequest, QueryDict
from django.urls import Resolver404, resolve
from rest_framework.negotiation import DefaultContentNegotiation


class RendererMediaTypeNegotiation(DefaultContentNegotiation):
    """DRF's negotiation (``?format=``, then the Accept header), returning the renderer's plain media type."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer, _accepted = super().select_renderer(request, renderers, format_suffix)
        return renderer, renderer.media_type


def negotiated_format_get(*, request: HttpRequest) -> str | None:
    """What content negotiation will choose for ``request``: ``"<format> <media type>"`` of the renderer.

    Computed the way the view will do it (its renderers for this action, its negotiation class, ``?format=`` and
    the Accept header), so that Accept headers that choose the same renderer share one ETag and one cached
    response (``Accept: application/json; x=<random>`` is the same as ``Accept: application/json``), while JSON and
    CSV of one URL stay apart. ``None`` when negotiation fails (the view answers 404/406/400, never cached). A
    path that is not a DRF view gets its Accept media types, parameters dropped.

    The answer is a function of the URL conf, the path, the method, the ``?format=`` values and the Accept header
    alone (that is all DRF's negotiation and the views' ``get_renderers`` read), so it is memoised on exactly those:
    resolving the path and instantiating the view cost a cache hit a third of its own work.
    """
    from rest_framework.settings import api_settings

    try:
        parameter = api_settings.URL_FORMAT_OVERRIDE
        formats = tuple(request.GET.getlist(parameter)) if parameter else ()
    except Exception:  # an unparsable query string (too many fields...): the view answers the error
        return None
    urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    return _negotiated_format(urlconf, request.path_info, request.method, formats, request.META.get("HTTP_ACCEPT"))


@functools.lru_cache(maxsize=1024)  # bounded: paths, formats and Accept headers are the client's to invent
def _negotiated_format(urlconf, path_info: str, method: str, formats: tuple[str, ...], accept: str | None):
    from rest_framework.settings import api_settings
    from rest_framework.views import APIView

    try:
        match = resolve(path_info, urlconf)
    except Resolver404:
        match = None
    view_class = getattr(match.func, "cls", None) if match else None
    if view_class is None or not issubclass(view_class, APIView):
        accepted = (item.split(";")[0].strip().lower() for item in (accept or "*/*").split(","))
        return ",".join(sorted({item for item in accepted if item}))
    view = view_class(**getattr(match.func, "initkwargs", {}))
    actions = getattr(match.func, "actions", None)
    if actions:
        method = method.lower()
        view.action = actions.get("get" if method == "head" and "head" not in actions else method)
    view.args, view.kwargs = match.args, match.kwargs
    query = QueryDict(mutable=True)
    if api_settings.URL_FORMAT_OVERRIDE:
        query.setlist(api_settings.URL_FORMAT_OVERRIDE, list(formats))
    meta = {} if accept is None else {"HTTP_ACCEPT": accept}
    try:
        # DRF's negotiation reads only these attributes of its request (``?format=`` and the Accept header).
        negotiable = SimpleNamespace(query_params=query, headers=HttpHeaders(meta), META=meta)
        renderer, media_type = view.get_content_negotiator().select_renderer(negotiable, view.get_renderers())
    except Exception:
        return None
    return f"{renderer.format} {media_type}"


@receiver(setting_changed)
def _negotiated_format_forget(**kwargs) -> None:
    """Tests change ``ROOT_URLCONF`` and DRF's settings: a memoised negotiation must not outlive them."""
    _negotiated_format.cache_clear()
