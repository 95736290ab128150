"""Admin login brute-force protection (django-axes, issue 8 §3): after AXES_FAILURE_LIMIT wrong passwords for one
username from one IP, that combination is locked out (even the right password is refused), the lockout is logged,
and ``axes_reset_username`` / ``axes_reset_ip`` unlock it. Real logins through the admin's login form."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.core.management import call_command

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "a-long-editor-pass-42"  # the editor fixture's (tests/admin/conftest.py)


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    """A cheap hasher, set before the editor is made: this module checks dozens of passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _login(client, username: str, password: str, ip: str = "192.0.2.10"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def _lock_out(client, username: str = "edna", ip: str = "192.0.2.10"):
    responses = [_login(client, username, "wrong-password", ip) for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert all(r.status_code == 200 for r in responses[:-1])  # the form again, with its error
    return responses[-1]


@pytest.mark.django_db
def test_defaults():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_COOLOFF_TIME == 1.0


def test_editor_logs_in_normally_even_after_a_typo(client, editor):
    assert _login(client, "edna", "typo").status_code == 200
    assert _login(client, "edna", "typo again").status_code == 200
    assert _logged_in(_login(client, "edna", PASSWORD))
    assert client.get("/admin/").status_code == 200


def test_a_success_resets_the_count(client, editor):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "edna", "wrong-password")
    assert _logged_in(_login(client, "edna", PASSWORD))
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "edna", "wrong-password").status_code == 200
    assert _logged_in(_login(client, "edna", PASSWORD))


def test_after_the_limit_the_right_password_is_refused_and_logged(client, editor, caplog):
    with caplog.at_level(logging.WARNING, logger="axes"):
        locked = _lock_out(client)
    assert locked.status_code == 429
    assert "Account locked: too many login attempts" in locked.content.decode()
    lockouts = [r for r in caplog.records if "Locking out" in r.getMessage()]
    assert len(lockouts) == 1 and lockouts[0].levelno == logging.WARNING
    assert "edna" in lockouts[0].getMessage() and "192.0.2.10" in lockouts[0].getMessage()

    refused = _login(client, "edna", PASSWORD)
    assert refused.status_code == 429
    assert client.get("/admin/").status_code == 302  # not logged in: back to the login page


def test_the_lockout_is_per_username_and_ip(client, editor):
    _lock_out(client)
    # The same editor from another address, and another name from the locked address, may still try.
    assert _logged_in(_login(client, "edna", PASSWORD, ip="192.0.2.11"))
    client.logout()
    assert _login(client, "someone-else", "whatever").status_code == 200


def test_axes_reset_username_unlocks(client, editor):
    _lock_out(client)
    assert _login(client, "edna", PASSWORD).status_code == 429
    call_command("axes_reset_username", "edna", verbosity=0)
    assert _logged_in(_login(client, "edna", PASSWORD))


def test_axes_reset_ip_unlocks(client, editor):
    _lock_out(client)
    call_command("axes_reset_ip", "192.0.2.10", verbosity=0)
    assert _logged_in(_login(client, "edna", PASSWORD))


def test_forged_x_forwarded_for_does_not_escape_the_lockout(client, editor):
    """X-Forwarded-For is untrusted by default (REEXAPI_TRUSTED_PROXIES=0): a new forged address each try still
    counts against the real one."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": "edna", "password": "wrong"},
            REMOTE_ADDR="192.0.2.10",
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        )
    assert _login(client, "edna", PASSWORD).status_code == 429
