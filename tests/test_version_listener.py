"""The dataset version by LISTEN/NOTIFY (deals/version_listener.py): no version query on a cache hit while the
listener is live, another connection's write seen when its notification arrives, and real faults (a killed
listener backend, a stalled connection, a fork) that fall back to the per-request read and heal.

Every test commits (``transaction=True``): the listener has a connection of its own, which sees only committed
data. The heartbeat is long here (30 s) unless a test is about the heartbeat, so that whatever the listener learns
comes from a notification, a read after (re)connecting, or the process's own write. On SQLite the listener must
never start and every request keeps reading the version row.
"""

from __future__ import annotations

import os
import secrets
import time

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deals import caching, version_listener
from deals.models import DatasetVersion
from tests.factories import DealFactory
from tests.tcp_proxy import PausableProxy

URL = "/api/v1/deals/?page_size=5"
HEARTBEAT = 30.0


def _version_reads(queries: CaptureQueriesContext) -> int:
    return sum(1 for query in queries.captured_queries if "deals_datasetversion" in (query["sql"] or ""))


def _wait(predicate, *, timeout: float = 5.0):
    """Poll ``predicate`` until it returns something truthy, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"not within {timeout} s: {predicate}")


def _token() -> str:
    return DatasetVersion.objects.get(pk=1).token


def _other_connection(**kwargs) -> psycopg.Connection:
    """A plain connection to the test database, as another process would have."""
    return psycopg.connect(**{**version_listener._listener_params(), "application_name": "test-writer"}, **kwargs)


def _write_elsewhere(*, deal_id: int, title: str, notify: bool = True) -> str:
    """What another process's commit does: the data, the new version and (normally) its notification, in one
    transaction."""
    token = secrets.token_hex(16)
    with _other_connection() as other:
        other.execute("UPDATE deals_deal SET title = %s WHERE id = %s", [title, deal_id])
        other.execute("UPDATE deals_datasetversion SET token = %s WHERE id = 1", [token])
        if notify:
            other.execute("SELECT pg_notify(%s, %s)", [version_listener.CHANNEL, token])
    return token


def _get(client, *, version_reads: int):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    assert _version_reads(queries) == version_reads, queries.captured_queries
    return response


def _assert_reads_every_request(client) -> None:
    """SQLite: no listener, and every request (a cache hit too) reads the version row."""
    DealFactory(title="On SQLite")
    first = _get(client, version_reads=1)
    assert _get(client, version_reads=1).content == first.content
    assert version_listener.listener_current() is None


def _titles(response) -> list[str]:
    return [deal["title"] for deal in response.json()["results"]]


@pytest.fixture
def listening(settings):
    """This process's live listener on PostgreSQL (started by the first version read); ``None`` on SQLite, after
    checking that it never starts there."""
    settings.REEXAPI_DATASET_VERSION_LISTEN = True
    settings.REEXAPI_DATASET_VERSION_HEARTBEAT = HEARTBEAT
    caching.dataset_version_current()
    if connection.vendor != "postgresql":
        assert version_listener.listener_current() is None
        assert version_listener.version_known() is None
        yield None
        assert version_listener.listener_current() is None
        return
    _wait(version_listener.version_known)
    yield version_listener.listener_current()
    version_listener.listener_stop()


@pytest.mark.django_db(transaction=True)
def test_a_cache_hit_does_no_query_while_the_listener_is_live(client, listening):
    DealFactory.create_batch(3)
    if listening is not None:
        assert version_listener.version_known() == _token()  # the process's own write, known at once
    first = _get(client, version_reads=0 if listening else 1)
    with CaptureQueriesContext(connection) as queries:
        hit = client.get(URL)
    assert hit.content == first.content and hit["ETag"] == first["ETag"]
    assert len(queries) == (0 if listening else 1), queries.captured_queries  # SQLite: the version row


@pytest.mark.django_db(transaction=True)
def test_another_connections_write_is_seen_when_its_notification_arrives(client, listening):
    if listening is None:
        _assert_reads_every_request(client)
        return
    deal = DealFactory(title="Before the write")
    first = _get(client, version_reads=0)
    token = _write_elsewhere(deal_id=deal.pk, title="After the write")
    # Long before the heartbeat (30 s) could have read it: the notification brought it.
    _wait(lambda: version_listener.version_known() == token, timeout=5)
    after = _get(client, version_reads=0)
    assert _titles(first) == ["Before the write"] and _titles(after) == ["After the write"]
    assert after["ETag"] != first["ETag"]


@pytest.mark.django_db(transaction=True)
def test_a_killed_listener_falls_back_to_the_read_at_once_and_reconnects(client, listening):
    if listening is None:
        _assert_reads_every_request(client)
        return
    deal = DealFactory(title="Before the write")
    first = _get(client, version_reads=0)
    # A write whose notification never comes (as if lost): a live listener would keep the old version.
    token = _write_elsewhere(deal_id=deal.pk, title="After the write", notify=False)
    assert version_listener.version_known() != token
    killed = listening.backend_pid
    with _other_connection(autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [killed]).fetchone()[0]
    _wait(lambda: not listening.live, timeout=1)  # the closed socket, not the 60 s trust window
    fallback = _get(client, version_reads=1)
    assert _titles(fallback) == ["After the write"] and fallback["ETag"] != first["ETag"]

    _wait(lambda: listening.live and listening.backend_pid != killed)
    assert version_listener.version_known() == token  # re-read after reconnecting
    hit = _get(client, version_reads=0)
    assert hit.content == fallback.content and hit["ETag"] == fallback["ETag"]


@pytest.mark.django_db(transaction=True)
def test_a_listener_whose_heartbeat_is_overdue_is_not_trusted(client, listening, monkeypatch):
    if listening is None:
        _assert_reads_every_request(client)
        return
    deal = DealFactory(title="Before the stall")
    version_listener.listener_stop()
    params = version_listener._listener_params()
    proxy = PausableProxy((params["host"], int(params["port"])))
    listener = version_listener.VersionListener(
        params={**params, "host": "127.0.0.1", "port": proxy.port}, heartbeat=0.2
    )
    monkeypatch.setattr(version_listener, "_listener", listener.start())
    try:
        _wait(listener.version_fresh)
        first = _get(client, version_reads=0)
        proxy.flowing.clear()  # the stall: the listener's next heartbeat read gets no answer
        token = _write_elsewhere(deal_id=deal.pk, title="After the stall")  # its notification is held too
        _wait(lambda: listener.version_fresh() is None, timeout=2)
        assert listener.live  # not dead, only silent: its age alone stops the trust
        stalled = _get(client, version_reads=1)
        assert _titles(stalled) == ["After the stall"] and stalled["ETag"] != first["ETag"]

        proxy.flowing.set()
        _wait(lambda: listener.version_fresh() == token)
        assert _get(client, version_reads=0).content == stalled.content
    finally:
        proxy.flowing.set()
        listener.stop()
        proxy.close()


@pytest.mark.django_db(transaction=True)
def test_a_forked_process_starts_its_own_listener(client, listening):
    if listening is None:
        _assert_reads_every_request(client)
        return
    token = version_listener.version_known()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child never touches the parent's Django connection, and leaves by os._exit
        try:
            inherited = version_listener.listener_current()
            known = _wait(version_listener.version_known)
            own = version_listener.listener_current()
            message = f"{inherited is None} {own.pid} {own.backend_pid} {known}"
        except BaseException as error:  # noqa: BLE001 - reported to the parent, which fails the test
            message = f"error {error!r}"
        os.write(write_end, message.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        message = pipe.read()
    os.waitpid(child, 0)
    no_inherited, pid, backend_pid, known = message.split()
    assert no_inherited == "True", message  # the parent's listener is not the child's
    assert int(pid) == child and int(backend_pid) != listening.backend_pid
    assert known == token == _token()
    assert version_listener.listener_current() is listening and listening.live
