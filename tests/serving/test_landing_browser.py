"""The landing page ``/`` in a real browser (Debian Chromium) against a real gunicorn with DEBUG off.

On a database of its own, loaded with the real ``migrate`` and ``load_dataset``: first with no release (the page
says so), then after ``manage.py dataset_release``. The page must show what the dataset is, its licence and
citation, the release's files with working download links, the API's links and the published counts; its two
charts must carry their labels and figures as text (also with JavaScript off); the browser must log no error (a
CSP violation is one) and send no request to another host; the JSON-LD must parse and describe the release. A
full-page screenshot goes to artifacts/browser/landing.png (and docs/img/ with REEXAPI_DOC_SCREENSHOTS=1).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.browser.test_editor_flow import CHROMIUM, CHROMIUM_ARGS, _shot
from tests.serving import servers
from tests.serving.conftest import _load, _pg_drop, _suite_engine
from tests.serving.servers import PG_ADMIN_URL, manage, server_env, start_gunicorn

pytestmark = pytest.mark.browser

# The ports this test's server may use (the range reserved for it); the first free one is taken.
PORTS = range(8110, 8120)
PG_NAME = f"reexapi_landing_live_{os.getpid()}"


def _port_in_range() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {PORTS}")


@pytest.fixture(scope="module")
def landing_db():
    """A database of the dataset for this module only (a release is made in it)."""
    if _suite_engine() == "postgresql":
        _pg_drop(PG_NAME)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{PG_NAME}"')
        try:
            yield _load(f"postgres://postgres@127.0.0.1:5432/{PG_NAME}")
        finally:
            _pg_drop(PG_NAME)
        return
    with tempfile.TemporaryDirectory(prefix="reexapi-landing-") as directory:
        yield _load(f"sqlite:///{Path(directory) / 'landing.sqlite3'}")


@pytest.fixture(scope="module")
def server(landing_db, static_collected, monkeypatch_module):
    port = _port_in_range()
    monkeypatch_module.setattr(servers, "free_port", lambda: port)
    env = server_env(DATABASE_URL=landing_db, REEXAPI_PUBLIC_URL=f"http://127.0.0.1:{port}")
    server = start_gunicorn(env=env, workers=1, ready_path="/")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def _open(browser, url: str, *, javascript: bool = True):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, java_script_enabled=javascript)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.console_errors, page.responses, page.requests = [], [], []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("response", lambda r: page.responses.append((r.url, r.status)))
    response = page.goto(url)
    assert response.status == 200
    return page, response


def _assert_clean(page, port: int) -> None:
    assert page.console_errors == [], page.console_errors
    hosts = {urlsplit(url).netloc for url in page.requests if not url.startswith(("data:", "blob:"))}
    assert hosts == {f"127.0.0.1:{port}"}, hosts
    assert all(status < 400 for _, status in page.responses), page.responses


def _jsonld(page) -> dict:
    blocks = page.locator('script[type="application/ld+json"]')
    assert blocks.count() == 1
    return json.loads(blocks.first.text_content())


def _svg_texts(page, figure: str) -> list[str]:
    return [t.strip() for t in page.locator(f"#{figure} svg text").all_text_contents()]


def _expected_stage_bars(server) -> list[str]:
    """The stage chart's texts from the stats API's groups: most deals first, ties by name, the ten largest."""
    groups = json.loads(server.get("/api/v1/stats/deals/?group_by=stage").body)["groups"]
    out = []
    for group in sorted(groups, key=lambda g: (-g["deal_count"], g["label"]))[:10]:
        count = group["deal_count"]
        out += [group["label"], f"{count} deal" if count == 1 else f"{count} deals"]
    return out


def test_landing_page_before_and_after_the_first_release(browser, server):
    base = f"http://127.0.0.1:{server.port}"
    page, response = _open(browser, f"{base}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["link"] == '<https://creativecommons.org/licenses/by/4.0/>; rel="license"'
    page.get_by_text("No release has been published yet.").wait_for()
    assert "version" not in _jsonld(page) and _jsonld(page)["distribution"] == []
    _assert_clean(page, server.port)
    page.context.close()

    made = manage("dataset_release", env=server.env)
    assert made.returncode == 0
    releases = json.loads(server.get("/api/v1/releases/").body)
    latest = releases["results"][0]
    assert releases["latest"]["version"] == latest["version"]
    detail = json.loads(server.get(f"/api/v1/releases/{latest['version']}/").body)
    files = detail["files"]

    page, _ = _open(browser, f"{base}/")
    # What the dataset is, its licence and how to cite it.
    assert page.locator("h1").text_content() == "ReexAPI"
    assert page.get_by_role("heading", name="What it is").is_visible()
    licence = page.get_by_role("link", name="Creative Commons Attribution 4.0 International (CC-BY-4.0)")
    assert licence.get_attribute("href") == "https://creativecommons.org/licenses/by/4.0/"
    citation = page.locator("#citation").text_content()
    assert citation.startswith("ReexAPI editors. ReexAPI: critical-mineral deals with verbatim provenance [Data set].")
    assert f"Version {latest['version']}." in citation and citation.endswith(f"{base}/")
    # The latest release with its files, each downloadable with the size and SHA-256 shown.
    assert page.locator("#release-version").text_content() == latest["version"]
    rows = page.locator("#release-files tbody tr")
    assert rows.count() == len(files) > 3
    for i, file in enumerate(files):
        cells = rows.nth(i).locator("td").all_text_contents()
        assert cells == [file["name"], file["media_type"], str(file["size"]), file["sha256"]]
    link = page.get_by_role("link", name="records.jsonl", exact=True)
    downloaded = page.request.get(link.get_attribute("href"))
    records = next(f for f in files if f["name"] == "records.jsonl")
    assert downloaded.status == 200 and hashlib.sha256(downloaded.body()).hexdigest() == records["sha256"]
    # The API's links and the published counts, as the API's own lists count them.
    for name, path in (("API index (JSON)", "/api/v1/"), ("Swagger UI", "/api/docs/"), ("ReDoc", "/api/redoc/")):
        assert page.get_by_role("link", name=name).get_attribute("href") == path
    for path in ("/api/v1/deals/", "/api/v1/companies/", "/api/v1/facilities/", "/api/v1/sources/"):
        count = json.loads(server.get(path).body)["count"]
        assert page.locator(f'#counts a[href="{path}"] >> xpath=../../td').text_content() == str(count)
    # The charts' labels and figures are text in the SVG and agree with the stats API.
    value_texts = _svg_texts(page, "value-by-commodity")
    stage_texts = _svg_texts(page, "deals-by-stage")
    assert stage_texts == _expected_stage_bars(server)
    assert value_texts[0] == "Permanent magnets" and value_texts[1].startswith("$723 million (3 deals")
    # The JSON-LD describes the release: every file a DataDownload with its URL, format, size and SHA-256.
    data = _jsonld(page)
    assert data["@context"] == "https://schema.org" and data["@type"] == "Dataset"
    assert data["name"] == "ReexAPI: critical-mineral deals with verbatim provenance"
    assert data["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert data["creator"] == [{"@type": "Organization", "name": "ReexAPI editors"}]
    assert data["version"] == latest["version"] and data["dateModified"].startswith(latest["created"][:10])
    assert data["citation"] == citation and data["description"]
    assert [
        (d["@type"], d["name"], d["contentUrl"], d["encodingFormat"], d["contentSize"], d["sha256"])
        for d in data["distribution"]
    ] == [("DataDownload", f["name"], f["url"], f["media_type"], f"{f['size']} B", f["sha256"]) for f in files]
    _assert_clean(page, server.port)
    _shot(page, "landing", full_page=True)
    page.context.close()

    # Without JavaScript the charts read the same: they are drawn on the server.
    page, _ = _open(browser, f"{base}/", javascript=False)
    assert _svg_texts(page, "value-by-commodity") == value_texts
    assert _svg_texts(page, "deals-by-stage") == stage_texts
    assert page.locator("#deals-by-stage svg").is_visible()
    page.context.close()
