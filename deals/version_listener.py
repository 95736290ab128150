"""The dataset version without a database round trip per request: a LISTEN/NOTIFY listener (PostgreSQL only).

On a response-cache hit, reading the version row (deals/caching.py) was most of the request's cost. Instead each
process keeps one daemon thread with a connection of its own that ``LISTEN``s on :data:`CHANNEL`;
``dataset_version_bump`` sends ``pg_notify(CHANNEL, token)`` in the transaction of its ``UPDATE``, so PostgreSQL
delivers the new token to every listener exactly when the write commits.

- Nothing is lost on (re)connect: the thread runs ``LISTEN`` first, then reads the token. A bump committed before
  the read is in the read; one committed after the ``LISTEN`` is notified.
- Trust: :func:`version_known` answers only while the listener is live and its last contact with the database (a
  read, a notification or a heartbeat) is younger than two heartbeats; otherwise the caller reads the row as it
  always did. A killed connection is noticed at once (its socket closes); a stalled one by that age. After each
  heartbeat interval without a notification the thread reads the token again: this proves the connection alive and
  bounds how stale the token could be if a notification were ever lost.
- A process sees its own writes at once: the bump hands its token over at commit (:func:`version_own_publish`),
  before its notification comes back. Notifications still in flight from earlier commits are older (PostgreSQL
  delivers them in commit order), so they do not replace it; its own notification, or a read begun after it, does.
- Fork: gunicorn forks its workers; a listener belongs to the pid that started it, and a new pid starts its own.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

CHANNEL = "reexapi_dataset_version"
# Reconnection waits, doubling from the first to the last: a database that is down is retried every few seconds,
# while every request reads the version itself (the listener is not live).
_BACKOFF_FIRST, _BACKOFF_MAX = 0.5, 5.0
_STOP_CHECK = 0.5


class VersionListener:
    """One listening connection and the token it last learned; its thread reconnects after any error."""

    def __init__(self, *, params: dict, heartbeat: float):
        self.params = params
        self.heartbeat = heartbeat
        self.pid = os.getpid()
        self.token: str | None = None
        self.live = False
        self.contact = 0.0  # time.monotonic() of the last successful contact with the database
        self.backend_pid: int | None = None  # of the listening connection: what an operator (or a test) can kill
        self._own: str | None = None  # this process's last bump, until the listener has caught up with it
        self._own_at = 0.0
        self._lock = threading.Lock()  # writers only; readers take the attributes as they are
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reexapi-version-listener", daemon=True)

    def start(self) -> VersionListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and close its connection (within half a second, unless a read is under way)."""
        self._stopped.set()
        self._thread.join(timeout=_STOP_CHECK + settings.REEXAPI_DB_STATEMENT_TIMEOUT_MS / 1000 + 1)

    def version_fresh(self) -> str | None:
        """The token, if the listener is live and heard from the database within two heartbeats; else ``None``."""
        if not self.live or time.monotonic() - self.contact >= 2 * self.heartbeat:
            return None
        own = self._own
        return own if own is not None else self.token

    def own_publish(self, token: str) -> None:
        with self._lock:
            self._own, self._own_at = token, time.monotonic()

    def _publish(self, token: str | None, *, read_started: float | None = None) -> None:
        with self._lock:
            self.token = token
            self.contact = time.monotonic()
            if self._own is not None and (token == self._own or (read_started or 0.0) > self._own_at):
                self._own = None

    def _read(self, connection: psycopg.Connection) -> None:
        from deals.models import DatasetVersion

        started = time.monotonic()
        row = connection.execute(f"SELECT token FROM {DatasetVersion._meta.db_table} WHERE id = 1").fetchone()
        # No row yet (a new database): None, which is never trusted; the next request's read creates it.
        self._publish(row[0] if row else None, read_started=started)

    def _run(self) -> None:
        backoff = _BACKOFF_FIRST
        while not self._stopped.is_set():
            try:
                with psycopg.connect(**self.params, autocommit=True) as connection:
                    self.backend_pid = connection.info.backend_pid
                    # A stalled database cancels the heartbeat read, whatever OPTIONS say.
                    connection.execute(f"SET statement_timeout = {int(settings.REEXAPI_DB_STATEMENT_TIMEOUT_MS)}")
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._read(connection)  # after LISTEN: see the module docstring
                    self.live = True
                    backoff = _BACKOFF_FIRST
                    self._listen(connection)
            except Exception:
                if not self._stopped.is_set():
                    logger.warning("Dataset version listener failed; reconnecting in %ss", backoff, exc_info=True)
            self.live = False
            self._stopped.wait(backoff)
            backoff = min(backoff * 2, _BACKOFF_MAX)

    def _listen(self, connection: psycopg.Connection) -> None:
        while not self._stopped.is_set():
            # Woken by each notification, and at least twice a second to notice stop().
            for notify in connection.notifies(timeout=min(self.heartbeat, _STOP_CHECK)):
                self._publish(notify.payload)
            # The heartbeat; also while an own bump is still pending: a lost notification must not pin it for long.
            if time.monotonic() - self.contact >= self.heartbeat or self._own is not None:
                self._read(connection)


_listener: VersionListener | None = None
_start_lock = threading.Lock()


def _listener_params() -> dict:
    """Django's own connection parameters (host, database, user, timeouts) for a plain psycopg connection."""
    params = connections[DEFAULT_DB_ALIAS].get_connection_params()
    for django_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(django_only, None)
    params.setdefault("connect_timeout", settings.REEXAPI_DB_CONNECT_TIMEOUT)
    # A peer that vanished (host down, network cut) fails the heartbeat's send instead of leaving it hanging.
    params.setdefault("tcp_user_timeout", settings.REEXAPI_DB_STATEMENT_TIMEOUT_MS)
    params["application_name"] = "reexapi-version-listener"
    return params


def _listener_start() -> VersionListener | None:
    global _listener
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        return None
    with _start_lock:
        if _listener is None or _listener.pid != os.getpid():
            heartbeat = settings.REEXAPI_DATASET_VERSION_HEARTBEAT
            _listener = VersionListener(params=_listener_params(), heartbeat=heartbeat).start()
        return _listener


def version_known() -> str | None:
    """The dataset version this process's listener vouches for, or ``None``: then the caller reads the database.

    Starts the listener on the first call in a process (and in a forked child), on PostgreSQL with
    ``REEXAPI_DATASET_VERSION_LISTEN`` on; its first token arrives a round trip or two later.
    """
    if not settings.REEXAPI_DATASET_VERSION_LISTEN:
        return None
    listener = _listener
    if listener is None or listener.pid != os.getpid():
        listener = _listener_start()
        if listener is None:
            return None
    return listener.version_fresh()


def version_notify(token: str) -> None:
    """PostgreSQL: tell every listener the token when the current transaction (of Django's connection) commits."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, token])


def version_own_publish(token: str) -> None:
    """A bump of this process has committed: its token is the version from now on (see the module docstring)."""
    listener = _listener
    if listener is not None and listener.pid == os.getpid():
        listener.own_publish(token)


def listener_current() -> VersionListener | None:
    """This process's listener, if one was started."""
    listener = _listener
    return listener if listener is not None and listener.pid == os.getpid() else None


def listener_stop() -> None:
    """Stop this process's listener (tests; a process that exits needs nothing: the thread is a daemon)."""
    global _listener
    with _start_lock:
        listener, _listener = _listener, None
    if listener is not None and listener.pid == os.getpid():
        listener.stop()
