"""Text normalisation (deals.text.text_normalise) and quote location (deals.text.quote_locate).

The three seed documents in fixtures/sources/ are UTF-8 that was decoded as Thai cp874. Every repair rule has
its own case here, the real documents are checked for leftover mojibake and for the exact repairs a reader
expects, and clean text (curly quotes, bullets, dashes, Thai, Cyrillic…) must come through unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deals.text import (
    _PAIRS,
    _TRIPLES,
    QuoteAmbiguous,
    QuoteNotFound,
    mojibake_find,
    quote_fold,
    quote_locate,
    text_normalise,
    whitespace_normalise,
)

SOURCES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "sources"
SOURCE_FILES = sorted(SOURCES_DIR.glob("*.txt"))


def _raw(prefix: str) -> str:
    (path,) = [p for p in SOURCE_FILES if p.name.startswith(prefix)]
    return path.read_bytes().decode("utf-8")


@pytest.fixture(scope="module")
def documents() -> dict[str, str]:
    """The three documents, normalised, keyed by their three-digit prefix."""
    return {p.name[:3]: text_normalise(p.read_bytes().decode("utf-8")) for p in SOURCE_FILES}


# --- the real documents ----------------------------------------------------------------------------------------


def test_the_three_seed_documents_are_present():
    assert [p.name[:3] for p in SOURCE_FILES] == ["000", "001", "002"]


@pytest.mark.parametrize("path", SOURCE_FILES, ids=lambda p: p.name[:3])
def test_no_mojibake_remains_after_normalisation(path):
    raw = path.read_bytes().decode("utf-8")
    assert mojibake_find(text_normalise(raw)) == []


def test_the_damaged_documents_did_contain_mojibake():
    # Guards the test above: mojibake_find must actually see the damage in the raw files it is run on.
    assert len(mojibake_find(_raw("000"))) >= 10
    assert len(mojibake_find(_raw("002"))) >= 20
    assert mojibake_find(_raw("001")) == []


@pytest.mark.parametrize("path", SOURCE_FILES, ids=lambda p: p.name[:3])
def test_normalisation_is_idempotent_on_the_documents(path):
    once = text_normalise(path.read_bytes().decode("utf-8"))
    assert text_normalise(once) == once


@pytest.mark.parametrize("path", SOURCE_FILES, ids=lambda p: p.name[:3])
def test_normalised_documents_are_nfc_without_thai_or_stray_whitespace(path):
    text = text_normalise(path.read_bytes().decode("utf-8"))
    assert unicodedata.is_normalized("NFC", text)
    assert not any("\u0e00" <= ch <= "\u0e7f" for ch in text)
    assert "\r" not in text and "\t" not in text and "\u00a0" not in text
    assert "\n\n\n" not in text and "  " not in text
    assert all(line == line.strip() for line in text.split("\n"))


@pytest.mark.parametrize(
    "expected",
    [
        "85–90% of refining capacity",
        "outside of China’s grip",
        "its 2027 “mine-to-magnet” goal",
        "Neo Performance Materials’ Narva, Estonia facility—the EU’s first large-scale magnet plant—is",
        "just how global—and urgent—the effort",
        "Kazakhstan’s President Tokayev, meanwhile, ordered",
        "refinery project—an unexpected pivot linking Islamabad’s resources to Washington’s supply chain",
        "the West’s scramble to “friend-shore” rare earths",
        "Add in Apple’s $500 million partnership with MP Materials and GM’s offtake with Noveon",
        "South Korea’s JS Link announced a $223 million NdFeB magnet plant in Columbus, Georgia",
        "economics—these deals",
        "commodity story—they are now",
        "front line.\n©!-- /wp:paragraph -->",
    ],
)
def test_expected_repairs_in_document_002(documents, expected):
    assert expected in documents["002"]


@pytest.mark.parametrize(
    "expected",
    [
        "This is no rumor—it’s part of a clear trend",
        "the reporting leaves a gap: the “why.” These companies aren’t fleeing",
        "they love Seoul’s skyline",
        "a matter of “waning support for clean technologies.” That’s partially true—policy whiplash",
        "to anchor manufacturing—EVs, robotics, aviation, and data centers—the U.S.",
        "Implications Investors Can’t Ignore",
        "U.S. soil.\n\n©!-- /wp:paragraph -->",
    ],
)
def test_expected_repairs_in_document_000(documents, expected):
    assert expected in documents["000"]


def test_no_break_spaces_in_002_become_single_spaces(documents):
    assert "President Tokayev, meanwhile, ordered" in documents["002"]
    assert "magnet production. Yet the driver" in documents["002"]


def test_bullets_in_000_survive(documents):
    assert documents["000"].count("\n• ") == 3


def test_clean_document_001_only_has_its_whitespace_normalised():
    raw = _raw("001")
    assert text_normalise(raw) == whitespace_normalise(raw)


# --- each repair rule -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mojibake", "repaired"), sorted(_TRIPLES.items()), ids=lambda v: f"U+{ord(v[-1]):04X}")
def test_each_complete_triple_is_repaired(mojibake, repaired):
    assert text_normalise(f"alpha {mojibake} beta") == f"alpha {repaired} beta"
    assert text_normalise(f"x{mojibake}y") == f"x{repaired}y"


def test_triples_are_the_utf8_bytes_read_as_cp874():
    # The table is not hand-waved: each key is what cp874 (cp1252 for its undefined 0x99/0x9C) makes of the
    # UTF-8 bytes of its value.
    for mojibake, repaired in _TRIPLES.items():
        third = repaired.encode("utf-8")[2:]
        decoded = third.decode("cp874", errors="replace")
        if decoded == "\ufffd":
            decoded = third.decode("cp1252")
        assert mojibake == "โ€" + decoded


def test_pairs_are_the_utf8_bytes_read_as_cp874():
    for mojibake, repaired in _PAIRS.items():
        if repaired == " ":
            # C2 A0, a no-break space; cp874 keeps 0xA0 as a no-break space, which may arrive as a plain space.
            assert mojibake in ("ย\u00a0", "ย ")
            continue
        assert mojibake == repaired.encode("utf-8").decode("cp874")


def test_ellipsis_triple_is_repaired():
    # cp874 reads byte 0xA6 as the Thai letter ฆ; a table keyed on the Latin-1 ¦ would miss every ellipsis.
    assert text_normalise("wait\u0e42\u20ac\u0e06 then") == "wait… then"


def test_truncated_right_double_quote_before_space():
    assert text_normalise("the โ€œwhy.โ€ These") == "the “why.” These"


def test_truncated_right_double_quote_at_end_of_text():
    assert text_normalise("โ€œwaning support.โ€") == "“waning support.”"


def test_truncated_right_double_quote_before_newline():
    assert text_normalise("said โ€œyesโ€\nThen") == "said “yes”\nThen"


def test_no_break_space_pair_becomes_a_space():
    assert text_normalise("meanwhile,ย ordered") == "meanwhile, ordered"
    assert text_normalise("meanwhile,ย\u00a0ordered") == "meanwhile, ordered"


def test_no_break_space_pair_after_a_space_folds_into_one_space():
    assert text_normalise("production. ย Yet") == "production. Yet"


def test_copyright_pair():
    assert text_normalise("ยฉ!-- /wp:paragraph -->") == "©!-- /wp:paragraph -->"
    assert text_normalise("Text ยฉ 2025 REEx") == "Text © 2025 REEx"


@pytest.mark.parametrize(("mojibake", "repaired"), [("ยฎ", "®"), ("ยฐ", "°")])
def test_other_latin1_pairs(mojibake, repaired):
    assert text_normalise(f"NdFeB{mojibake} at 80{mojibake}") == f"NdFeB{repaired} at 80{repaired}"


def test_consecutive_pairs_are_all_repaired():
    assert text_normalise("ยฉย 2025") == "© 2025"


def test_bare_digit_digit_is_an_en_dash():
    assert text_normalise("controlling 85โ90% of refining") == "controlling 85–90% of refining"
    assert text_normalise("pages 3โ4") == "pages 3–4"


def test_bare_opening_and_closing_double_quotes():
    assert text_normalise("its 2027 โmine-to-magnetโ goal.") == "its 2027 “mine-to-magnet” goal."
    assert text_normalise("to โfriend-shoreโ rare earths") == "to “friend-shore” rare earths"


@pytest.mark.parametrize("after", [".", ",", ";", ":", "!", "?", ")"])
def test_bare_closing_quote_before_punctuation(after):
    assert text_normalise(f"a โquoteโ{after}") == f"a “quote”{after}"


def test_bare_opening_quote_at_text_start_and_after_bracket():
    assert text_normalise("โHello,โ she said") == "“Hello,” she said"
    assert text_normalise("(โsoonโ)") == "(“soon”)"


def test_bare_possessive_s():
    assert text_normalise("outside of Chinaโs grip") == "outside of China’s grip"
    assert text_normalise("the EUโs first") == "the EU’s first"
    assert text_normalise("GMโs offtake") == "GM’s offtake"


def test_bare_possessive_s_at_end_of_sentence():
    assert text_normalise("It is Appleโs.") == "It is Apple’s."


def test_bare_plural_possessive_before_a_space():
    assert text_normalise("Neo Performance Materialsโ Narva") == "Neo Performance Materials’ Narva"


def test_bare_plural_possessive_after_a_closed_quote():
    assert text_normalise("โoneโ and the partnersโ plant") == "“one” and the partners’ plant"


def test_an_unclosed_quote_does_not_carry_over_a_line_break():
    # Without the reset, the apostrophe on the next line would be read as the missing closing quote.
    assert text_normalise("He said โsoon\nThe partnersโ plant") == "He said “soon\nThe partners’ plant"


def test_bare_letter_letter_is_an_em_dash():
    assert text_normalise("just how globalโand urgentโthe effort") == "just how global—and urgent—the effort"
    assert text_normalise("a refinery projectโan unexpected pivot") == "a refinery project—an unexpected pivot"


def test_bare_between_letter_and_s_word_is_an_em_dash_not_a_possessive():
    # "projectโshe" has a letter after the s, so it is a dash joining clauses, not "project’s".
    assert text_normalise("the projectโshe said") == "the project—she said"


def test_bare_without_a_rule_is_left_and_reported():
    # Nothing in the context tells which mark was lost: the text is not guessed at, and the mojibake stays
    # visible to mojibake_find (so a loader can refuse it).
    assert text_normalise("a (โ) b") == "a (โ) b"
    assert mojibake_find(text_normalise("a (โ) b")) == ["โ"]


THAI = [
    "โรงเรียน",  # school: โ is a leading vowel
    "สวัสดี โรงเรียน",  # โ after a space, inside Thai
    "สวย มาก",  # ย before a space, inside Thai
    "ภาษาไทย ภาษาไทย",
    "ขอบคุณ โทรศัพท์ 02-123",
]


@pytest.mark.parametrize("thai", THAI)
def test_thai_text_is_left_alone(thai):
    assert text_normalise(thai) == thai
    assert mojibake_find(thai) == []


def test_thai_beside_repaired_mojibake():
    assert text_normalise("โรงเรียน Chinaโs โ€œgoalโ€ สวย มาก") == "โรงเรียน China’s “goal” สวย มาก"


# --- clean text ---------------------------------------------------------------------------------------------------

CLEAN = [
    "Plain ASCII: Group14 raised $463 million (led by SK Inc.) - 85-90% of it, \"quoted\" and 'single'.",
    "Curly quotes: “mine-to-magnet” goal, China’s grip, ‘single’ quotes.",
    "Dashes and ellipsis: global—and urgent—the effort; 85–90%; wait…",
    "• a bullet\n• another bullet",
    "Symbols: © 2025, NdFeB®, 80°C, €500, £3, ¥10, ™",
    "Accents: São Paulo, Québec, Müller, Kraków, naïve façade",
    "Greek and Cyrillic: Ελλάδα, Россия, Україна",
    "CJK and Korean: 稀土 レアアース 희토류",
    "Arabic and Hebrew: المعادن الأرضية النادرة, עברית",
    "Thai: แร่หายาก โรงงาน สวย มาก",
    "Emoji: 🧲⚡",
    "Paragraph one.\n\nParagraph two.\nA line.",
]


@pytest.mark.parametrize("text", CLEAN)
def test_clean_text_passes_through_unchanged(text):
    assert text_normalise(text) == text
    assert mojibake_find(text) == []


def test_decomposed_accents_are_composed_to_nfc():
    assert text_normalise("Que\u0301bec") == "Québec"


# --- whitespace -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\r\nb\rc", "a\nb\nc"),
        ("a  \t b", "a b"),
        ("a\u00a0\u00a0b", "a b"),
        ("a\u2009b\u202fc\u3000d", "a b c d"),
        ("  leading and trailing  ", "leading and trailing"),
        ("line one   \n   line two", "line one\nline two"),
        ("one\n\n\n\n\ntwo", "one\n\ntwo"),
        ("one\n  \n \t \n two", "one\n\ntwo"),
        ("\n\n  text  \n\n", "text"),
        ("", ""),
        ("   \n\t ", ""),
    ],
)
def test_whitespace_rules(raw, expected):
    assert whitespace_normalise(raw) == expected
    assert text_normalise(raw) == expected


def test_whitespace_folding_exposes_no_break_space_pairs_which_are_then_repaired():
    # A tab after ย becomes a space, which makes a no-break-space pair; normalising again must not change it.
    once = text_normalise("a ย\tb")
    assert once == "a b"
    assert text_normalise(once) == once


# --- properties ----------------------------------------------------------------------------------------------------

# Characters that make up mojibake, their repairs, Thai, and every kind of white space the rules touch.
_TRICKY = list("โ€™œ”“˜–¦ขฆยฉฎฐ’‘—…•©รสวมากเน") + [" ", "  ", "\t", "\n", "\r", "\u00a0", "\u2009"]
_tricky_text = st.lists(
    st.one_of(st.sampled_from(_TRICKY), st.sampled_from(list("aAsS09.,;:!?()\"'-")), st.characters()),
    max_size=40,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_tricky_text)
def test_property_normalisation_is_idempotent(text):
    once = text_normalise(text)
    assert text_normalise(once) == once


_ascii_word = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12
)  # printable ASCII without space
_ascii_line = st.lists(_ascii_word, min_size=1, max_size=8).map(" ".join)
_ascii_text = st.lists(st.tuples(_ascii_line, st.sampled_from(["\n", "\n\n"])), min_size=1, max_size=6).map(
    lambda parts: "".join(line + sep for line, sep in parts).rstrip("\n")
)


@settings(max_examples=300, deadline=None)
@given(_ascii_text)
def test_property_ascii_text_without_whitespace_runs_is_unchanged(text):
    assert text_normalise(text) == text


@settings(max_examples=200, deadline=None)
@given(data=st.data(), prefix=st.sampled_from(["000", "001", "002"]))
def test_property_quote_locate_finds_any_passage_of_a_document(documents, data, prefix):
    text = documents[prefix]
    start = data.draw(st.integers(min_value=0, max_value=len(text) - 40))
    length = data.draw(st.integers(min_value=20, max_value=200))
    passage = text[start : start + length].strip()
    # A browser copy: curly quotes typed straight.
    pasted = passage.translate(str.maketrans({"“": '"', "”": '"', "’": "'", "‘": "'"}))
    location = quote_locate(text=text, quote=pasted, occurrence=1)
    assert text[location.start : location.end] == location.quote == passage
    assert location.start <= start + (len(text[start : start + length]) - len(text[start : start + length].lstrip()))


# --- quote_locate ------------------------------------------------------------------------------------------------

TEXT = (
    "Acme Magnets signed a “binding” offtake with Beta Metals. The plant’s capacity is 3,000 tonnes.\n"
    "Acme Magnets signed again.\n\nA new paragraph."
)


def test_quote_locate_exact():
    location = quote_locate(text=TEXT, quote="Beta Metals")
    assert (location.start, location.end, location.occurrences) == (
        TEXT.index("Beta Metals"),
        TEXT.index("Beta Metals") + len("Beta Metals"),
        1,
    )
    assert TEXT[location.start : location.end] == location.quote == "Beta Metals"


def test_quote_locate_not_found():
    with pytest.raises(QuoteNotFound, match="does not occur"):
        quote_locate(text=TEXT, quote="Gamma Mining")


def test_quote_locate_empty_quote_is_not_found():
    with pytest.raises(QuoteNotFound, match="empty"):
        quote_locate(text=TEXT, quote=" \n ")


def test_quote_locate_ambiguous_reports_the_count():
    with pytest.raises(QuoteAmbiguous) as excinfo:
        quote_locate(text=TEXT, quote="Acme Magnets signed")
    assert excinfo.value.count == 2
    assert "2 times" in str(excinfo.value)


def test_quote_locate_overlapping_occurrences_are_counted():
    with pytest.raises(QuoteAmbiguous) as excinfo:
        quote_locate(text="aaaa", quote="aa")
    assert excinfo.value.count == 3


def test_quote_locate_occurrence_selection():
    first = quote_locate(text=TEXT, quote="Acme Magnets signed", occurrence=1)
    second = quote_locate(text=TEXT, quote="Acme Magnets signed", occurrence=2)
    assert first.start == 0
    assert second.start == TEXT.index("Acme Magnets signed again")
    assert first.occurrences == second.occurrences == 2
    assert TEXT[second.start : second.end] == second.quote == "Acme Magnets signed"


@pytest.mark.parametrize("occurrence", [0, 3, -1])
def test_quote_locate_occurrence_out_of_range(occurrence):
    with pytest.raises(QuoteNotFound, match="Occurrence"):
        quote_locate(text=TEXT, quote="Acme Magnets signed", occurrence=occurrence)


def test_quote_locate_straight_quotes_match_curly_ones():
    location = quote_locate(text=TEXT, quote='a "binding" offtake with Beta Metals. The plant\'s capacity')
    assert location.quote == "a “binding” offtake with Beta Metals. The plant’s capacity"
    assert TEXT[location.start : location.end] == location.quote


def test_quote_locate_space_matches_a_line_break():
    location = quote_locate(text=TEXT, quote="3,000 tonnes. Acme Magnets signed again.")
    assert location.quote == "3,000 tonnes.\nAcme Magnets signed again."
    assert TEXT[location.start : location.end] == location.quote


def test_quote_locate_normalises_a_pasted_quote():
    # Runs of spaces, a trailing newline and raw mojibake in the pasted quote are normalised like a source.
    location = quote_locate(text=TEXT, quote="  The plantโ€™s   capacity\n")
    assert location.quote == "The plant’s capacity"
    assert TEXT[location.start : location.end] == location.quote


def test_quote_locate_on_a_real_document(documents):
    location = quote_locate(
        text=documents["002"],
        quote="slated to open in 2027 with a capacity of 3,000 tonnes per year and 500+ jobs",
    )
    assert documents["002"][location.start : location.end] == location.quote
    assert location.occurrences == 1


def test_quote_fold_preserves_length_and_offsets():
    folded = quote_fold(TEXT)
    assert len(folded) == len(TEXT)
    assert "\n" not in folded and "“" not in folded and "’" not in folded
    assert folded.index("Beta Metals") == TEXT.index("Beta Metals")


# --- a leading byte-order mark -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\ufeffLynas plant", "Lynas plant"),
        ("\ufeff\ufeffLynas plant", "Lynas plant"),
        ("\ufeff  Lynas\r\nplant", "Lynas\nplant"),
        (" \ufeffLynas plant", "Lynas plant"),  # the mark only reaches the start once the space is trimmed
        ("\ufeff\u0e42\u20ac\u0153soon\u0e42\u20ac", "\u201csoon\u201d"),
        ("Lynas\ufeffplant", "Lynas\ufeffplant"),  # inside the text it is a zero-width no-break space: kept
    ],
)
def test_a_leading_byte_order_mark_is_dropped(raw, expected):
    assert text_normalise(raw) == expected
    assert text_normalise(expected) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(["\ufeff", " ", "\n", "\t", "a", "\u0e42"]), max_size=12), _tricky_text)
def test_property_a_text_with_leading_marks_and_spaces_normalises_idempotently(prefix, text):
    once = text_normalise(prefix + text)
    assert not once.startswith("\ufeff")
    assert text_normalise(once) == once


@pytest.mark.parametrize("path", SOURCE_FILES, ids=lambda p: p.name[:3])
def test_seed_documents_normalise_the_same_with_a_byte_order_mark(path, documents):
    assert text_normalise("\ufeff" + path.read_bytes().decode("utf-8")) == documents[path.name[:3]]


# --- white space in pasted quotes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("pasted", ["signed again. A new", "signed again.\nA new", "signed again.  \n \n  A new"])
def test_quote_locate_a_paragraph_break_matches_a_space_or_a_line_break(pasted):
    location = quote_locate(text=TEXT, quote=pasted)
    assert location.quote == "signed again.\n\nA new"
    assert TEXT[location.start : location.end] == location.quote


def test_quote_locate_white_space_never_matches_where_the_source_has_none():
    with pytest.raises(QuoteNotFound):
        quote_locate(text=TEXT, quote="Beta  Met als")
    with pytest.raises(QuoteNotFound):
        quote_locate(text=TEXT, quote="BetaMetals")


def test_quote_locate_overlapping_occurrences_across_white_space_runs():
    text = "a  b a\n\nb a b"
    spans = [quote_locate(text=text, quote="a b", occurrence=n) for n in (1, 2, 3)]
    assert [(s.start, s.end) for s in spans] == [(0, 4), (5, 9), (10, 13)]
    assert [s.quote for s in spans] == ["a  b", "a\n\nb", "a b"]


_WHITE_SPACE_RUN = re.compile(r"\s+")


@settings(max_examples=300, deadline=None)
@given(data=st.data(), prefix=st.sampled_from(["000", "001", "002"]))
def test_property_a_passage_with_other_white_space_is_found_at_its_offsets(documents, data, prefix):
    text = documents[prefix]
    # A passage from a non-space character to a non-space character, spanning a paragraph break as often as not.
    first = data.draw(st.integers(min_value=0, max_value=len(text) - 2))
    start = first + (len(text[first:]) - len(text[first:].lstrip()))
    length = data.draw(st.integers(min_value=1, max_value=400))
    end = start + len(text[start : start + length].rstrip())
    assume(end > start)
    passage = text[start:end]
    # Each white-space run, as pasted, becomes one space or one line break.
    pasted = _WHITE_SPACE_RUN.sub(lambda _: data.draw(st.sampled_from([" ", "\n"])), passage)
    first_hit = quote_locate(text=text, quote=pasted, occurrence=1)
    spans = [
        (hit.start, hit.end)
        for hit in (quote_locate(text=text, quote=pasted, occurrence=n) for n in range(1, first_hit.occurrences + 1))
    ]
    assert (start, end) in spans
    assert all(text[s:e] == passage for s, e in spans if s == start)
