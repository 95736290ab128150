"""Services for source texts: preparing a raw document and locating quotes in it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deals.models import (
    Source,
)
from deals.text import QuoteLocation, quote_locate, text_normalise

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class PreparedText:
    """A raw document turned into the canonical text the dataset stores, with both digests."""

    text: str
    raw_sha256: str
    text_sha256: str


def source_text_prepare(*, raw: bytes) -> PreparedText:
    """Decode raw UTF-8 bytes, normalise them with :func:`deals.text.text_normalise`, and digest both forms.

    Raises ``UnicodeDecodeError`` for bytes that are not UTF-8 (the caller reports it as a 4xx / form error).
    """
    text = text_normalise(raw.decode("utf-8"))
    return PreparedText(
        text=text,
        raw_sha256=hashlib.sha256(raw).hexdigest(),
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def evidence_locate(*, source: Source, quote: str, occurrence: int | None = None) -> QuoteLocation:
    """Find a (possibly pasted) quote in a source's normalised text; see :func:`deals.text.quote_locate`.

    Raises ``QuoteNotFound`` or ``QuoteAmbiguous`` (both ``QuoteError``, a ``ValueError``).
    """
    return quote_locate(text=source.text, quote=quote, occurrence=occurrence)
