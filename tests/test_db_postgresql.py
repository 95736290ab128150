"""The PostgreSQL backend's health check (reexapi/db/postgresql/base.py), against real PostgreSQL whatever the
suite's database: a quiet kept connection passes without a round trip (through a proxy that counts the bytes and
can stall), while a connection the server killed, one with something to read and one inside a transaction are
checked with ``SELECT 1`` as Django does."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db.utils import ConnectionHandler

from tests.tcp_proxy import PausableProxy

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(autouse=True)
def _own_connections(django_db_blocker):
    """These connections are the tests' own, outside the suite's test database: pytest-django may let them be."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def proxy():
    proxy = PausableProxy(("127.0.0.1", 5432))
    yield proxy
    proxy.close()


def _wrapper(*, port: int = 5432):
    """A connection of the project's PostgreSQL backend to the ``postgres`` database (not the suite's)."""
    settings = {"ENGINE": "reexapi.db.postgresql", "NAME": "postgres", "USER": "postgres", "HOST": "127.0.0.1"}
    handler = ConnectionHandler({"default": {**settings, "PORT": str(port), "CONN_HEALTH_CHECKS": True}})
    wrapper = handler["default"]
    wrapper.ensure_connection()
    return wrapper


def _settled(proxy: PausableProxy) -> int:
    """The proxy's byte count once nothing has moved for a moment."""
    while True:
        before = proxy.forwarded
        time.sleep(0.1)
        if proxy.forwarded == before:
            return before


def test_a_quiet_connection_is_usable_without_a_round_trip(proxy):
    wrapper = _wrapper(port=proxy.port)
    check = None
    try:
        before = _settled(proxy)
        proxy.flowing.clear()  # nothing could answer now: a SELECT 1 would wait until the proxy flows again
        answers = []
        check = threading.Thread(target=lambda: answers.append(wrapper.is_usable()))
        check.start()
        check.join(timeout=1)
        assert answers == [True] and proxy.forwarded == before
    finally:
        proxy.flowing.set()
        if check is not None:
            check.join()
        wrapper.close()


def test_a_killed_connection_is_found_and_replaced():
    wrapper = _wrapper()
    killed = wrapper.connection.info.backend_pid
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        # With a timeout, pg_terminate_backend returns once the backend is gone, as an earlier kill would be.
        assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", [killed]).fetchone()[0]
    assert not wrapper.is_usable()
    wrapper.health_check_done = False
    wrapper.close_if_health_check_failed()
    assert wrapper.connection is None
    wrapper.ensure_connection()
    try:
        assert wrapper.connection.info.backend_pid != killed and wrapper.is_usable()
    finally:
        wrapper.close()


def test_a_connection_with_something_to_read_is_asked(proxy):
    """A notification waiting on the socket is not proof of life: the check sends SELECT 1, which passes."""
    wrapper = _wrapper(port=proxy.port)
    try:
        wrapper.connection.execute("LISTEN reexapi_health_check_test")
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute("NOTIFY reexapi_health_check_test")
        before = _settled(proxy)
        assert wrapper.is_usable()
        assert proxy.forwarded > before
    finally:
        wrapper.close()


def test_a_connection_inside_a_transaction_is_asked(proxy):
    wrapper = _wrapper(port=proxy.port)
    try:
        wrapper.set_autocommit(False)
        wrapper.connection.execute("SELECT 1")  # a transaction is open
        before = _settled(proxy)
        assert wrapper.is_usable()
        assert proxy.forwarded > before
    finally:
        wrapper.close()


def test_a_test_database_is_dropped_while_a_session_holds_it_and_the_timeout_is_short():
    """The test runner's drop (creation.py) ends a session still connected, and is not cut short by a statement
    timeout shorter than DROP DATABASE's own 5 s wait for other sessions (that left CI's test database behind)."""
    name = "reexapi_drop_check"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    holder = psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}", autocommit=True)
    settings = {"ENGINE": "reexapi.db.postgresql", "NAME": "postgres", "USER": "postgres", "HOST": "127.0.0.1"}
    options = {"OPTIONS": {"options": "-c statement_timeout=200"}}
    wrapper = ConnectionHandler({"default": {**settings, "PORT": "5432", **options}})["default"]
    try:
        wrapper.creation._destroy_test_db(name, verbosity=0)
        with psycopg.connect(ADMIN) as admin:
            assert admin.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name]).fetchone()[0] == 0
        with pytest.raises(psycopg.OperationalError):
            holder.execute("SELECT 1")  # its session was ended
    finally:
        holder.close()
        wrapper.close()
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
