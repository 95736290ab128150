"""Session fixtures of the serving tests: collected static files and served databases (PostgreSQL and SQLite).

The served databases belong to this helper (``reexapi_serve_live_<pid>`` on PostgreSQL, a temporary file for SQLite),
are created and loaded once per session with the real ``migrate`` and ``load_dataset``, and dropped at the end.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import psycopg
import pytest

from tests.serving.servers import PG_ADMIN_URL, manage, server_env

# This helper's database name, with the process id: two test runs at once (SQLite and PostgreSQL suites) must not
# drop each other's served database.
PG_SERVED_NAME = f"reexapi_serve_live_{os.getpid()}"


def _suite_engine() -> str:
    return "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"


def _pg_drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _load(url: str) -> str:
    env = server_env(DATABASE_URL=url)
    manage("migrate", "--noinput", "-v", "0", env=env)
    manage("load_dataset", "-v", "0", env=env)
    return url


@pytest.fixture(scope="session")
def static_collected() -> None:
    """``collectstatic``, as the setup scripts run it: WhiteNoise serves the result with DEBUG off."""
    manage("collectstatic", "--noinput", "-v", "0", env=server_env())


@pytest.fixture(scope="session")
def pg_served_url():
    """A PostgreSQL database of the dataset, for servers (the fault tests need PostgreSQL whatever the suite)."""
    _pg_drop(PG_SERVED_NAME)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{PG_SERVED_NAME}"')
    try:
        yield _load(f"postgres://postgres@127.0.0.1:5432/{PG_SERVED_NAME}")
    finally:
        _pg_drop(PG_SERVED_NAME)


@pytest.fixture(scope="session")
def served_url(request):
    """A database of the dataset on the suite's own engine (DATABASE_URL): PostgreSQL or a SQLite file."""
    if _suite_engine() == "postgresql":
        yield request.getfixturevalue("pg_served_url")
        return
    with tempfile.TemporaryDirectory(prefix="reexapi-served-") as directory:
        yield _load(f"sqlite:///{Path(directory) / 'served.sqlite3'}")
