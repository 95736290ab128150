"""Django's PostgreSQL backend with a health check that costs no round trip while the kept connection is quiet
(``ENGINE = "reexapi.db.postgresql"``, set by reexapi/settings.py for every PostgreSQL ``DATABASE_URL``).

Django checks a kept connection (``CONN_HEALTH_CHECKS``) before the first query of each request by sending
``SELECT 1``: a round trip per request, as long as the page's own queries on a fast path that sends one or two.
A connection the server ended (killed backend, restart, idle timeout) has something to read: PostgreSQL sends a
``FATAL`` message before it closes the socket, and the socket then reads as closed. So an idle connection (no
transaction open, libpq's status OK) whose socket has nothing to read is as usable as ``SELECT 1`` would find it,
and any other is checked with ``SELECT 1`` as before. A server that vanished without a word (a host gone, a
network cut) is found by neither check without waiting: its first query fails, and the connection is replaced at
the next request, as Django does after any error.
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq

from reexapi.db.postgresql.creation import DatabaseCreation


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's PostgreSQL ``DatabaseWrapper`` whose ``is_usable`` asks the socket before the server (and whose test
    databases are made and dropped without the statement timeout: reexapi/db/postgresql/creation.py)."""

    creation_class = DatabaseCreation

    def is_usable(self) -> bool:
        if self.connection is not None and _quiet(self.connection.pgconn):
            return True
        return super().is_usable()


def _quiet(pgconn) -> bool:
    """Whether ``pgconn`` is open, outside any transaction, and its socket has nothing to read."""
    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    try:
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
    except (OSError, ValueError, psycopg.Error):  # e.g. OperationalError: a socket libpq no longer has
        return False
    return not poller.poll(0)
