"""The editor's job end to end (issue 7), in a real browser against a real server process and a real database.

A new article about an existing, published fixture deal (Torngat Metals and VAC):

1. Log in as an editor (made with ``manage.py create_editor``) and add the article by pasting its text.
2. Attach it as a second source to the published deal: evidence rows on the deal's change page.
3. Change the deal's type (MOU -> offtake) and date (August 2025 -> 14 October 2025). A change with no quote is
   refused on the field first; then each change is backed by a new quote from the article.
4. Publish: the deal was published all along; the changelist's publish action re-checks its evidence.
5. Stop the server and run the README's serve set-up again (``scripts/serve.sh``) on the same database, then start
   the server again.
6. The change and the quotes are still there, and the API shows each old quote as a claim of the old value.

On the way, the issue's public behaviour: a duplicate is refused before it is saved; saved anyway it is a draft
(404 in the API); merged into the original it answers 301 there; a withdrawn deal answers 410 with the reason.
These survive step 5 too.

The server is ``manage.py runserver`` in a subprocess (the serve set-up must reach its database from another
process), on a scratch database of its own: a temporary SQLite file, or on PostgreSQL a scratch database next to
the suite's one, created and dropped here. Screenshots go to artifacts/browser/ (and docs/img/ with
REEXAPI_DOC_SCREENSHOTS=1).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.browser.test_editor_flow import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, _autocomplete, _shot, _tick

pytestmark = [pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-editor-pass-43"
DEAL = "torngat-metals-vac-dysprosium-terbium-mou"
DEAL_TITLE = "Torngat Metals and VAC sign an MOU on dysprosium and terbium from Strange Lake"
OLD_QUOTE = (
    "late last month Torngat Metals of Canada and Germany’s VAC signed an MOU (opens in a new tab) to secure "
    "dysprosium and terbium supplies from Quebec’s Strange Lake deposit."
)
OLD_SOURCE = "rare-earth-update-2025-09-08-12"
WITHDRAWN = "gm-offtake-with-noveon"
WITHDRAW_REASON = "The update names this offtake only in passing; withdrawn until a source describes it."

# Our own short test article (not one of the dataset's).
SOURCE = "torngat-vac-offtake-2025-10-14"
SOURCE_TITLE = "Torngat Metals turns VAC memorandum into offtake agreement"
ARTICLE = """Torngat Metals turns VAC memorandum into offtake agreement

QUEBEC CITY, 14 October 2025 — Torngat Metals said on Tuesday that it has turned its memorandum of
understanding with VAC into a long-term offtake agreement for dysprosium and terbium oxide from the Strange
Lake project. The agreement was signed on 14 October 2025, the company said.
"""
TYPE_QUOTE = "it has turned its memorandum of understanding with VAC into a long-term offtake agreement"
STORED_TYPE_QUOTE = "it has turned its memorandum of\nunderstanding with VAC into a long-term offtake agreement"
DATE_QUOTE = "The agreement was signed on 14 October 2025"


# The screenshots the editors' guide shows; the others stay in artifacts/browser/.
DOC_SHOTS = {"21-unquoted-change-refused", "22-second-source-saved"}


def _snap(page, name: str, *, full_page: bool = False) -> None:
    if name in DOC_SHOTS:
        _shot(page, name, full_page=full_page)
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


# --- a real server on a scratch database ---------------------------------------------------------------------


def _pg_url(name: str) -> str:
    s = connection.settings_dict
    return f"postgresql://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _pg_admin(*statements: str) -> None:
    with psycopg.connect(_pg_url("postgres"), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture
def server_env(tmp_path):
    """The environment of every subprocess: a scratch database, local-memory cache (the default), DEBUG on so
    that runserver serves the admin's static files, and plain-HTTP cookies."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(DJANGO_DEBUG="true", DJANGO_SECURE_COOKIES="false", REEXAPI_NO_SERVE="1")
    env.setdefault("DJANGO_SECRET_KEY", "e2e-" + secrets.token_urlsafe(32))
    if connection.vendor == "postgresql":
        # Named after the suite's own database, so that parallel suites on other databases never collide.
        name = connection.settings_dict["NAME"].removeprefix("test_") + "_lifecycle"
        _pg_admin(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = _pg_url(name).replace("postgresql://", "postgres://", 1)
        try:
            yield env
        finally:
            _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        return
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    yield env


def _run(env: dict, *command: str) -> subprocess.CompletedProcess:
    result = subprocess.run(list(command), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _serve_setup(env: dict) -> str:
    """The README's serve command without the final runserver: set-up, migrate, load_dataset, verify_provenance."""
    return _run(env, "bash", "scripts/serve.sh").stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _server(env: dict, log: Path):
    """``manage.py runserver`` on a free loopback port until the block ends; yields its base URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text(errors="replace")
            try:
                with urllib.request.urlopen(f"{base}/api/v1/", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, "the server did not answer within 60 s"
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture
def browser_context():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = chromium.new_context(viewport={"width": 1100, "height": 760})
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()
            chromium.close()


# --- API helpers ---------------------------------------------------------------------------------------------


def _api(page, url: str):
    """(status, JSON body, headers) of a GET, without following redirects."""
    response = page.request.get(url, max_redirects=0)
    return response.status, response.json(), response.headers


def _field(body: dict, name: str) -> dict:
    entries = [entry for entry in body["field_provenance"] if entry["field"] == name]
    assert len(entries) == 1, (name, body["field_provenance"])
    return entries[0]


def _quotes(entry: dict) -> list[tuple[str, str]]:
    return [(quote["source"], quote["quote"]) for quote in entry["quotes"]]


def _claims(entry: dict) -> list[tuple[object, list[tuple[str, str]]]]:
    return [(claim["value"], _quotes(claim)) for claim in entry["claims"]]


def _assert_edit_kept(page, base: str) -> dict:
    """The edited deal in the API: new values, both sources' quotes, the old quote as a claim of the old value."""
    status, body, _ = _api(page, f"{base}/api/v1/deals/{DEAL}/")
    assert status == 200, body
    assert (body["deal_type"], body["announced_date"], body["announced_date_precision"]) == (
        "offtake",
        "2025-10-14",
        "day",
    )
    assert {item["source"]["slug"] for item in body["provenance"]} == {OLD_SOURCE, SOURCE}
    by_quote = {item["quote"]: item for item in body["provenance"]}
    assert set(by_quote) == {OLD_QUOTE, STORED_TYPE_QUOTE, DATE_QUOTE}
    assert by_quote[STORED_TYPE_QUOTE]["fields"] == ["deal_type"]
    assert by_quote[DATE_QUOTE]["fields"] == ["announced_date", "announced_date_precision"]

    deal_type = _field(body, "deal_type")
    assert (deal_type["label"], deal_type["value"], deal_type["supported"]) == ("Deal type", "offtake", True)
    assert _quotes(deal_type) == [(SOURCE, STORED_TYPE_QUOTE)]
    assert _claims(deal_type) == [("mou", [(OLD_SOURCE, OLD_QUOTE)])]
    date = _field(body, "announced_date")
    assert (date["value"], date["supported"]) == ("2025-10-14", True)
    assert _quotes(date) == [(SOURCE, DATE_QUOTE)]
    assert _claims(date) == [("2025-08-01", [(OLD_SOURCE, OLD_QUOTE)])]
    precision = _field(body, "announced_date_precision")
    assert (precision["value"], _quotes(precision)) == ("day", [(SOURCE, DATE_QUOTE)])
    assert _claims(precision) == [("month", [(OLD_SOURCE, OLD_QUOTE)])]
    # Fields the article does not touch are still stated by the old quote, with no claim beside them.
    title = _field(body, "title")
    assert (title["value"], _quotes(title), title["claims"]) == (DEAL_TITLE, [(OLD_SOURCE, OLD_QUOTE)], [])
    return body


def _assert_public_behaviour(page, base: str, duplicate: str) -> None:
    status, body, headers = _api(page, f"{base}/api/v1/deals/{duplicate}/")
    assert status == 301, body
    assert headers["location"] == f"{base}/api/v1/deals/{DEAL}/"
    assert body["slug"] == DEAL
    status, body, _ = _api(page, f"{base}/api/v1/deals/{WITHDRAWN}/")
    assert status == 410, body
    assert body["reason"] == WITHDRAW_REASON
    assert body["slug"] == WITHDRAWN and body["withdrawn_at"]
    listed = page.request.get(f"{base}/api/v1/deals/?page_size=100").json()
    slugs = {deal["slug"] for deal in listed["results"]}
    assert DEAL in slugs
    assert duplicate not in slugs and WITHDRAWN not in slugs


# --- the flow ------------------------------------------------------------------------------------------------


def test_an_editor_adds_a_second_source_to_a_published_deal_and_the_edit_survives_the_serve_set_up(
    server_env, browser_context, tmp_path
):
    env = server_env
    log = tmp_path / "server.log"
    report = _serve_setup(env)
    assert "deal: 11 (11 created" in report, report
    _run(env, sys.executable, "manage.py", "create_editor", "edna", "--password", PASSWORD)
    page = browser_context.new_page()
    loads: list[str] = []
    page.on("load", lambda loaded: loads.append(loaded.url))

    with _server(env, log) as base:
        status, before, _ = _api(page, f"{base}/api/v1/deals/{DEAL}/")
        assert status == 200
        assert (before["deal_type"], before["announced_date"], before["announced_date_precision"]) == (
            "mou",
            "2025-08-01",
            "month",
        )

        # 1. Log in, and add the article by pasting its text.
        page.goto(f"{base}/admin/")
        page.fill("#id_username", "edna")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.locator("#user-tools", has_text="edna").wait_for()
        page.goto(f"{base}/admin/deals/source/add/")
        page.fill("#id_slug", SOURCE)
        page.fill("#id_title", SOURCE_TITLE)
        page.select_option("#id_kind", "news")
        page.fill("#id_publisher", "Example Wire")
        page.fill("#id_published_date", "2025-10-14")
        page.select_option("#id_published_date_precision", "day")
        page.fill("#id_pasted_text", ARTICLE)
        _snap(page, "20-second-source-add", full_page=True)
        page.click("input[name=_save]")
        page.locator(".messagelist .success").wait_for()

        # 2. The published deal, found on the deal list; its fixture quote is its only evidence so far.
        page.goto(f"{base}/admin/deals/deal/?q=torngat")
        page.locator("#result_list a", has_text=DEAL_TITLE).click()
        page.locator("#id_title").wait_for()
        change_url = page.url
        assert page.locator(".field-publication_status .readonly", has_text="Published").count() == 1
        assert page.locator("a.publish-link").count() == 0  # already published: no Publish button
        assert page.input_value("#id_evidence-0-quote") == OLD_QUOTE

        # 3. Change the type and the date. A new quote backs the type only: the save is refused on the date.
        page.select_option("#id_deal_type", "offtake")
        page.fill("#id_announced_date", "2025-10-14")
        page.select_option("#id_announced_date_precision", "day")
        _autocomplete(page, "id_evidence-1-source", "memorandum", SOURCE_TITLE)
        page.fill("#id_evidence-1-quote", TYPE_QUOTE)
        _tick(page, 1, "Deal type")
        page.click("input[name=_continue]")
        error = page.locator("#id_announced_date_error", has_text="Announced date: no current quote supports")
        error.wait_for()
        precision = page.locator("#id_announced_date_precision_error", has_text="Announced date precision: no current")
        assert precision.count() == 1
        assert page.locator(".field-deal_type .errorlist").count() == 0  # the type has its quote
        error.scroll_into_view_if_needed()
        _snap(page, "21-unquoted-change-refused")
        status, body, _ = _api(page, f"{base}/api/v1/deals/{DEAL}/")
        assert (body["deal_type"], body["announced_date"]) == ("mou", "2025-08-01")  # nothing was written

        # A second new quote states the date; now the save goes through.
        page.locator(".evidence-inline .add-row a").click()
        _autocomplete(page, "id_evidence-2-source", "memorandum", SOURCE_TITLE)
        page.fill("#id_evidence-2-quote", DATE_QUOTE)
        _tick(page, 2, "Announced date", "Announced date precision")
        page.click("input[name=_continue]")
        page.locator(".messagelist .success").wait_for()
        assert page.input_value("#id_deal_type") == "offtake"
        assert page.input_value("#id_announced_date") == "2025-10-14"
        page.locator("#evidence-group").scroll_into_view_if_needed()
        _snap(page, "22-second-source-saved")

        # 4. Publish: the changelist action checks the evidence again (the change page has no Publish button for
        # a record that is already published).
        page.goto(f"{base}/admin/deals/deal/?q=torngat")
        page.locator("#result_list tr", has_text=DEAL_TITLE).locator("input[name=_selected_action]").check()
        page.select_option("select[name=action]", "publish_selected")
        page.click("button[name=index]")
        page.locator(".messagelist .success", has_text="1 record(s) published.").wait_for()
        assert page.locator(".messagelist .error").count() == 0
        _snap(page, "23-published")
        body = _assert_edit_kept(page, base)

        # The public behaviour. A duplicate of the deal is refused before it is saved, linking the original.
        page.goto(f"{base}/admin/deals/deal/add/")
        duplicate = "torngat-vac-offtake-entered-twice"
        page.fill("#id_slug", duplicate)
        page.fill("#id_title", "Torngat Metals and VAC offtake (entered twice)")
        page.select_option("#id_deal_type", "offtake")
        page.select_option("#id_status", "signed")
        _autocomplete(page, "id_party_links-0-company", "Torngat", "Torngat Metals")
        page.select_option("#id_party_links-0-role", "partner")
        _autocomplete(page, "id_party_links-1-company", "VAC", "VAC")
        page.select_option("#id_party_links-1-role", "partner")
        page.click("input[name=_save]")
        refusal = page.locator(".errorlist", has_text="A deal of this type with the same parties already exists")
        # Said above the parties and again on the "This is a different deal" checkbox that resolves it.
        link = refusal.locator("a", has_text=DEAL).first
        link.wait_for()
        assert page.locator("#id_confirm_different_deal_error a", has_text=DEAL).count() == 1
        assert link.get_attribute("href") == urllib.parse.urlsplit(change_url).path
        _snap(page, "24-duplicate-refused")
        # Saved anyway (the editor wrongly confirms it is another deal): a draft, which the API does not know.
        page.check("#id_confirm_different_deal")
        page.click("input[name=_continue]")
        page.locator(".messagelist .success").wait_for()
        status, body, _ = _api(page, f"{base}/api/v1/deals/{duplicate}/")
        assert status == 404, body
        # Merged into the original: its URL answers 301 there.
        page.click("a.merge-link")
        page.select_option("#id_survivor", label=f"{DEAL_TITLE} ({DEAL})")
        page.locator(".publication-action input[type=submit]").click()
        page.locator(".messagelist .success", has_text="was merged into").wait_for()
        _snap(page, "25-duplicate-merged")
        # Another deal withdrawn with a reason: 410 with the reason and the date.
        page.goto(f"{base}/admin/deals/deal/?q=noveon")
        page.locator("#result_list a", has_text="GM's magnet offtake with Noveon").click()
        page.click("a.withdraw-link")
        page.fill("#id_reason", WITHDRAW_REASON)
        page.locator(".publication-action input[type=submit]").click()
        page.locator(".messagelist .success", has_text="410").wait_for()
        _assert_public_behaviour(page, base, duplicate)
        _assert_edit_kept(page, base)

    # 5. Stop the server, run the README's serve set-up again on the same database, and start the server again.
    report = _serve_setup(env)
    assert "Provenance OK" in report, report
    # The loader names the edited deal and the withdrawn one as left alone, with who changed what.
    kept = [line.strip() for line in report.splitlines() if line.strip().startswith("- deal '")]
    assert {line.split(" at ")[0] for line in kept} == {
        f"- deal '{DEAL}': changed (announced_date, announced_date_precision, deal_type, evidence) by edna",
        f"- deal '{WITHDRAWN}': changed (publication_status, withdrawn_at, withdrawn_reason) by edna",
    }, report

    with _server(env, log) as base:
        # 6. The change and all three quotes are still there, the old quote a claim of the old values.
        body = _assert_edit_kept(page, base)
        _assert_public_behaviour(page, base, duplicate)
        page.goto(change_url.replace(change_url.split("/admin/")[0], base))
        assert page.input_value("#id_deal_type") == "offtake"
        assert page.input_value("#id_announced_date") == "2025-10-14"
        quotes = page.locator(".evidence-inline textarea[name$='-quote']")
        assert {quotes.nth(i).input_value() for i in range(quotes.count())} == {
            OLD_QUOTE,
            STORED_TYPE_QUOTE,
            DATE_QUOTE,
            "",  # the empty row for a new quote
        }
        page.goto(f"{base}/api/v1/deals/{DEAL}/")
        _snap(page, "26-api-claims", full_page=False)
    # For the record of a run: the deal as the API shows it, and how many pages the editor loaded.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "lifecycle-deal.json").write_text(json.dumps(body, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"page loads: {len(loads)}")
