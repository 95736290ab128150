"""What of a source document may be published: the one rule every public output follows.

Source articles stay their publishers' property. Everything public (the API, the releases, the landing page)
publishes each source's metadata, its digests (``raw_sha256``, ``text_sha256``) and the quotes taken from it with
their offsets, but the full text, and anything that would reconstruct it (highlighted text, long context around
the quotes), only where an editor has marked the source as licensed for redistribution. The admin is not public:
editors always see the full text there.
"""

from __future__ import annotations

from deals.models import Source


def source_text_public(*, source: Source) -> str | None:
    """The source's normalised text if it may be redistributed (``redistribution_licensed``), else ``None``."""
    return source.text if source.redistribution_licensed else None
