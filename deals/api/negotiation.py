"""Content negotiation that answers with the renderer's own media type, whatever parameters the Accept header had.

DRF echoes the accepted media type, parameters included, into ``Content-Type`` (``Accept: application/json;
x=1`` gives ``Content-Type: application/json; x=1``) and JSON honours ``indent=``. Then every random parameter
would be a different response, and the response cache (deals/caching.py) would store a new copy for each. With
this class the response depends only on which renderer is chosen, which the cache keys on.
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation


class RendererMediaTypeNegotiation(DefaultContentNegotiation):
    """DRF's negotiation (``?format=``, then the Accept header), returning the renderer's plain media type."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer, _accepted = super().select_renderer(request, renderers, format_suffix)
        return renderer, renderer.media_type
