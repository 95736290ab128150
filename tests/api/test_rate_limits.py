"""API rate limits (issue 8 §3): per client IP, on the shared cache, every answer counted, 429 with Retry-After and
RateLimit-* headers; X-Forwarded-For trusted only for the configured number of proxies.

The last test runs the documented default limit against a real gunicorn (two workers sharing Redis) and sends it
2,000 requests from one client.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from deals.api.throttling import rate_parse
from tests.factories import DealFactory
from tests.redis_dbs import redis_db

DEALS = "/api/v1/deals/"
REDIS_DB = redis_db(12)  # this test module's own Redis database


def _limit_headers(response) -> tuple[int, int, int]:
    return int(response["RateLimit-Limit"]), int(response["RateLimit-Remaining"]), int(response["RateLimit-Reset"])


@pytest.fixture
def limit_5(settings):
    settings.REEXAPI_API_RATE_LIMIT = "5/minute"


@pytest.mark.django_db
@pytest.mark.usefixtures("limit_5")
def test_limit_counts_down_then_429_with_retry_after(client):
    DealFactory()
    for remaining in (4, 3, 2, 1, 0):
        response = client.get(DEALS)
        assert response.status_code == 200
        limit, left, reset = _limit_headers(response)
        assert (limit, left) == (5, remaining)
        assert 1 <= reset <= 60
    response = client.get(DEALS)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    retry = int(response["Retry-After"])
    assert 1 <= retry <= 60
    assert _limit_headers(response)[:2] == (5, 0)
    assert response.json() == {
        "detail": f"Too many requests: at most 5 requests per 60 seconds per client. Retry in {retry} seconds."
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("limit_5")
def test_cached_hits_304s_and_errors_count_too(client):
    """A client hammering one cached URL, or sending only bad queries, is limited like any other: the 304 and the
    replayed 200 are answered by the response cache (deals/caching.py), before any view."""
    DealFactory()
    first = client.get(DEALS)
    assert client.get(DEALS).status_code == 200  # replayed from the response cache
    assert client.get(DEALS, headers={"If-None-Match": first["ETag"]}).status_code == 304
    assert client.get(DEALS, {"nope": "1"}).status_code == 400
    assert client.get("/api/v1/no-such-thing/").status_code == 404
    limited = client.get(DEALS, headers={"If-None-Match": first["ETag"]})
    assert limited.status_code == 429
    # The 429 is not cached or given an ETag; the limit is the client's, not the URL's.
    assert not limited.has_header("ETag")


@pytest.mark.django_db
@pytest.mark.usefixtures("limit_5")
def test_each_client_ip_has_its_own_budget(client):
    for _ in range(5):
        client.get("/api/v1/", REMOTE_ADDR="192.0.2.1")
    assert client.get("/api/v1/", REMOTE_ADDR="192.0.2.1").status_code == 429
    other = client.get("/api/v1/", REMOTE_ADDR="192.0.2.2")
    assert other.status_code == 200
    assert other["RateLimit-Remaining"] == "4"


@pytest.mark.django_db
@pytest.mark.usefixtures("limit_5")
def test_x_forwarded_for_is_ignored_by_default(client):
    """Untrusted by default: rotating a forged X-Forwarded-For does not buy a new budget."""
    assert settings.REEXAPI_TRUSTED_PROXIES == 0
    for n in range(5):
        assert client.get("/api/v1/", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code == 200
    assert client.get("/api/v1/", headers={"X-Forwarded-For": "198.51.100.99"}).status_code == 429


@pytest.mark.django_db
@pytest.mark.usefixtures("limit_5")
def test_trusted_proxy_hops_pick_the_client_from_the_right(client, settings):
    """With one trusted proxy, the client is the address that proxy appended (the rightmost); what the client
    wrote further left is ignored, so forging it does not help."""
    settings.REEXAPI_TRUSTED_PROXIES = 1
    for n in range(5):
        response = client.get("/api/v1/", headers={"X-Forwarded-For": f"10.0.0.{n}, 203.0.113.7"})
        assert response.status_code == 200
    assert client.get("/api/v1/", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    # Another client behind the same proxy (same REMOTE_ADDR) has its own budget.
    assert client.get("/api/v1/", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 200
    # Two trusted hops: the second address from the right.
    settings.REEXAPI_TRUSTED_PROXIES = 2
    response = client.get("/api/v1/", headers={"X-Forwarded-For": "203.0.113.7, 192.0.2.50"})
    assert response.status_code == 429
    # A forwarded value that is not an address falls back to REMOTE_ADDR (127.0.0.1, still unspent).
    assert client.get("/api/v1/", headers={"X-Forwarded-For": "not-an-ip, junk"}).status_code == 200


@pytest.mark.django_db
def test_window_ends_and_the_budget_returns(client, settings):
    settings.REEXAPI_API_RATE_LIMIT = "2/second"
    assert client.get("/api/v1/").status_code == 200
    assert client.get("/api/v1/").status_code == 200
    assert client.get("/api/v1/").status_code == 429
    time.sleep(1.2)
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert response["RateLimit-Remaining"] == "1"


@pytest.mark.django_db
def test_off_disables_the_limit_and_its_headers(client, settings):
    settings.REEXAPI_API_RATE_LIMIT = "off"
    for _ in range(3):
        response = client.get("/api/v1/")
        assert response.status_code == 200
        assert not response.has_header("RateLimit-Limit")


@pytest.mark.django_db
@pytest.mark.usefixtures("limit_5")
def test_the_admin_is_not_rate_limited_by_the_api_limit(client):
    for _ in range(7):
        response = client.get("/admin/login/")
        assert response.status_code == 200
        assert not response.has_header("RateLimit-Limit")


@pytest.mark.django_db
@pytest.mark.usefixtures("limit_5")
def test_a_dead_cache_lets_requests_through(client):
    """Nothing listens on port 1: every cache call fails. The limit gives way rather than take the API down."""
    backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    dead = {"default": backend, "responses": backend}
    with override_settings(CACHES=dead):
        for _ in range(7):
            response = client.get("/api/v1/")
            assert response.status_code == 200
            assert not response.has_header("RateLimit-Limit")


@pytest.fixture
def silent_redis():
    """A listener that accepts connections and never answers: a stalled Redis."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


def test_a_stalled_cache_costs_one_request_its_timeout_then_is_skipped(silent_redis, settings, rf):
    """The first request waits for the cache's socket timeout (0.25 s); the next ones skip the limit without
    touching the cache, until REEXAPI_CACHE_RETRY_AFTER has passed and the cache is tried again. The middleware is
    driven directly, with a trivial inner app, so only its own cache calls are timed."""
    from django.http import HttpResponse

    from deals.api.throttling import ApiRateLimitMiddleware

    settings.REEXAPI_API_RATE_LIMIT = "5/minute"
    settings.REEXAPI_CACHE_RETRY_AFTER = 1
    options = {"socket_connect_timeout": 0.25, "socket_timeout": 0.25, "retry_on_timeout": False}
    stalled = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{silent_redis}/0",
            "OPTIONS": options,
        }
    }
    with override_settings(CACHES=stalled):
        middleware = ApiRateLimitMiddleware(lambda request: HttpResponse("ok"))

        def timed() -> tuple[float, object]:
            started = time.monotonic()
            response = middleware(rf.get("/api/v1/"))
            return time.monotonic() - started, response

        first, response = timed()
        assert response.status_code == 200 and not response.has_header("RateLimit-Limit")
        assert 0.2 <= first < 1.0
        for _ in range(20):
            elapsed, response = timed()
            assert response.status_code == 200
            assert elapsed < 0.05
        time.sleep(1.1)
        retried, _ = timed()
        assert retried >= 0.2  # tried again after the retry interval


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("600/minute", (600, 60)), ("10/s", (10, 1)), ("5000/hour", (5000, 3600)), ("1/day", (1, 86400)), ("off", None)],
)
def test_rate_parse(rate, parsed):
    assert rate_parse(rate) == parsed


@pytest.mark.parametrize("rate", ["600", "x/minute", "0/minute", "10/fortnight"])
def test_rate_parse_refuses_nonsense(rate):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="REEXAPI_API_RATE_LIMIT"):
        rate_parse(rate)


# --- A real gunicorn: 2,000 requests from one client ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_flush_db() -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()


@pytest.fixture
def gunicorn_on_redis(tmp_path):
    """gunicorn with two workers sharing Redis (its own database index), the documented default rate limit."""
    _redis_flush_db()
    port = _free_port()
    base = Path(settings.BASE_DIR)
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "rate-limit-test",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        # The index reads only the dataset version row: a migrated, empty SQLite file is enough.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    }
    for name in ("REEXAPI_API_RATE_LIMIT", "REEXAPI_TRUSTED_PROXIES"):
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=base, env=env, check=True, capture_output=True
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    # The server logs one line per request: to a file, since an unread pipe fills up and blocks the workers.
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 (closed after the server stops)
    process = subprocess.Popen(
        [str(gunicorn), "reexapi.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning"],
        cwd=base,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        log.close()
        pytest.fail(f"gunicorn did not start: {(tmp_path / 'gunicorn.log').read_text()}")
    yield port
    process.terminate()
    process.wait(timeout=30)
    log.close()
    _redis_flush_db()


def _get(port: int, path: str) -> tuple[int, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()


def test_two_thousand_requests_from_one_client_against_gunicorn(gunicorn_on_redis, capsys):
    """The default limit (600/minute) holds exactly across two workers: the counter is Redis' atomic incr."""
    port = gunicorn_on_redis
    limit, window = rate_parse(settings.REEXAPI_API_RATE_LIMIT)
    assert (limit, window) == (600, 60), "run with the documented default"
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: _get(port, "/api/v1/"), range(2000)))
    elapsed = time.monotonic() - started
    statuses = Counter(status for status, _ in results)
    assert elapsed < window, "the run must fit in one window for the count to be exact"
    assert statuses == {200: 600, 429: 1400}
    remaining = sorted(int(headers["ratelimit-remaining"]) for status, headers in results if status == 200)
    assert remaining == list(range(600))  # every allowed request got its own, exact count
    limited = [headers for status, headers in results if status == 429]
    assert all(1 <= int(headers["retry-after"]) <= window for headers in limited)
    assert all(headers["content-type"] == "application/json" for headers in limited)
    with capsys.disabled():
        print(
            f"\n2,000 requests from one client in {elapsed:.2f} s ({2000 / elapsed:.0f} req/s, 8 connections, "
            f"2 gunicorn workers, Redis): {statuses[200]} x 200, {statuses[429]} x 429"
        )


def test_client_ip_is_none_without_a_valid_address(rf, settings):
    """django-axes stores the address in an IP column (checked by PostgreSQL): never an invented string."""
    from deals.client_ip import client_ip_get

    assert client_ip_get(rf.get("/", REMOTE_ADDR="")) is None
    assert client_ip_get(rf.get("/", REMOTE_ADDR="2001:db8::1")) == "2001:db8::1"
    settings.REEXAPI_TRUSTED_PROXIES = 1
    assert client_ip_get(rf.get("/", REMOTE_ADDR="", HTTP_X_FORWARDED_FOR="junk")) is None
