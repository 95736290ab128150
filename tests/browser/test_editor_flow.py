"""A real browser (Playwright + Debian's Chromium) walks an editor through the admin and then checks the API.

1. Log in as an editor (an account made by the project's own service).
2. Add a source by pasting its text.
3. Add a deal with two parties (chosen with the autocomplete widgets) and evidence; a quote that is not in the
   source is refused first, then the corrected quote is accepted.
4. Save, and read the source page with the new quote highlighted.
5. The new deal is a draft (404 in the API); publishing is refused, naming each unquoted field; the editor quotes
   what the article states, empties what it does not, and publishes. The change page reads the deal back, field by
   field, with the quotes backing each value.
6. Fetch the deal from /api/v1/ and check its provenance.
7. Open /api/docs/ and check that Swagger UI renders the operations without a single request to another host.

Screenshots of every step go to artifacts/browser/ (git-ignored); with REEXAPI_DOC_SCREENSHOTS=1 they also
replace the ones in docs/img/ that the editors' guide shows.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from deals import models
from deals.editing import editor_create
from tests.factories import CompanyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
DOC_IMAGES = ROOT / "docs" / "img"
PASSWORD = "a-long-editor-pass-42"
TIMEOUT_MS = 15_000

ARTICLE = """Acme Magnets signs rare-earth offtake with Beta Metals

Acme Magnets said on Monday it has signed a “binding offtake agreement” with Beta Metals for
neodymium-praseodymium oxide from 2026.

The agreement is worth $25 million, the companies said. Beta Metals will supply the oxide from its plant.
"""
# Pasted as a browser copy gives it: straight quotes where the article has curly ones, a line break as a space.
QUOTE = 'it has signed a "binding offtake agreement" with Beta Metals for neodymium-praseodymium oxide'
STORED_QUOTE = "it has signed a “binding offtake agreement” with Beta Metals for\nneodymium-praseodymium oxide"


@pytest.fixture
def browser_page(live_server, settings):
    """A Chromium page; Playwright's sync API runs an event loop, which Django refuses unless told it is safe."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # The live server speaks plain HTTP; secure-only cookies would never come back to it.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1100, "height": 760})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


def _shot(page, name: str, *, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
    if os.environ.get("REEXAPI_DOC_SCREENSHOTS") == "1":
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOC_IMAGES / f"{name}.png"), full_page=full_page)


def _autocomplete(page, select_id: str, search: str, choice: str) -> None:
    """Choose a related record in a Django admin autocomplete (select2) widget, as a person would."""
    page.locator(f"#{select_id} + .select2 .select2-selection").click()
    search_box = page.locator(".select2-container--open .select2-search__field")
    search_box.fill(search)
    page.locator(".select2-container--open .select2-results__option", has_text=choice).first.click()
    page.locator(f"#{select_id} + .select2 .select2-selection__rendered", has_text=choice).wait_for()


def _field_box(page, row: int, label: str):
    """The checkbox of evidence row ``row`` that ticks the field labelled ``label`` (the label the editor sees)."""
    return page.get_by_label(label, exact=True).and_(page.locator(f"[name='evidence-{row}-fields']"))


def _tick(page, row: int, *labels: str) -> None:
    for label in labels:
        _field_box(page, row, label).check()


def _untick(page, row: int, *labels: str) -> None:
    for label in labels:
        _field_box(page, row, label).uncheck()


def test_editor_adds_a_source_and_a_deal_then_the_api_shows_it(live_server, browser_page):
    page = browser_page
    base = live_server.url
    editor_create(username="edna", email="edna@example.org", password=PASSWORD)
    CompanyFactory(slug="acme-magnets", name="Acme Magnets")
    CompanyFactory(slug="beta-metals", name="Beta Metals")

    # 1. Log in.
    page.goto(f"{base}/admin/")
    page.fill("#id_username", "edna")
    page.fill("#id_password", PASSWORD)
    _shot(page, "01-login")
    page.click("input[type=submit]")
    page.locator("#site-name", has_text="ReexAPI editors").wait_for()
    page.locator("#user-tools", has_text="edna").wait_for()
    assert page.locator("a[href='/admin/auth/user/']").count() == 0
    _shot(page, "02-dashboard")

    # 2. Add a source by pasting its text.
    page.goto(f"{base}/admin/deals/source/add/")
    # The slug first: once an editor has typed one, the admin stops deriving it from the title.
    page.fill("#id_slug", "acme-beta-offtake-article")
    page.fill("#id_title", "Acme Magnets signs rare-earth offtake with Beta Metals")
    page.select_option("#id_kind", "news")
    page.fill("#id_publisher", "Example Wire")
    page.fill("#id_published_date", "2025-09-15")
    page.select_option("#id_published_date_precision", "day")
    page.fill("#id_pasted_text", ARTICLE)
    _shot(page, "03-source-add", full_page=True)
    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()
    source = models.Source.objects.get(slug="acme-beta-offtake-article")
    assert source.text.startswith("Acme Magnets signs")
    assert len(source.raw_sha256) == 64 and len(source.text_sha256) == 64

    # 3. Add a deal with two parties and evidence.
    page.goto(f"{base}/admin/deals/deal/add/")
    page.fill("#id_slug", "acme-beta-ndpr-offtake")
    page.fill("#id_title", "Acme Magnets and Beta Metals NdPr oxide offtake")
    page.select_option("#id_deal_type", "offtake")
    page.select_option("#id_status", "signed")
    page.fill("#id_announced_date", "2025-09-15")
    page.select_option("#id_announced_date_precision", "day")
    page.fill("#id_amount", "25000000")
    page.fill("#id_currency", "USD")
    page.fill("#id_amount_usd", "25000000")
    page.select_option("#id_value_qualifier", "exact")
    _autocomplete(page, "id_party_links-0-company", "Acme", "Acme Magnets")
    page.select_option("#id_party_links-0-role", "buyer")
    _autocomplete(page, "id_party_links-1-company", "Beta", "Beta Metals")
    page.select_option("#id_party_links-1-role", "supplier")
    _autocomplete(page, "id_evidence-0-source", "rare-earth", "Acme Magnets signs rare-earth offtake")
    # First a quote that the article does not contain: the form must refuse it and keep the input.
    page.fill("#id_evidence-0-quote", "a $30 million offtake")
    # The quote's fields are ticked from the deal's own fields, by the labels the editor sees.
    _tick(page, 0, "Parties", "Amount")
    page.click("input[name=_save]")
    error = page.locator(".inline-related .errorlist", has_text="Not found in source")
    error.wait_for()
    assert not models.Deal.objects.filter(slug="acme-beta-ndpr-offtake").exists()
    error.scroll_into_view_if_needed()
    _shot(page, "04-evidence-error")

    # Fix the quote (as pasted from the browser) and save.
    page.fill("#id_evidence-0-quote", QUOTE)
    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()
    _shot(page, "05-deal-saved")
    deal = models.Deal.objects.get(slug="acme-beta-ndpr-offtake")
    assert sorted(deal.party_links.values_list("company__slug", "role")) == [
        ("acme-magnets", "buyer"),
        ("beta-metals", "supplier"),
    ]
    evidence = deal.evidence.get()
    assert evidence.quote == STORED_QUOTE
    assert deal.history.get().history_user.username == "edna"

    # 4. The source page highlights the new quote, linking to the deal.
    page.goto(f"{base}/admin/deals/source/{source.pk}/change/")
    mark = page.locator(".source-text mark a", has_text="binding offtake agreement")
    mark.wait_for()
    assert mark.get_attribute("href") == f"/admin/deals/deal/{deal.pk}/change/"
    page.locator(".source-text").scroll_into_view_if_needed()
    _shot(page, "06-source-highlighted")

    # A mistake, then its revert from the history page.
    page.goto(f"{base}/admin/deals/deal/{deal.pk}/change/")
    page.fill("#id_title", "Acme Magnets and Beta Metals NdPr oxide offtake (wrong)")
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    page.click("a.historylink")
    rows = page.locator("#change-history tbody tr")
    rows.nth(1).wait_for()
    assert rows.count() == 2
    assert page.locator("#change-history", has_text="edna").count() == 1
    # The first version lists the parties with their roles and the quote it was saved with.
    first = rows.nth(1)
    assert first.locator(".relations-changes", has_text="+ acme-magnets (buyer)").count() == 1
    assert first.locator(".relations-changes", has_text="binding offtake agreement").count() == 1
    _shot(page, "07-deal-history")
    # The oldest entry is the deal as first saved; its page offers the revert.
    rows.nth(1).locator("a").first.click()
    page.locator("#id_title").wait_for()
    assert page.input_value("#id_title") == "Acme Magnets and Beta Metals NdPr oxide offtake"
    assert page.locator(".version-relations", has_text="beta-metals (supplier)").count() == 1
    _shot(page, "08-revert")
    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()
    deal.refresh_from_db()
    assert deal.title == "Acme Magnets and Beta Metals NdPr oxide offtake"
    assert [h.history_user.username for h in deal.history.all()] == ["edna", "edna", "edna"]

    # Export the deal: select it, run the "Export selected" action, pick JSON.
    page.goto(f"{base}/admin/deals/deal/")
    page.check(f"input[name=_selected_action][value='{deal.pk}']")
    page.select_option("select[name=action]", "export_admin_action")
    page.click("button[name=index]")
    page.locator("#id_format").wait_for()
    page.select_option("#id_format", label="json")
    _shot(page, "09-export")
    with page.expect_download() as download_info:
        page.click("input[type=submit]")
    exported = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert '"acme-beta-ndpr-offtake"' in exported

    # Import evidence: a batch with one bad row is refused whole, naming the row; a good one is previewed first.
    page.goto(f"{base}/admin/deals/evidence/import/")
    header = "source,company,quote,fields\n"
    bad = (
        header + 'acme-beta-offtake-article,beta-metals,Beta Metals will supply the oxide,"[""name""]"\n'
        "acme-beta-offtake-article,acme-magnets,Acme Magnets said on Friday,[]\n"
    )
    page.set_input_files("#id_import_file", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}])
    page.select_option("#id_format", label="csv")
    page.click("input[type=submit]")
    page.locator(".validation-error-list", has_text="Row 2: Not found in source").wait_for()
    assert page.locator("input[name=confirm]").count() == 0
    page.hover(".validation-error-count")
    _shot(page, "10-import-rejected")
    good = header + 'acme-beta-offtake-article,beta-metals,Beta Metals will supply the oxide,"[""name""]"\n'
    page.set_input_files(
        "#id_import_file", files=[{"name": "good.csv", "mimeType": "text/csv", "buffer": good.encode()}]
    )
    page.select_option("#id_format", label="csv")
    page.click("input[type=submit]")
    page.locator("input[name=confirm]").wait_for()
    assert not models.Evidence.objects.filter(company__slug="beta-metals").exists()
    _shot(page, "11-import-preview")
    page.click("input[name=confirm]")
    page.locator(".messagelist .success", has_text="1 new").wait_for()
    assert models.Evidence.objects.get(company__slug="beta-metals").fields == ["name"]

    # 5. The new deal is a draft: the public API does not know it yet, and publishing names what is missing.
    api_url = f"{base}/api/v1/deals/acme-beta-ndpr-offtake/"
    assert page.request.get(api_url).status == 404
    page.goto(f"{base}/admin/deals/deal/{deal.pk}/change/")
    page.click("a.publish-link")
    problems = page.locator(".publication-problems")
    problems.wait_for()
    for label in ("Title", "Deal type", "Announced date", "Currency"):
        assert problems.locator("li", has_text=f"{label}: no current quote supports").count() == 1, label
    assert problems.locator("li", has_text="Parties:").count() == 0  # the quote states both parties
    _shot(page, "12a-publish-refused")

    # The editor lets the quote name what it states, quotes the amount, and empties the date the article does not
    # give ("on Monday"); then publishing goes through.
    page.goto(f"{base}/admin/deals/deal/{deal.pk}/change/")
    _tick(page, 0, "Title", "Deal type", "Status", "Parties")
    _untick(page, 0, "Amount")
    _autocomplete(page, "id_evidence-1-source", "rare-earth", "Acme Magnets signs rare-earth offtake")
    page.fill("#id_evidence-1-quote", "The agreement is worth $25 million")
    _tick(page, 1, "Amount", "Currency", "Amount usd", "Value qualifier")
    page.fill("#id_announced_date", "")
    page.select_option("#id_announced_date_precision", "")
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    page.click("a.publish-link")
    page.locator(".publication-action input[type=submit]").click()
    page.locator(".messagelist .success", has_text="is published").wait_for()
    _shot(page, "12b-published")
    deal.refresh_from_db()
    assert deal.publication_status == models.PublicationStatus.PUBLISHED

    # The change page reads the deal back, field by field, with the quotes that state each value; the evidence rows
    # below show each saved quote where it stands in the article.
    page.goto(f"{base}/admin/deals/deal/{deal.pk}/change/")
    readback = page.locator(".readback")
    assert readback.locator("[data-field=amount] li", has_text="The agreement is worth $25 million").count() == 1
    assert readback.locator("[data-field=parties] li", has_text="binding offtake agreement").count() == 1
    assert readback.locator(".readback-missing").count() == 0  # published: every stated field is backed
    readback.scroll_into_view_if_needed()
    _shot(page, "12c-quotes-by-field")
    rows = page.locator("#evidence-group")
    assert rows.locator(".quote-context mark", has_text="The agreement is worth $25 million").count() == 1
    rows.scroll_into_view_if_needed()
    _shot(page, "12d-evidence-rows")

    # 6. The deal from the public API, with its provenance.
    response = page.request.get(api_url)
    assert response.ok, response.status
    body = response.json()
    assert {p["slug"] for p in body["parties"]} == {"acme-magnets", "beta-metals"}
    provenance = {p["quote"]: p for p in body["provenance"]}
    assert set(provenance) == {STORED_QUOTE, "The agreement is worth $25 million"}
    first = provenance[STORED_QUOTE]
    assert first["source"]["slug"] == "acme-beta-offtake-article"
    assert source.text[first["start"] : first["end"]] == STORED_QUOTE
    assert first["fields"] == ["title", "deal_type", "status", "parties"]

    # 7. Swagger UI renders the operations, and every request stays on the test server.
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{base}/api/docs/")
    page.locator(".opblock-summary").first.wait_for()
    assert page.locator(".opblock-summary-path", has_text="/api/v1/deals/").count() >= 1
    page.wait_for_load_state("networkidle")
    _shot(page, "12-api-docs")
    server = urlsplit(base).netloc
    assert requested, "Swagger UI made no requests at all"
    foreign = [url for url in requested if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != server]
    assert foreign == [], foreign
    assert all(urlsplit(url).scheme in ("http", "https", "data", "blob") for url in requested), requested
