"""One load at a time: a database lock that serialises ``load_dataset`` runs (and exports) across processes."""

from __future__ import annotations

from django.db import OperationalError, connection

# pg_advisory_xact_lock key: any fixed 64-bit number; this one is "reexapi" in ASCII.
_ADVISORY_KEY = 0x72656578617069


class DatasetBusy(Exception):
    """Another load holds the dataset lock, and it was not released within the timeout."""


def dataset_lock_acquire(*, timeout: float) -> None:
    """Take the dataset lock for the rest of the current transaction, waiting up to ``timeout`` seconds.

    PostgreSQL: a transaction-level advisory lock, released at commit or rollback; ``lock_timeout`` bounds the wait
    (and the server's ``statement_timeout`` is lifted for the load's transaction).
    SQLite serialises writers itself, but a second load that starts reading and only then writes can fail at its
    first write with "database is locked" (SQLite refuses to wait while a reader holds its snapshot). So the lock is
    a write as the transaction's very first statement, with ``busy_timeout`` set for the wait: the second load waits
    before reading anything. Raises :class:`DatasetBusy` when the wait times out.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("dataset_lock_acquire() must run inside a transaction")
    millis = max(1, int(timeout * 1000))
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The server's statement_timeout (REEXAPI_DB_STATEMENT_TIMEOUT_MS, 3 s) bounds web requests; a load
                # is an operator's command whose wait is bounded by ``timeout`` instead, so it is lifted for this
                # transaction (otherwise the lock wait itself would be cancelled after 3 s).
                cursor.execute("SET LOCAL statement_timeout = 0")
                cursor.execute(f"SET LOCAL lock_timeout = {millis}")
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_KEY])
                cursor.execute("SET LOCAL lock_timeout = 0")
            elif connection.vendor == "sqlite":
                cursor.execute("PRAGMA busy_timeout")
                (previous,) = cursor.fetchone()
                cursor.execute(f"PRAGMA busy_timeout = {millis}")
                try:
                    cursor.execute("UPDATE deals_fixturestate SET id = id WHERE 0")
                finally:
                    cursor.execute(f"PRAGMA busy_timeout = {int(previous)}")
    except OperationalError as exc:
        raise DatasetBusy(
            f"another load_dataset run (or another writer) still holds the database after {timeout:g} s; "
            f"nothing was loaded. Wait for it to finish and run the command again ({exc})."
        ) from exc
