"""Checking a reader's own copy of a source article against what the dataset publishes about it.

Where a source is not licensed for redistribution the API publishes its digests and the quotes with their offsets,
not its text (deals/selectors/rights.py). A reader who has the article can still check every one of our claims:
the copy is read as raw bytes, digested (``raw_sha256``), decoded and normalised exactly as the loader and the
admin do it (:func:`deals.services.sources.source_text_prepare`: mojibake repaired, white space normalised), digested
again (``text_sha256``), and every published quote is compared with the copy's text at its offsets. A copy that is
not byte for byte ours (another download, repaired encoding, other line breaks) usually still normalises to the same
text; where it does not, each quote says whether it is found elsewhere in the copy, and where.

Read-only: nothing is written. Used by ``manage.py verify_source_text`` (see docs/provenance.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from deals.models import Evidence, Source
from deals.selectors.records import evidence_public
from deals.services.sources import PreparedText, source_text_prepare
from deals.text import quote_spans

# How much of a quote or of the copy's text a difference shows: enough to recognise it, never a long passage.
_EXCERPT = 60
# Differing quotes listed one by one; the rest are counted (a wrong file would otherwise list every quote).
_LISTED = 10


class SourceNotFound(LookupError):
    """No source has the slug asked for."""


@dataclass(frozen=True)
class QuoteCheck:
    """One published quote compared with the copy: ``found`` is its text at our offsets in the copy."""

    evidence_id: int
    target: str
    start: int
    end: int
    quote: str
    found: str
    elsewhere: list[tuple[int, int]]

    @property
    def matches(self) -> bool:
        return self.found == self.quote


@dataclass(frozen=True)
class SourceTextVerification:
    """The outcome for one source: both digests, ours and the copy's, and every published quote's check.

    ``decode_error`` is set (and nothing else of the copy is) when the copy is not UTF-8.
    """

    source: Source
    copy_raw_sha256: str
    copy_text_sha256: str | None
    decode_error: str | None
    quotes: list[QuoteCheck] = field(default_factory=list)

    @property
    def raw_matches(self) -> bool:
        return self.copy_raw_sha256 == self.source.raw_sha256

    @property
    def text_matches(self) -> bool:
        return self.copy_text_sha256 == self.source.text_sha256

    @property
    def differing_quotes(self) -> list[QuoteCheck]:
        return [check for check in self.quotes if not check.matches]

    @property
    def ok(self) -> bool:
        """The copy's normalised text is ours and every published quote stands at its offsets in it.

        The raw digest alone may differ: the same article saved by another tool (correct UTF-8 instead of the
        mojibake we received, other line endings) is a different file with the same normalised text.
        """
        return self.decode_error is None and self.text_matches and not self.differing_quotes


def _target(evidence: Evidence) -> str:
    for kind in ("deal", "company", "facility"):
        record = getattr(evidence, kind)
        if record is not None:
            return f"{kind} {record.slug!r}"
    return "no record"


def source_get(*, slug: str) -> Source:
    """The source with ``slug``; :class:`SourceNotFound` naming the known slugs otherwise."""
    source = Source.objects.filter(slug=slug).first()
    if source is None:
        known = list(Source.objects.order_by("slug").values_list("slug", flat=True)[:20])
        listed = ", ".join(known) if known else "none (is the dataset loaded?)"
        raise SourceNotFound(f"No source with slug {slug!r}. Known sources: {listed}.")
    return source


def source_text_verify(*, source: Source, raw: bytes) -> SourceTextVerification:
    """Compare ``raw`` (a reader's copy of ``source``, as bytes) with the source's digests and published quotes.

    Only the quotes of published records are checked: they are what the public API and the releases show.
    """
    raw_sha256 = hashlib.sha256(raw).hexdigest()
    try:
        prepared: PreparedText = source_text_prepare(raw=raw)
    except UnicodeDecodeError as exc:
        return SourceTextVerification(
            source=source,
            copy_raw_sha256=raw_sha256,
            copy_text_sha256=None,
            decode_error=f"the file is not UTF-8 (byte {exc.start}: {exc.reason})",
        )
    text = prepared.text
    evidence = (
        evidence_public()
        .filter(source=source)
        .select_related("deal", "company", "facility")
        .order_by("start", "end", "pk")
    )
    checks = []
    for ev in evidence:
        found = text[ev.start : ev.end]
        elsewhere = [] if found == ev.quote else quote_spans(text=text, quote=ev.quote)
        checks.append(
            QuoteCheck(
                evidence_id=ev.pk,
                target=_target(ev),
                start=ev.start,
                end=ev.end,
                quote=ev.quote,
                found=found,
                elsewhere=elsewhere,
            )
        )
    return SourceTextVerification(
        source=source,
        copy_raw_sha256=raw_sha256,
        copy_text_sha256=prepared.text_sha256,
        decode_error=None,
        quotes=checks,
    )


def _excerpt(text: str, start: int = 0) -> str:
    """Up to ``_EXCERPT`` characters of ``text`` from ``start``, with an ellipsis for what is cut on either side."""
    piece = text[start : start + _EXCERPT]
    return repr(("…" if start else "") + piece + ("…" if start + _EXCERPT < len(text) else ""))


def _first_difference(ours: str, yours: str) -> int:
    return next((i for i, (a, b) in enumerate(zip(ours, yours, strict=False)) if a != b), min(len(ours), len(yours)))


def verification_report_lines(*, result: SourceTextVerification) -> list[str]:
    """The command's report: one line per digest, one per differing quote, and a count of the matching ones."""
    source = result.source
    lines = [f"Source {source.slug!r}: {source.title}"]
    if result.raw_matches:
        lines.append(f"raw_sha256   match    {source.raw_sha256} (byte for byte the document we received)")
    else:
        lines.append(f"raw_sha256   differs  ours {source.raw_sha256}, your file {result.copy_raw_sha256}")
    if result.decode_error:
        lines.append(f"text_sha256  unknown  {result.decode_error}; save it as UTF-8 and try again")
        return lines
    if result.text_matches:
        lines.append(f"text_sha256  match    {source.text_sha256} (the same normalised text)")
    else:
        lines.append(f"text_sha256  differs  ours {source.text_sha256}, your file's {result.copy_text_sha256}")
    differing = result.differing_quotes
    for check in differing[:_LISTED]:
        where = (
            "found in your file at " + ", ".join(f"{s}-{e}" for s, e in check.elsewhere)
            if check.elsewhere
            else "not found anywhere in your file"
        )
        # Show both from a little before the first character that differs, so the difference is in view.
        cut = max(0, _first_difference(check.quote, check.found) - 20)
        lines.append(
            f"quote #{check.evidence_id} ({check.target}) at {check.start}-{check.end} differs from character "
            f"{check.start + cut}: ours {_excerpt(check.quote, cut)}, your file has {_excerpt(check.found, cut)}; "
            f"{where}"
        )
    if len(differing) > _LISTED:
        lines.append(f"… and {len(differing) - _LISTED} more differing quote(s)")
    matching = len(result.quotes) - len(differing)
    lines.append(f"quotes       {matching} of {len(result.quotes)} published quote(s) match at their offsets")
    if result.quotes and not matching and not any(check.elsewhere for check in differing):
        lines.append("None of the quotes occurs anywhere in your file: is it the right article for this source?")
    return lines
