"""Test databases of the project's PostgreSQL backend: created and dropped without the requests' statement
timeout, and dropped even while a session is still connected.

The suite's connections carry ``statement_timeout`` (``REEXAPI_DB_STATEMENT_TIMEOUT_MS``, 3 s), and so did the
test runner's: ``DROP DATABASE`` waits up to 5 s for other sessions to leave (and for a checkpoint), so a session
still connected at the end of the suite (a worker thread, a subprocess' straggler) made the drop time out and left
the test database behind (a PytestWarning in CI). The drop is ``WITH (FORCE)`` (PostgreSQL 13 and later), which
ends such sessions: the suite is over.
"""

from __future__ import annotations

from django.db.backends.postgresql import creation


class DatabaseCreation(creation.DatabaseCreation):
    """Django's test-database creation, without the statement timeout, and a forced drop."""

    def _execute_create_test_db(self, cursor, parameters, keepdb=False):
        # The same cursor drops a test database left behind before creating it again (--create-db).
        cursor.execute("SET statement_timeout = 0")
        super()._execute_create_test_db(cursor, parameters, keepdb)

    def _destroy_test_db(self, test_database_name, verbosity):
        with self._nodb_cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
            cursor.execute(f"DROP DATABASE {self.connection.ops.quote_name(test_database_name)} WITH (FORCE)")
