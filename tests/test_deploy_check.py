"""``manage.py check --deploy --fail-level WARNING`` passes with the production environment the README documents,
and fails without it (so the check is not vacuous)."""

from __future__ import annotations

import secrets

from tests.serving.servers import manage, server_env

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "api.example.org",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://api.example.org",
    "DJANGO_TRUST_X_FORWARDED_PROTO": "true",
    "DJANGO_SECURE_SSL_REDIRECT": "true",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_PRELOAD": "true",
}


def test_deploy_check_passes_with_the_documented_production_environment():
    env = server_env(**PRODUCTION)
    del env["DJANGO_SECURE_COOKIES"]  # production keeps the default: secure cookies
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_fails_without_ssl_redirect():
    env = server_env(**{**PRODUCTION, "DJANGO_SECURE_SSL_REDIRECT": "false"})
    del env["DJANGO_SECURE_COOKIES"]
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, check=False)
    assert result.returncode != 0
    assert "security.W008" in result.stderr
