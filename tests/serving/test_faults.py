"""Real faults under a real gunicorn: a database that never answers, refuses, stalls or kills connections, and a
Redis that never answers or is gone. Each costs a request a bounded time, is answered with a clear status (a JSON
503 with Retry-After for the API, a plain 503 page for the admin), is logged with its traceback, and heals by
itself once the fault is gone.

The stall is real: another connection holds ACCESS EXCLUSIVE locks on the tables the requests need, so PostgreSQL
makes them wait until the statement timeout (3 s by default) cancels them. PostgreSQL is used whatever the suite's
engine, because these faults are network and server faults.
"""

from __future__ import annotations

import json
import subprocess
import time

import psycopg
import pytest
import redis

from tests.serving.servers import SilentListener, closed_port, server_env, start_gunicorn

RETRY_AFTER = "2"
# A session cookie makes every admin page read the session table, i.e. touch the database.
ADMIN = ("/admin/deals/deal/", {"Cookie": "sessionid=0123456789abcdef0123456789abcdef"})


def _assert_api_503(response):
    assert response.status == 503, (response.status, response.body[:300])
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.body) == {"detail": "The database is unavailable. Please try again shortly."}
    assert response.headers["retry-after"] == RETRY_AFTER
    assert response.seconds < 5, response.seconds


def _assert_admin_503(response):
    assert response.status == 503, (response.status, response.body[:300])
    assert response.headers["content-type"].startswith("text/html")
    assert b"Service unavailable" in response.body
    assert response.headers["retry-after"] == RETRY_AFTER
    assert response.seconds < 5, response.seconds


def _log_lines(server) -> list[dict]:
    lines = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.mark.parametrize("fault", ["listener-that-never-answers", "closed-port"])
def test_an_unreachable_database_is_a_fast_503_and_logged(fault, static_collected):
    listener = SilentListener() if fault == "listener-that-never-answers" else None
    port = listener.port if listener else closed_port()
    env = server_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/reexapi", REEXAPI_DB_RETRY_AFTER=RETRY_AFTER)
    server = start_gunicorn(env=env)  # ready on /api/schema/, which needs no database
    try:
        first = server.get("/api/v1/deals/", headers={"X-Request-ID": "fault-test-1"})
        _assert_api_503(first)
        assert first.headers["x-request-id"] == "fault-test-1"
        # The breaker is open now: the next API request does not wait for the database again.
        second = server.get("/api/v1/companies/")
        _assert_api_503(second)
        assert second.seconds < 1, second.seconds
        _assert_admin_503(server.get(ADMIN[0], headers=ADMIN[1]))
        # The docs and the schema depend on the code only: still served.
        assert server.get("/api/schema/").status == 200
        if listener:
            assert listener.accepted, "the server never even connected to the listener"
        lines = _log_lines(server)
        # Every server error is on stderr with its traceback and the request's id.
        errors = [line for line in lines if line["level"] == "ERROR" and "traceback" in line]
        first_error = next(line for line in errors if line["request_id"] == "fault-test-1")
        assert "OperationalError" in first_error["traceback"]
        assert any(line["logger"] == "django.request" and "/admin/" in line["message"] for line in errors)
        # And every request is one structured line.
        requests = [line for line in lines if line["logger"] == "reexapi.request"]
        mine = next(line for line in requests if line["request_id"] == "fault-test-1")
        assert (mine["method"], mine["path"], mine["status"]) == ("GET", "/api/v1/deals/", 503)
        assert isinstance(mine["duration_ms"], float) and isinstance(mine["queries"], int)
    finally:
        server.stop()
        if listener:
            listener.close()


def _pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def test_a_stalled_database_serves_the_cache_answers_503_and_recovers(pg_served_url, static_collected):
    env = server_env(DATABASE_URL=pg_served_url, REEXAPI_DB_RETRY_AFTER=RETRY_AFTER)
    server = start_gunicorn(env=env)
    cached, uncached = "/api/v1/deals/?page_size=3", "/api/v1/companies/?page_size=7"
    try:
        primed = server.get(cached)
        assert primed.status == 200
        with psycopg.connect(_pg(pg_served_url)) as locker:
            locker.execute(
                "LOCK TABLE deals_datasetversion, deals_deal, deals_company, django_session IN ACCESS EXCLUSIVE MODE"
            )
            stalled = server.get(uncached)
            _assert_api_503(stalled)
            assert stalled.seconds >= 2.5, "the request did not really wait for the stalled database"
            print(f"\nstalled database: 503 after {stalled.seconds:.2f} s")
            hit = server.get(cached)
            assert hit.status == 200 and hit.body == primed.body and hit.seconds < 1
            revalidated = server.get(cached, headers={"If-None-Match": primed.headers["etag"]})
            assert revalidated.status == 304
            _assert_admin_503(server.get(ADMIN[0], headers=ADMIN[1]))
            locker.rollback()
        time.sleep(float(RETRY_AFTER) + 0.5)
        recovered = server.get(uncached)
        assert recovered.status == 200
        assert len(json.loads(recovered.body)["results"]) == 7
    finally:
        server.stop()


def test_a_killed_connection_is_replaced_on_the_next_request(pg_served_url, static_collected):
    server = start_gunicorn(env=server_env(DATABASE_URL=pg_served_url))
    try:
        assert server.get("/api/v1/companies/?page_size=5").status == 200
        with psycopg.connect(_pg(pg_served_url), autocommit=True) as admin:
            killed = admin.execute(
                # With a timeout, each call returns once its backend is gone: killed before the next request.
                "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()[0]
        assert killed >= 1  # the worker's kept connection
        after = server.get("/api/v1/companies/?page_size=6")
        assert after.status == 200
        assert len(json.loads(after.body)["results"]) == 6
    finally:
        server.stop()


def _redis_server(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    for _ in range(100):
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("redis-server did not start")


@pytest.mark.parametrize("fault", ["listener-that-never-answers", "closed-port"])
def test_a_stalled_or_dead_redis_costs_a_request_little_and_heals(fault, served_url, static_collected):
    listener = SilentListener() if fault == "listener-that-never-answers" else None
    port = listener.port if listener else closed_port()
    env = server_env(DATABASE_URL=served_url, REDIS_URL=f"redis://127.0.0.1:{port}/0", REEXAPI_CACHE_RETRY_AFTER="2")
    server = start_gunicorn(env=env)
    revived = None
    try:
        timings = []
        before = server.log().count("API response cache unavailable")  # the readiness probe may have tried it
        started = time.monotonic()
        for n in range(1, 21):
            response = server.get(f"/api/v1/deals/?page_size={n}")
            assert response.status == 200
            timings.append(response.seconds)
        elapsed = time.monotonic() - started
        print(f"\n{fault} Redis: max {max(timings) * 1000:.0f} ms, median {sorted(timings)[10] * 1000:.0f} ms")
        # The breaker: Redis is tried once per retry period (2 s), not on every request. Without it, each of the 20
        # requests would fail (and, with the silent listener, wait 0.25 s per cache call).
        failures = server.log().count("API response cache unavailable") - before
        assert failures <= elapsed / 2 + 1, (failures, elapsed)
        assert before + failures >= 1
        # Generous bounds for a shared CI machine; a request without the cache costs ~0.1 s here.
        assert sorted(timings)[10] < 0.5, timings
        assert max(timings) < 2.0, timings
        # Redis comes back on that port: after the retry time the cache is used again.
        if listener:
            listener.close()
        revived = _redis_server(port)
        time.sleep(2.5)
        for _ in range(3):
            assert server.get("/api/v1/deals/?page_size=21").status == 200
        assert redis.Redis(host="127.0.0.1", port=port).dbsize() >= 1
    finally:
        server.stop()
        if listener:
            listener.close()
        if revived:
            revived.kill()
            revived.wait()
