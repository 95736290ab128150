"""deals.text.quote_context: a saved quote shown with a little of its source's text either side."""

from __future__ import annotations

from deals.text import QuoteContext, quote_context

TEXT = (
    "Acme Magnets said on Monday it signed a $10 million offtake with Beta Metals.\n\n"
    "The plant in Columbus will make 3,000 tonnes per year of NdFeB magnets for cars and wind turbines."
)


def _at(quote: str, **kwargs) -> QuoteContext:
    start = TEXT.index(quote)
    return quote_context(text=TEXT, start=start, end=start + len(quote), **kwargs)


def test_the_quote_comes_with_whole_words_either_side_and_marks_the_cuts():
    context = _at("$10 million offtake", width=20)
    assert context.quote == "$10 million offtake"
    # 20 characters either side, less the partial word at each cut.
    assert context.before == "…Monday it signed a "
    assert context.after == " with Beta Metals.…"


def test_a_quote_at_the_start_or_end_of_the_text_has_no_ellipsis_on_that_side():
    first = _at("Acme Magnets", width=20)
    assert first.before == "" and first.after.endswith("…")
    last = _at("wind turbines.", width=20)
    assert last.after == "" and last.before.startswith("…")


def test_line_breaks_read_as_spaces():
    context = _at("Beta Metals.", width=12)
    assert "\n" not in context.after and context.after.startswith(" The")


def test_a_long_quote_keeps_its_beginning_and_end():
    quote = TEXT[TEXT.index("The plant") :]
    context = _at(quote, longest=60)
    assert context.quote.startswith("The plant in Columbus")
    assert context.quote.endswith("wind turbines.")
    assert " … " in context.quote and len(context.quote) <= 60 + 3
