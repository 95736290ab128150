"""JSON with orjson: the API's JSON renderer, several times faster than ``json.dumps`` on a page of records.

The bytes mean exactly what DRF's ``JSONRenderer`` sends (compact, UTF-8, ``\\u2028``/``\\u2029`` escaped); only
insignificant details of number spelling may differ (``1e16`` for ``1e+16``). What orjson would write differently
is left to DRF's encoder: date-times (DRF writes UTC as ``Z``) and dataclasses go through its ``default``, and
anything orjson refuses (an integer over 64 bits, a lone surrogate, an ``indent=`` media type) is rendered by DRF.
ETags do not depend on the body (deals/caching.py), so switching encoders changes no ETag.
"""

from __future__ import annotations

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
_DEFAULT = JSONEncoder().default
_LINE_SEPARATOR, _PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()


def json_bytes(data) -> bytes:
    """``data`` as this renderer's compact JSON (before the line-separator escaping, which applies to a whole body);
    raises ``orjson.JSONEncodeError`` for what only DRF's encoder can write."""
    return orjson.dumps(data, default=_DEFAULT, option=_OPTIONS)


def fragments_loaded(data):
    """``data`` with every ``orjson.Fragment`` (a record rendered beforehand, deals/api/fast/record_cache.py)
    parsed back, for DRF's encoder, which knows only plain values."""
    if isinstance(data, orjson.Fragment):
        return orjson.loads(orjson.dumps(data))  # a Fragment does not expose its bytes; encoding it copies them
    if isinstance(data, dict):
        return {key: fragments_loaded(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [fragments_loaded(value) for value in data]
    return data


class FastJSONRenderer(JSONRenderer):
    """DRF's JSON renderer (a subclass, so every check for JSON still holds) encoding with orjson."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(fragments_loaded(data), accepted_media_type, renderer_context)
        try:
            body = json_bytes(data)
        except orjson.JSONEncodeError:
            return super().render(fragments_loaded(data), accepted_media_type, renderer_context)
        # Like DRF: JSON stays a strict subset of JavaScript.
        if _LINE_SEPARATOR in body or _PARAGRAPH_SEPARATOR in body:
            body = body.replace(_LINE_SEPARATOR, b"\\u2028").replace(_PARAGRAPH_SEPARATOR, b"\\u2029")
        return body
