"""Swagger UI, ReDoc and the admin in a real browser against a real gunicorn with DEBUG off.

The server runs the production configuration: static files collected (``collectstatic``) and served by WhiteNoise,
the Content-Security-Policy and the other security headers on. Each page must render, load every asset it asks
for from this server (200, nothing from another host), and log no error to the console: a CSP violation
("Refused to load…", "Refused to execute…") is a console error in Chromium, so none may appear.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from tests.browser.test_editor_flow import CHROMIUM, CHROMIUM_ARGS
from tests.serving.servers import server_env, shell, start_gunicorn

pytestmark = pytest.mark.browser
PASSWORD = "a-long-browser-pass-42"


@pytest.fixture(scope="module")
def production_server(served_url, static_collected):
    server = start_gunicorn(env=server_env(DATABASE_URL=served_url), workers=2)
    shell(
        "from django.contrib.auth.models import User\n"
        "user, _ = User.objects.get_or_create(username='browser-admin')\n"
        "user.is_staff = user.is_superuser = True\n"
        f"user.set_password({PASSWORD!r})\n"
        "user.save()\n",
        env=server.env,
    )
    yield server
    server.stop()


@pytest.fixture
def page(production_server):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1100, "height": 760})
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.console_errors = []
        page.responses = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        page.on("response", lambda r: page.responses.append((r.url, r.status)))
        try:
            yield page
        finally:
            context.close()
            browser.close()


# ReDoc's sidebar always tries to show Redocly's logo from cdn.redoc.ly (and hides it when it fails to load): the
# CSP blocks that request, which is the point, since no request may leave this server. That one violation is
# expected; any other is a failure.
REDOC_LOGO_BLOCKED = "https://cdn.redoc.ly/redoc/logo-mini.svg' violates the following Content Security Policy"


def _assert_clean(page, port: int, *, allowed: tuple[str, ...] = ()) -> None:
    """No console error (CSP violations included), every response from this server, no failed asset."""
    errors = [text for text in page.console_errors if not any(a in text for a in allowed)]
    assert errors == [], (errors, [r for r in page.responses if r[1] >= 400])
    hosts = {urlsplit(url).netloc for url, _ in page.responses if not url.startswith(("data:", "blob:"))}
    assert hosts == {f"127.0.0.1:{port}"}, hosts
    static = [(url, status) for url, status in page.responses if "/static/" in url]
    assert static, "no static file was loaded"
    assert all(status == 200 for _, status in static), static


def test_swagger_ui_works_under_the_csp(page, production_server):
    base = f"http://127.0.0.1:{production_server.port}"
    response = page.goto(f"{base}/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    page.locator(".opblock-summary").first.wait_for()
    assert page.locator(".opblock-summary-path", has_text="/api/v1/deals/").count() >= 1
    # The stylesheet applied: Swagger UI's CSS lays the operation blocks out as flex rows.
    assert page.locator(".opblock-summary").first.evaluate("e => getComputedStyle(e).display") == "flex"
    page.locator(".opblock-summary", has_text="/api/v1/deals/").first.click()
    page.get_by_role("button", name="Try it out").first.click()
    page.get_by_role("button", name="Execute").first.click()
    page.locator(".live-responses-table .response-col_status", has_text="200").first.wait_for()
    _assert_clean(page, production_server.port)


def test_redoc_works_under_the_csp(page, production_server):
    base = f"http://127.0.0.1:{production_server.port}"
    page.goto(f"{base}/api/redoc/")
    page.get_by_role("heading", name="List deals").first.wait_for()
    assert page.locator("h1", has_text="ReexAPI").count() >= 1
    _assert_clean(page, production_server.port, allowed=(REDOC_LOGO_BLOCKED,))


def test_the_admin_works_with_its_styles_and_scripts(page, production_server):
    base = f"http://127.0.0.1:{production_server.port}"
    page.goto(f"{base}/admin/login/")
    # The admin's stylesheet applied: its header is not the browser's default transparent block.
    assert page.locator("#header").evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    page.fill("#id_username", "browser-admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.get_by_role("link", name="Deals", exact=True).first.click()
    page.locator("#result_list").wait_for()
    # The admin's JavaScript runs: ticking the select-all box selects every row (actions.js).
    page.locator("#action-toggle").check()
    assert page.locator("tr.selected").count() == page.locator("#result_list tbody tr").count() > 0
    _assert_clean(page, production_server.port)
