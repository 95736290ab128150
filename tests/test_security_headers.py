"""Security headers on every page (reexapi/settings.py): CSP, Permissions-Policy, COOP, HSTS over HTTPS only."""

from __future__ import annotations

import pytest

PAGES = ["/", "/api/v1/", "/api/v1/deals/", "/api/docs/", "/api/redoc/", "/api/schema/", "/admin/login/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_security_headers(client, path):
    for response in (client.get(path), client.get(path)):  # the second one of an API URL is a cached replay
        assert response.status_code == 200, path
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert "unsafe-eval" not in csp
        assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert not response.has_header("Strict-Transport-Security")  # plain HTTP


@pytest.mark.django_db
def test_swagger_ui_has_no_inline_script(client):
    """Its start-up code comes from ?script= (same origin), so script-src needs no 'unsafe-inline'."""
    html = client.get("/api/docs/").content.decode()
    assert "<script>" not in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


@pytest.mark.django_db
def test_hsts_when_serving_https_behind_a_proxy(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/api/v1/", headers={"X-Forwarded-Proto": "https"})
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert not client.get("/api/v1/").has_header("Strict-Transport-Security")


@pytest.mark.django_db
def test_ssl_redirect_behind_a_proxy(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/api/v1/deals/", headers={"X-Forwarded-Proto": "http"})
    assert response.status_code == 301 and response["Location"] == "https://testserver/api/v1/deals/"
    assert client.get("/api/v1/deals/", headers={"X-Forwarded-Proto": "https"}).status_code == 200
