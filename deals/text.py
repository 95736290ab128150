"""Text normalisation and quote location: the one place where source text is made canonical.

The seed documents arrived as UTF-8 that was decoded as Thai cp874 (Windows-874). Each UTF-8 punctuation
mark became two or three cp874 characters, e.g. ``’`` (E2 80 99) became ``โ€™``. In one document the
trailing bytes were lost on the way, leaving a bare ``โ`` whose meaning can only be read from context.

:func:`text_normalise` repairs both, then normalises whitespace. It is deterministic and idempotent, and it
leaves correct text alone: ``text_normalise(text_normalise(x)) == text_normalise(x)``, and text without
mojibake only has its whitespace normalised. The rules, in order, are documented in docs/provenance.md.

:func:`quote_locate` finds a quote in a normalised text, forgiving the differences that copying from a
browser introduces (straight versus curly quotes; line breaks, paragraph breaks and spaces) without ever changing
offsets.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

# Complete three-character sequences: UTF-8 E2 80 xx read as cp874, with the third byte still present.
# cp874 leaves 0x99 and 0x9C undefined, and the decoder that produced these files fell back to cp1252 there
# (™, œ); 0x93/0x94 are cp874's own curly quotes.
_TRIPLES = {
    "โ€™": "\u2019",  # E2 80 99 right single quotation mark
    "โ€˜": "\u2018",  # E2 80 98 left single quotation mark
    "โ€œ": "\u201c",  # E2 80 9C left double quotation mark
    "โ€”": "\u2014",  # E2 80 94 em dash
    "โ€“": "\u2013",  # E2 80 93 en dash
    "โ€ฆ": "\u2026",  # E2 80 A6 horizontal ellipsis (cp874 0xA6 is ฆ, not the Latin-1 ¦)
    "โ€ข": "\u2022",  # E2 80 A2 bullet
}
# Two-byte sequences C2 xx: Latin-1 supplement characters.
_PAIRS = {
    "ยฉ": "\u00a9",  # C2 A9 copyright sign
    "ยฎ": "\u00ae",  # C2 AE registered sign
    "ยฐ": "\u00b0",  # C2 B0 degree sign
    "ย ": " ",  # C2 A0 no-break space; the A0 byte survives as a space
    "ย\u00a0": " ",
}

_THAI_CLASS = "[\u0e01-\u0e5b]"
_TRIPLE_RE = re.compile("|".join(re.escape(k) for k in _TRIPLES))
# ย is also a Thai consonant, and genuine Thai puts it before a space or before ฉ ("สวย มาก"); the lead byte of
# a C2 pair never follows a Thai letter in these documents, so a Thai letter before it means real Thai.
_PAIR_RE = re.compile(f"(?<!{_THAI_CLASS})(?:" + "|".join(re.escape(k) for k in _PAIRS) + ")")
# โ€ not followed by a known third character: the third byte (0x9D, right double quotation mark) was
# dropped because cp874 has no character for it.
_TRUNCATED_RDQUO_RE = re.compile("โ€")
# A bare โ that is not part of Thai text: it sits between Latin letters, digits, spaces or punctuation.
_BARE_RE = re.compile(r"โ")
_THAI_RE = re.compile(_THAI_CLASS)


def _is_thai(ch: str) -> bool:
    return bool(ch) and bool(_THAI_RE.match(ch))


def _repair_bare(text: str) -> str:
    """Choose the punctuation for each bare ``โ`` (all of its trailing bytes lost) from its neighbours.

    - digit ``โ`` digit: an en dash for a range (``85โ90%`` → ``85–90%``);
    - after a space (or line start) and before a letter: an opening double quote (``โmine`` → ``“mine``);
    - while a double quote is open, before a space or punctuation: the closing quote (``magnetโ goal``);
    - letter ``โ`` ``s`` then a non-letter: a possessive apostrophe (``Chinaโs`` → ``China’s``);
    - letter ``โ`` space, no quote open: a plural possessive apostrophe (``Materialsโ Narva``);
    - letter ``โ`` letter: an em dash joining clauses (``globalโand`` → ``global—and``).
    A ``โ`` inside Thai text is left alone, so genuine Thai is not damaged. An open quote does not carry over a
    line break: paragraphs that quote across a break reopen with their own opening mark.
    """
    out: list[str] = []
    quote_open = False
    n = len(text)
    for i, ch in enumerate(text):
        if ch != "โ":
            if ch == "\u201c":
                quote_open = True
            elif ch in "\u201d\n":
                quote_open = False
            out.append(ch)
            continue
        prev = text[i - 1] if i > 0 else ""
        nxt = text[i + 1] if i + 1 < n else ""
        after = text[i + 2] if i + 2 < n else ""
        if _is_thai(prev) or _is_thai(nxt):
            out.append(ch)
        elif prev.isdigit() and nxt.isdigit():
            out.append("\u2013")
        elif (not prev or prev.isspace() or prev in "([") and nxt.isalnum():
            out.append("\u201c")
            quote_open = True
        elif quote_open and (not nxt or nxt.isspace() or nxt in ".,;:!?)"):
            out.append("\u201d")
            quote_open = False
        elif prev.isalpha() and nxt == "s" and not after.isalpha():
            out.append("\u2019")
        elif prev.isalpha() and (not nxt or nxt.isspace()):
            out.append("\u2019")
        elif prev.isalnum() and nxt.isalnum():
            out.append("\u2014")
        else:
            out.append(ch)
    return "".join(out)


_HSPACE_RE = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES_RE = re.compile(r"\n{3,}")


def whitespace_normalise(text: str) -> str:
    """Unify line endings, fold runs of horizontal white space (no-break spaces included) into one space,
    trim every line, keep at most one blank line between paragraphs, and trim the whole text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_HSPACE_RE.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES_RE.sub("\n\n", "\n".join(lines)).strip()


def _normalise_pass(text: str) -> str:
    """One pass of the rules, in order: leading byte-order mark, complete triples, truncated ``โ€``, C2 pairs,
    bare ``โ``, NFC, spaces.

    A byte-order mark (U+FEFF) at the start is an artefact of how a file was saved, not text: editors' uploads from
    Windows tools begin with one, and left in place it would shift every offset by one and defeat the
    line-start rules below. It is dropped before the other rules; one that only appears at the start after white
    space is trimmed goes in the next pass. A U+FEFF inside the text (a zero-width no-break space) is kept.
    """
    text = text.lstrip("\ufeff")
    text = _TRIPLE_RE.sub(lambda m: _TRIPLES[m.group(0)], text)
    text = _TRUNCATED_RDQUO_RE.sub("\u201d", text)
    text = _PAIR_RE.sub(lambda m: _PAIRS[m.group(0)], text)
    text = _repair_bare(text)
    text = unicodedata.normalize("NFC", text)
    return whitespace_normalise(text)


# Every pass that changes the text makes it shorter or removes a mojibake lead character, so a fixed point comes
# after a few passes; the cap only guards against a rule added later that breaks that argument.
_MAX_PASSES = 8


def text_normalise(text: str) -> str:
    """Return the canonical form of a source text: leading byte-order mark dropped, mojibake repaired, Unicode NFC,
    whitespace normalised.

    Deterministic and idempotent; text with no mojibake only has its white space normalised. The rules are
    applied until nothing changes, because one repair can expose another: white-space folding turns ``ย<tab>``
    into ``ย `` (a no-break space pair), and a repaired pair can become the left neighbour of the next one.
    """
    for _ in range(_MAX_PASSES):
        repaired = _normalise_pass(text)
        if repaired == text:
            break
        text = repaired
    return text


# A bare โ counts as mojibake only with no Thai letter on either side (Thai uses โ as a leading vowel, e.g.
# "โรงเรียน"); the ย pair lead only when it does not follow a Thai letter. This mirrors the repair rules.
_THIRD_CHARS = "".join(k[2] for k in _TRIPLES)
MOJIBAKE_RE = re.compile(
    f"โ€|(?<!{_THAI_CLASS})โ(?!{_THAI_CLASS})|(?<!{_THAI_CLASS})ย(?=[^\\S\\n]|[ฉฎฐ])|€[{_THIRD_CHARS}]"
)


def mojibake_find(text: str) -> list[str]:
    """Return the mojibake fragments still present in ``text`` (empty when it is clean)."""
    return [m.group(0) for m in MOJIBAKE_RE.finditer(text)]


# Length-preserving folding for quote matching: every character maps to exactly one character, so an offset
# in the folded text is the same offset in the original.
_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\n": " ",
        "\t": " ",
        "\u00a0": " ",
    }
)


def quote_fold(text: str) -> str:
    """Fold curly quotes to straight ones and line breaks to spaces, one character for one character."""
    return text.translate(_FOLD)


class QuoteError(ValueError):
    """A quote could not be tied to exactly one place in a source text."""


class QuoteNotFound(QuoteError):
    """The quote does not occur in the source text."""


class QuoteAmbiguous(QuoteError):
    """The quote occurs more than once and no occurrence was chosen."""

    def __init__(self, message: str, *, count: int):
        super().__init__(message)
        self.count = count


@dataclass(frozen=True)
class QuoteLocation:
    """Where a quote stands in a normalised text; ``quote`` is the exact text between the offsets."""

    start: int
    end: int
    quote: str
    occurrences: int


_SPACE_RUN_RE = re.compile(r"\s+")


class _Collapsed:
    """A folded text with every white-space run reduced to one space, and the way back to the original offsets.

    Pasted quotes differ from the source in white space more than in anything else: a paragraph break ("\\n\\n")
    arrives as one space or one line break, a line break as a space. Matching on collapsed copies of both sides
    forgives that; the offsets are then mapped back, so callers only ever see offsets into the original text.
    Each segment of the collapsed text is either a stretch copied one for one or a single space standing for a
    whole run; ``_collapsed_starts`` and ``_original_starts`` hold where each segment begins in both texts.
    """

    def __init__(self, text: str):
        folded = quote_fold(text)
        pieces: list[str] = []
        self._collapsed_starts: list[int] = []
        self._original_starts: list[int] = []
        position = 0  # in the collapsed text
        last = 0  # in the original text
        for match in _SPACE_RUN_RE.finditer(folded):
            if match.start() > last:
                self._collapsed_starts.append(position)
                self._original_starts.append(last)
                pieces.append(folded[last : match.start()])
                position += match.start() - last
            self._collapsed_starts.append(position)
            self._original_starts.append(match.start())
            pieces.append(" ")
            position += 1
            last = match.end()
        if last < len(folded):
            self._collapsed_starts.append(position)
            self._original_starts.append(last)
            pieces.append(folded[last:])
        self.text = "".join(pieces)

    def original(self, index: int) -> int:
        """The original offset of the collapsed text's character at ``index`` (a run's first character)."""
        segment = bisect.bisect_right(self._collapsed_starts, index) - 1
        return self._original_starts[segment] + (index - self._collapsed_starts[segment])


def quote_spans(*, text: str, quote: str) -> list[tuple[int, int]]:
    """Every place (``start``, ``end``) in ``text`` where ``quote`` occurs, overlapping ones included, in order.

    The quote is normalised like a source (mojibake, white space), both sides are folded (straight and curly
    quotes match, see :func:`quote_fold`), and any run of white space matches any other (a paragraph break, a line
    break and a space are the same). Each span starts and ends on a non-space character, and ``text[start:end]`` is
    the source's own wording of the quote.
    """
    needle = _Collapsed(text_normalise(quote)).text.strip()
    if not needle:
        return []
    haystack = _Collapsed(text)
    spans: list[tuple[int, int]] = []
    pos = haystack.text.find(needle)
    while pos != -1:
        spans.append((haystack.original(pos), haystack.original(pos + len(needle) - 1) + 1))
        pos = haystack.text.find(needle, pos + 1)
    return spans


def quote_locate(*, text: str, quote: str, occurrence: int | None = None) -> QuoteLocation:
    """Find ``quote`` in the normalised ``text`` and return its offsets.

    The quote matches as :func:`quote_spans` describes: normalised like a source, curly and straight quotes alike,
    and any white-space run matching any other. The returned ``quote`` is the source's own text between the
    offsets, so ``text[start:end] == quote`` always holds.

    ``occurrence`` (1-based) picks one of several matches; without it an ambiguous quote is an error.
    """
    if not _Collapsed(text_normalise(quote)).text.strip():
        raise QuoteNotFound("The quote is empty.")
    spans = quote_spans(text=text, quote=quote)
    if not spans:
        raise QuoteNotFound(f"The quote does not occur in the source text: {quote[:80]!r}.")
    if occurrence is None:
        if len(spans) > 1:
            raise QuoteAmbiguous(
                f"The quote occurs {len(spans)} times in the source text; choose an occurrence (1-{len(spans)}).",
                count=len(spans),
            )
        occurrence = 1
    if not 1 <= occurrence <= len(spans):
        raise QuoteNotFound(f"Occurrence {occurrence} was asked for, but the quote occurs {len(spans)} time(s).")
    start, end = spans[occurrence - 1]
    return QuoteLocation(start=start, end=end, quote=text[start:end], occurrences=len(spans))


@dataclass(frozen=True)
class QuoteContext:
    """A quote with a little of the text either side, for showing it where it stands (see :func:`quote_context`)."""

    before: str
    quote: str
    after: str


def quote_context(*, text: str, start: int, end: int, width: int = 40, longest: int = 160) -> QuoteContext:
    """The passage ``text[start:end]`` with up to ``width`` characters of ``text`` either side.

    The sides are cut at a space where one is near, so no word is split, and white space is shown as single spaces
    (a line break in the article reads as a space); a cut side starts or ends with "…". A quote longer than
    ``longest`` characters keeps its beginning and its end around a "…", so a long quote does not make a tall row.
    """
    start, end = max(0, start), min(len(text), end)
    before = text[max(0, start - width) : start]
    after = text[end : end + width]
    if start - width > 0:
        first = re.search(r"\s", before)
        before = "…" + (before[first.end() :] if first and first.start() < width // 2 else before).lstrip()
    if end + width < len(text):
        spaces = [m.start() for m in re.finditer(r"\s", after)]
        last = spaces[-1] if spaces else -1
        after = (after[:last] if last > width // 2 else after).rstrip() + "…"
    quote = text[start:end]
    if len(quote) > longest:
        half = longest // 2
        quote = quote[:half].rstrip() + " … " + quote[-half:].lstrip()

    def flat(piece: str) -> str:
        return re.sub(r"\s+", " ", piece)

    return QuoteContext(before=flat(before), quote=flat(quote), after=flat(after))
