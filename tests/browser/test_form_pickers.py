"""In a real browser: countries are picked by typing (select2 on django-countries' selects) and slugs are suggested
from the title on the add pages; what the pickers post is what the plain selects would post."""

from __future__ import annotations

import pytest

from deals import models
from deals.editing import editor_create
from tests.browser import test_editor_flow
from tests.browser.test_editor_flow import PASSWORD, _shot
from tests.factories import DealFactory

browser_page = test_editor_flow.browser_page  # the editor flow's Chromium page fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, base: str) -> None:
    editor_create(username="edna", email="edna@example.org", password=PASSWORD)
    page.goto(f"{base}/admin/")
    page.fill("#id_username", "edna")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.locator("#user-tools", has_text="edna").wait_for()


def _pick_country(page, select_id: str, search: str, name: str) -> None:
    page.locator(f"#{select_id} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(search)
    page.locator(".select2-container--open .select2-results__option", has_text=name).first.click()


def test_countries_are_picked_by_typing_and_saved(live_server, browser_page):
    page, base = browser_page, live_server.url
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))  # a CSP refusal or a script error
    _log_in(page, base)
    # A draft: a published deal would (rightly) refuse a country no quote states.
    deal = DealFactory(
        slug="acme-deal", title="Acme deal", countries=["US"], publication_status=models.PublicationStatus.DRAFT
    )
    page.goto(f"{base}/admin/deals/deal/{deal.pk}/change/")
    # The multi-select is hidden behind the picker; its chosen country shows as a tag.
    page.locator("#id_countries + .select2 .select2-selection__choice", has_text="United States of America").wait_for()
    _pick_country(page, "id_countries", "Austral", "Australia")
    page.locator(".field-countries").scroll_into_view_if_needed()
    _shot(page, "30-country-picker")
    page.click("input[name=_continue]")
    page.locator(".messagelist .success").wait_for()
    deal.refresh_from_db()
    assert sorted(c.code for c in deal.countries) == ["AU", "US"]

    # One country (a company's): typed, chosen, saved as its code; the slug was suggested from the name.
    page.goto(f"{base}/admin/deals/company/add/")
    page.locator("#id_name").press_sequentially("Lynas Rare Earths")  # typed: the slug follows each key
    page.select_option("#id_kind", "company")
    assert page.input_value("#id_slug") == "lynas-rare-earths"
    _pick_country(page, "id_country", "Malay", "Malaysia")
    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()
    company = models.Company.objects.get(slug="lynas-rare-earths")
    assert company.country.code == "MY"
    assert problems == []


def test_slugs_are_suggested_from_the_title_on_add_pages(live_server, browser_page):
    page, base = browser_page, live_server.url
    _log_in(page, base)
    for path, field, text, slug in [
        ("deal", "title", "MP Materials and DoD: price floor for NdPr", "mp-materials-and-dod-price-floor-for-ndpr"),
        ("facility", "name", "Fort Worth magnet plant", "fort-worth-magnet-plant"),
    ]:
        page.goto(f"{base}/admin/deals/{path}/add/")
        page.fill(f"#id_{field}", text)
        page.locator(f"#id_{field}").blur()
        assert page.input_value("#id_slug") == slug, path
