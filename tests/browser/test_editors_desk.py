"""Issue 12's "Done means": a real browser enters a whole article from its own text, by selecting passages.

The article below is made up for this test (its companies and agency do not exist), in the style of a U.S.
government package for a rare earth producer: an equity stake, a price floor, an offtake and a loan.

1. The editor pastes the article as a new source.
2. On the source's page, every stated fact is entered by selecting its passage and choosing "Quote this for…":
   a new company or deal (its add page opens with the quote in its first evidence row), or an existing record
   (found by autocomplete; the quote is added at once). No quote is ever typed or pasted.
3. The companies and deals are published with the changelist's "Publish selected" action, which refuses any
   record with a value that no quote states.
4. The public API shows each deal and company with every non-empty field backed by the selected quotes, and
   with nothing left only in a title or summary (the summaries are empty; each figure has its own field).

The test counts the page loads and the form fields the editor used, prints them beside the same counts for the
old way (pasting each quote into an evidence row), and prints the suggested passages with how many were real
facts. Screenshots go to artifacts/browser/, and with REEXAPI_DOC_SCREENSHOTS=1 to docs/img/ for docs/editors.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from deals import models
from deals.editing import editor_create
from deals.selectors.quoting import source_fact_suggestions
from tests.browser.test_editor_flow import (  # noqa: F401  (browser_page is a fixture)
    PASSWORD,
    _shot,
    browser_page,
)
from tests.factories import CommodityFactory, CompanyFactory, DealFactory, SourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTICLE = """Orion Rare Earths wins U.S. equity stake, price floor and loan

The Strategic Minerals Office, a U.S. government agency, will invest $400 million in Orion Rare Earths, a U.S. rare \
earth producer, buying convertible preferred stock.

The Strategic Minerals Office also set a price floor of $110 per kilogram for the NdPr oxide that Orion Rare Earths \
produces, for ten years.

Halcyon Magnetics, a U.S. magnet maker, signed a ten-year offtake agreement to buy 100% of the magnets that Orion \
Rare Earths makes.

The Strategic Minerals Office will also lend Orion Rare Earths $150 million.

Analysts welcomed the news.

This article is made up for ReexAPI's tests: its companies and its agency do not exist.
"""
EQUITY = (
    "The Strategic Minerals Office, a U.S. government agency, will invest $400 million in Orion Rare Earths, a U.S. "
    "rare earth producer, buying convertible preferred stock."
)
FLOOR = (
    "The Strategic Minerals Office also set a price floor of $110 per kilogram for the NdPr oxide that Orion Rare "
    "Earths produces, for ten years."
)
OFFTAKE = (
    "Halcyon Magnetics, a U.S. magnet maker, signed a ten-year offtake agreement to buy 100% of the magnets that "
    "Orion Rare Earths makes."
)
LOAN = "The Strategic Minerals Office will also lend Orion Rare Earths $150 million."
# The sentences that state facts; the suggestions are scored against them. (The headline only repeats them.)
FACT_SENTENCES = {EQUITY, FLOOR, OFFTAKE, LOAN}

# Selects the ``occurrence``-th copy of ``passage`` in the rendered text as a person's drag would: a DOM Range
# from the text node holding its first character to the one holding its last, then the mouse button is released
# over the text. The page's own script (deals/static/deals/admin/quote.js) turns that selection into offsets.
_SELECT_JS = """([passage, occurrence]) => {
  const root = document.querySelector('.source-text');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let text = '';
  while (walker.nextNode()) { nodes.push([walker.currentNode, text.length]); text += walker.currentNode.data; }
  let at = -1;
  for (let i = 0; i < occurrence; i++) { at = text.indexOf(passage, at + 1); }
  if (at < 0) { throw new Error('not on the page: ' + passage); }
  const point = (position, isEnd) => {
    for (const [node, first] of nodes) {
      const last = first + node.data.length;
      if (position >= first && (isEnd ? position <= last : position < last)) { return [node, position - first]; }
    }
    throw new Error('no text node at ' + position);
  };
  const range = document.createRange();
  range.setStart(...point(at, false));
  range.setEnd(...point(at + passage.length, true));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  const box = range.getBoundingClientRect();
  return [box.right, box.bottom];
}"""


@dataclass
class Counts:
    """What the editor needed: page loads (every document the browser loaded) and form fields used.

    ``saved_in_page`` counts the quotes the panel's script saved with fetch(), which load no page.
    """

    loads: int = 0
    saved_in_page: int = 0
    fields: int = 0
    quotes: int = 0
    log: list[str] = field(default_factory=list)

    def used(self, what: str, n: int = 1) -> None:
        self.fields += n
        self.log.append(what)


@pytest.fixture
def desk(browser_page, live_server):  # noqa: F811  (the fixture imported above)
    counts = Counts()
    browser_page.on("load", lambda _: setattr(counts, "loads", counts.loads + 1))

    def saved(response):
        if response.request.resource_type == "fetch" and response.url.endswith("/quote/") and response.status == 201:
            counts.saved_in_page += 1

    browser_page.on("response", saved)
    return browser_page, live_server.url, counts


def _fill(page, counts, selector, value):
    page.fill(selector, value)
    counts.used(selector)


def _choose(page, counts, selector, value):
    page.select_option(selector, value)
    counts.used(selector)


def _autocomplete(page, counts, select_id, search, choice):
    """Choose a record or a country in a select2 autocomplete, as a person would: one field.

    The country selects are select2 pickers too (deals/admin/countries.py), and this is how they are used.
    """
    page.locator(f"#{select_id} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(search)
    page.locator(".select2-container--open .select2-results__option", has_text=choice).first.click()
    page.locator(f"#{select_id} + .select2 .select2-selection__rendered", has_text=choice).wait_for()
    counts.used(select_id)


def _quote(page, counts, passage, *, kind, fields, record=None, occurrence=1, shot=None, shot_saved=None):
    """Select ``passage`` on the source page and quote it for a new record of ``kind`` or for ``record``."""
    x, y = page.evaluate(_SELECT_JS, [passage, occurrence])
    page.mouse.move(x - 1, y - 2)
    page.mouse.up()
    panel = page.locator("#quote-form")
    panel.wait_for(state="visible")
    assert panel.locator(".quote-preview").text_content() == passage
    panel.locator(f"input[name='quote-target'][value='{kind}']").check()
    counts.used(f"quote for a {kind}")
    if record is not None:
        _autocomplete(page, counts, f"id_quote-{kind}", record[:6], record)
    box = panel.locator(f".quote-kind[data-kind='{kind}']")
    for label in fields:
        box.get_by_label(label, exact=True).check()
        counts.used(f"tick {label}")
    counts.quotes += 1
    if shot:
        _shot(page, shot)
    panel.locator(".quote-submit").click()
    if record is not None:
        # Saved in the page (no load): the panel says so and the passage is highlighted.
        panel.locator(".quote-status.quote-saved", has_text="Quoted").wait_for()
        page.locator(".source-text mark.quote-just-saved").first.wait_for()
        if shot_saved:
            _shot(page, shot_saved)


def _save_new(page):
    page.click("input[name=_save]")
    saved = page.locator(".messagelist .success", has_text="Select the next passage")
    saved.or_(page.locator(".errornote")).first.wait_for()
    errors = page.locator(".errorlist").all_text_contents()
    assert saved.count() == 1, errors


def _new_company(page, counts, *, name, slug, kind, detail, shot=None):
    """A company from its name in the text; then its kind and country from the passage that states them."""
    _quote(page, counts, name, kind="company", fields=["Name"])
    page.locator("#id_name").wait_for()
    assert page.input_value("#id_name") == name  # prefilled from the passage
    assert page.input_value("#id_evidence-0-quote") == name
    _fill(page, counts, "#id_slug", slug)
    _choose(page, counts, "#id_kind", kind)
    _autocomplete(page, counts, "id_country", "United", "United States of America")
    if shot:
        page.locator("#evidence-group").scroll_into_view_if_needed()
        _shot(page, shot)
    _save_new(page)
    _quote(page, counts, detail, kind="company", fields=["Kind", "Country"], record=name)


def _new_deal(page, counts, passage, *, ticks, slug, title, values, parties, commodities=(), countries=(), shot=None):
    """A deal from the passage that states it: the add page opens with the quote; the editor types the values."""
    _quote(page, counts, passage, kind="deal", fields=ticks)
    page.locator("#id_title").wait_for()
    assert page.input_value("#id_evidence-0-quote") == passage
    _fill(page, counts, "#id_slug", slug)
    _fill(page, counts, "#id_title", title)
    for selector, value in values.items():
        if page.locator(selector).evaluate("e => e.tagName") == "SELECT":
            _choose(page, counts, selector, value)
        else:
            _fill(page, counts, selector, value)
    for row, (company, role) in enumerate(parties):
        _autocomplete(page, counts, f"id_party_links-{row}-company", company[:6], company)
        _choose(page, counts, f"#id_party_links-{row}-role", role)
    for name in commodities:
        _autocomplete(page, counts, "id_commodities", name[:4], name)
    for name in countries:
        _autocomplete(page, counts, "id_countries", name[:6], name)
    if shot:
        page.locator("#evidence-0").scroll_into_view_if_needed()
        _shot(page, shot)
    _save_new(page)


def test_an_article_is_entered_from_its_text_by_selection_and_published(desk):
    page, base, counts = desk
    editor_create(username="edna", email="edna@example.org", password=PASSWORD)
    # Vocabulary, not facts of the article: the commodity list editors pick from.
    CommodityFactory(slug="ndpr-oxide", name="NdPr oxide", kind="material")
    CommodityFactory(slug="ndfeb-magnets", name="NdFeB magnets", kind="product")

    page.goto(f"{base}/admin/")
    _fill(page, counts, "#id_username", "edna")
    _fill(page, counts, "#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.locator("#user-tools", has_text="edna").wait_for()

    # 1. Paste the article as a new source.
    page.goto(f"{base}/admin/deals/source/add/")
    _fill(page, counts, "#id_slug", "orion-rare-earths-package")
    _fill(page, counts, "#id_title", "Orion Rare Earths wins U.S. equity stake, price floor and loan")
    _choose(page, counts, "#id_kind", "news")
    _fill(page, counts, "#id_publisher", "Example Wire")
    _fill(page, counts, "#id_published_date", "2026-03-03")
    _choose(page, counts, "#id_published_date_precision", "day")
    _fill(page, counts, "#id_pasted_text", ARTICLE)
    # "Save and continue editing" lands on the source's page, where the quoting starts: one load, not two.
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    # The test's own queries wait until the page has finished loading: SQLite's shared in-memory database refuses a
    # read while the live server writes (a session, a request log), and that trips the API's database breaker.
    page.wait_for_load_state("networkidle")
    source = models.Source.objects.get(slug="orion-rare-earths-package")
    suggested = [s.text for s in source_fact_suggestions(source=source)]
    assert page.url.endswith(f"/admin/deals/source/{source.pk}/change/")
    page.locator(".quote-suggestions").wait_for()
    shown = page.locator(".quote-suggestion-text").all_text_contents()
    assert shown == suggested
    _shot(page, "30-desk-suggestions", full_page=True)

    # 2. The companies, each from its name in the text.
    _quote(page, counts, "Strategic Minerals Office", kind="company", fields=["Name"])
    page.locator("#id_name").wait_for()
    _shot(page, "31-desk-new-company")
    _fill(page, counts, "#id_slug", "strategic-minerals-office")
    _choose(page, counts, "#id_kind", "agency")
    _autocomplete(page, counts, "id_country", "United", "United States of America")
    _save_new(page)
    _quote(
        page, counts, "a U.S. government agency", kind="company", fields=["Kind", "Country"], record="Strategic",
        shot="32-desk-quote-panel", shot_saved="32b-desk-quoted-in-page",
    )  # fmt: skip
    _new_company(
        page, counts, name="Orion Rare Earths", slug="orion-rare-earths", kind="company",
        detail="a U.S. rare earth producer",
    )  # fmt: skip
    _new_company(
        page, counts, name="Halcyon Magnetics", slug="halcyon-magnetics", kind="company", detail="a U.S. magnet maker"
    )
    page.locator(".source-text mark", has_text="a U.S. magnet maker").wait_for()

    # 3. The deals, each from the sentence that states it; the title is ticked on it too.
    money = {"#id_currency": "USD", "#id_value_qualifier": "exact"}
    _new_deal(
        page, counts, EQUITY,
        ticks=["Title", "Deal type", "Status", "Amount", "Currency", "Amount usd", "Value qualifier", "Instrument",
               "Parties", "Countries"],
        slug="smo-orion-equity", title="Strategic Minerals Office equity stake in Orion Rare Earths",
        values={"#id_deal_type": "equity_funding", "#id_status": "announced", "#id_amount": "400000000",
                "#id_amount_usd": "400000000", **money, "#id_instrument": "convertible_preferred"},
        parties=[("Strategic Minerals Office", "investor"), ("Orion Rare Earths", "recipient")],
        countries=["United States of America"],
        shot="33-desk-new-deal",
    )  # fmt: skip
    _new_deal(
        page, counts, FLOOR,
        ticks=["Title", "Deal type", "Status", "Unit price", "Unit price currency", "Unit price unit", "Term length",
               "Term unit", "Instrument", "Parties", "Commodities"],
        slug="smo-orion-ndpr-price-floor",
        title="Strategic Minerals Office price floor for Orion Rare Earths NdPr oxide",
        values={"#id_deal_type": "government_agreement", "#id_status": "announced", "#id_unit_price": "110",
                "#id_unit_price_currency": "USD", "#id_unit_price_unit": "kg", "#id_term_length": "10",
                "#id_term_unit": "years", "#id_instrument": "price_floor"},
        parties=[("Strategic Minerals Office", "government"), ("Orion Rare Earths", "supplier")],
        commodities=["NdPr oxide"],
    )  # fmt: skip
    _new_deal(
        page, counts, OFFTAKE,
        ticks=["Title", "Deal type", "Status", "Term length", "Term unit", "Share of output (percent)",
               "Share of output: of what", "Instrument", "Parties", "Commodities"],
        slug="halcyon-orion-magnet-offtake", title="Halcyon Magnetics offtake of Orion Rare Earths magnets",
        values={"#id_deal_type": "offtake", "#id_status": "signed", "#id_term_length": "10",
                "#id_term_unit": "years", "#id_output_share_percent": "100", "#id_output_share_of": "magnets",
                "#id_instrument": "offtake"},
        parties=[("Halcyon Magnetics", "buyer"), ("Orion Rare Earths", "supplier")], commodities=["NdFeB magnets"],
    )  # fmt: skip
    _new_deal(
        page, counts, LOAN,
        ticks=["Title", "Deal type", "Status", "Amount", "Currency", "Amount usd", "Value qualifier", "Instrument",
               "Parties"],
        slug="smo-orion-loan", title="Strategic Minerals Office loan to Orion Rare Earths",
        values={"#id_deal_type": "loan", "#id_status": "announced", "#id_amount": "150000000",
                "#id_amount_usd": "150000000", **money, "#id_instrument": "loan"},
        parties=[("Strategic Minerals Office", "lender"), ("Orion Rare Earths", "borrower")],
    )  # fmt: skip
    page.locator(".source-text mark", has_text="lend Orion Rare Earths").wait_for()
    # Every sentence that looked like a fact is quoted now, so nothing is suggested any more.
    assert page.locator(".quote-suggestion").count() == 0
    page.locator(".source-text").scroll_into_view_if_needed()
    _shot(page, "34-desk-all-quoted", full_page=True)

    # 4. Publish: companies first (a deal's parties must be public), then the deals.
    for model, expected in (("company", 3), ("deal", 4)):
        page.goto(f"{base}/admin/deals/{model}/")
        page.check("#action-toggle")
        _choose(page, counts, "select[name=action]", "publish_selected")
        page.click("button[name=index]")
        page.locator(".messagelist .success", has_text=f"{expected} record(s) published").wait_for()
        assert page.locator(".messagelist .error").count() == 0, page.locator(".messagelist").inner_text()
    _shot(page, "35-desk-published")
    page.wait_for_load_state("networkidle")
    assert not models.Deal.objects.exclude(publication_status=models.PublicationStatus.PUBLISHED).exists()
    assert not models.Company.objects.exclude(publication_status=models.PublicationStatus.PUBLISHED).exists()

    # 5. Through the public API: every non-empty field is backed by the selected quotes; nothing only in a title.
    text = source.text
    for kind, slugs in (
        ("deals", ["smo-orion-equity", "smo-orion-ndpr-price-floor", "halcyon-orion-magnet-offtake", "smo-orion-loan"]),
        ("companies", ["strategic-minerals-office", "orion-rare-earths", "halcyon-magnetics"]),
    ):
        for slug in slugs:
            response = page.request.get(f"{base}/api/v1/{kind}/{slug}/")
            assert response.ok, (slug, response.status, response.text()[:300])
            body = response.json()
            for item in body["field_provenance"]:
                if item["value"] in (None, "", []):
                    continue
                assert item["supported"], (slug, item["field"], item["value"])
                assert item["quotes"], (slug, item["field"])
                for quote in item["quotes"]:
                    assert quote["source"] == source.slug
                    assert text[quote["start"] : quote["end"]] == quote["quote"]
            if kind == "deals":
                assert body["summary"] == ""

    deals = {d.slug: d for d in models.Deal.objects.all()}
    floor = deals["smo-orion-ndpr-price-floor"]
    assert (floor.unit_price, floor.unit_price_currency, floor.unit_price_unit) == (110, "USD", "kg")
    assert (floor.term_length, floor.term_unit, floor.instrument) == (10, "years", "price_floor")
    offtake = deals["halcyon-orion-magnet-offtake"]
    assert (offtake.output_share_percent, offtake.output_share_of, offtake.term_length) == (100, "magnets", 10)
    loan = deals["smo-orion-loan"]
    assert sorted(loan.party_links.values_list("company__slug", "role")) == [
        ("orion-rare-earths", "borrower"),
        ("strategic-minerals-office", "lender"),
    ]
    assert (loan.deal_type, loan.instrument, loan.amount) == ("loan", "loan", 150_000_000)
    assert deals["smo-orion-equity"].instrument == "convertible_preferred"
    # The figures are in fields, not only in a title: no title states a number.
    assert not any(ch.isdigit() for d in deals.values() for ch in d.title)

    # 6. The numbers for the closing note. "Before" is the old way for the same records and quotes, counted rather
    # than driven: every quote was an evidence row on the record's add page, where the editor picked the source and
    # pasted the quote (two fields a row) before ticking the same boxes; a company's name was typed, not prefilled;
    # nobody chose a record in the quote panel. Each record was one add page and its saved page, so page loads were
    # login (2), the source (2), two per record, and the two publish actions (4).
    evidence = list(models.Evidence.objects.all())
    assert len(evidence) == counts.quotes  # one row per selection, and no other
    assert counts.saved_in_page == 3  # each company's kind and country, quoted for the saved company
    ticks = sum(len(e.fields) for e in evidence)
    records = models.Company.objects.count() + models.Deal.objects.count()
    panel_choices = sum(1 for line in counts.log if line.startswith(("quote for a", "id_quote-")))
    before_fields = counts.fields - panel_choices + models.Company.objects.count() + 2 * len(evidence)
    before_loads = 2 + 2 + 2 * records + 4
    real = [s for s in suggested if s in FACT_SENTENCES]
    print(f"\nEDITORS' DESK: {len(evidence)} quotes, {ticks} ticked fields, {records} records")
    print(f"EDITORS' DESK: after  = {counts.loads} page loads, {counts.fields} form fields (no quote typed or pasted)")
    print(f"EDITORS' DESK: {counts.saved_in_page} quotes for existing records saved in the page (no load)")
    print(f"EDITORS' DESK: before = {before_loads} page loads, {before_fields} form fields ({len(evidence)} pasted)")
    print(f"EDITORS' DESK: suggestions = {len(suggested)}, real facts = {len(real)}")
    for sentence in suggested:
        print(f"EDITORS' DESK:   {'fact' if sentence in FACT_SENTENCES else 'not a fact'}: {sentence}")
    assert set(real) == FACT_SENTENCES


def test_a_selection_maps_to_exact_offsets_across_highlights_line_breaks_and_astral_characters(desk):
    """Offsets count code points (as Python does), not the browser's UTF-16 units, and a selection may start
    inside one highlighted quote and end after a line break in plain text."""
    page, base, counts = desk
    editor_create(username="edna", email="edna@example.org", password=PASSWORD)
    text = "Magnets \U0001f9f2 \u201cfirst\u201d: Orion Rare Earths ships.\nHalcyon Magnetics buys 100%."
    source = SourceFactory(text=text)
    deal = DealFactory(title="Orion shipments")
    company = CompanyFactory(name="Orion Rare Earths")
    start = text.index("Orion Rare Earths")
    models.Evidence.objects.create(
        source=source, company=company, quote="Orion Rare Earths", start=start, end=start + 17, fields=["name"]
    )
    page.goto(f"{base}/admin/login/?next=/admin/deals/source/{source.pk}/change/")
    page.fill("#id_username", "edna")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.locator(".source-text mark", has_text="Orion Rare Earths").wait_for()
    passage = "Earths ships.\nHalcyon Magnetics"
    _quote(page, counts, passage, kind="deal", fields=["Parties"], record="Orion shipments")
    evidence = models.Evidence.objects.get(deal=deal)
    assert (evidence.start, evidence.end) == (text.index(passage), text.index(passage) + len(passage))
    assert evidence.quote == passage
    # Saved in the page: the pieces were split where the quote starts and ends, each still names its own offset
    # (so the next selection maps exactly), and the highlighted text is the old quote plus the new one.
    pieces = page.evaluate(
        """() => Array.from(document.querySelectorAll('.source-text [data-offset]'))
             .map(p => [Number(p.dataset.offset), p.textContent, p.closest('mark') !== null])"""
    )
    at = 0
    for offset, piece, _ in pieces:
        assert offset == at, (offset, at, piece)
        at += len(piece)  # Python counts code points, as the offsets do
    assert "".join(piece for _, piece, _ in pieces) == text
    assert "".join(piece for _, piece, marked in pieces if marked) == "Orion Rare Earths ships.\nHalcyon Magnetics"
    x, y = page.evaluate(_SELECT_JS, ["ships.\nHalcyon", 1])
    page.mouse.move(x - 1, y - 2)
    page.mouse.up()
    page.locator("#quote-form .quote-preview", has_text="Halcyon").wait_for()
    start = text.index("ships.")
    assert page.evaluate("() => document.querySelector(\"input[name='quote-start']\").value") == str(start)
    assert page.evaluate("() => document.querySelector(\"input[name='quote-end']\").value") == str(start + 14)
