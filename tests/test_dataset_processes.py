"""Real processes against a real database: concurrent loads wait their turn, and the serve set-up keeps edits.

Each test runs ``manage.py`` in subprocesses. On PostgreSQL they use the test database itself (these tests commit,
``transaction=True``); on SQLite, whose test database lives in memory, a database file of the test's own.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from deals.services.dataset_lock import _ADVISORY_KEY

ROOT = Path(settings.BASE_DIR)
# The subprocesses must see committed rows; serialized_rollback restores what migrations seeded (the supply-chain
# stages) after a transactional test's flush, for this test and the ones after it.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory) -> Path | None:
    """A migrated SQLite database file, made once per module and copied by each test (migrating takes seconds)."""
    if connection.vendor != "sqlite":
        return None
    file = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    manage({**os.environ, "DATABASE_URL": f"sqlite:///{file}"}, "migrate", "--noinput")
    return file


@pytest.fixture
def database(tmp_path, migrated_sqlite):
    """(env for subprocesses, a function opening a raw connection) for a database the subprocesses share."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "reexapi.settings"}
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        env["DATABASE_URL"] = url
        return env, lambda: psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True)
    file = tmp_path / "shared.sqlite3"
    shutil.copyfile(migrated_sqlite, file)
    env["DATABASE_URL"] = f"sqlite:///{file}"
    return env, lambda: sqlite3.connect(file, isolation_level=None)


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result


def start_load(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "load_dataset", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def hold_lock(connect):
    """Take the dataset lock the way another load would hold it, from a connection of our own."""
    conn = connect()
    if isinstance(conn, sqlite3.Connection):
        conn.execute("BEGIN IMMEDIATE")
    else:
        conn.execute("BEGIN")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_KEY])
    return conn


def source_count(connect) -> int:
    conn = connect()
    try:
        return conn.execute("SELECT COUNT(*) FROM deals_source").fetchone()[0]
    finally:
        conn.close()


def test_concurrent_loads_wait_for_the_lock_then_run_one_after_the_other(database):
    env, connect = database
    holder = hold_lock(connect)
    try:
        loads = [start_load(env, "--lock-timeout", "120") for _ in range(2)]
        time.sleep(4)
        assert [p.poll() for p in loads] == [None, None], "both loads should be waiting for the lock"
    finally:
        holder.execute("COMMIT")
        holder.close()
    results = [p.communicate(timeout=300) for p in loads]
    assert [p.returncode for p in loads] == [0, 0], [err for _out, err in results]
    assert all("Traceback" not in err for _out, err in results)
    outputs = sorted(out for out, _err in results)
    assert sum("nothing changed" in out for out in outputs) == 1  # the second saw the first one's work
    assert sum("source: 3 (3 created" in out for out in outputs) == 1
    assert source_count(connect) == 3


def test_overlapping_loads_both_succeed(database):
    env, connect = database
    loads = [start_load(env) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in loads]
    assert [p.returncode for p in loads] == [0, 0], [err for _out, err in results]
    assert sum("nothing changed" in out for out, _err in results) == 1
    assert source_count(connect) == 3


def test_a_load_that_cannot_get_the_lock_in_time_says_so(database):
    env, connect = database
    holder = hold_lock(connect)
    try:
        load = start_load(env, "--lock-timeout", "1")
        out, err = load.communicate(timeout=120)
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert load.returncode == 1
    assert "Nothing was loaded: another load_dataset run (or another writer) still holds the database after 1 s" in err
    assert "Traceback" not in err
    assert source_count(connect) == 0


def test_the_serve_set_up_keeps_an_editors_change_across_restarts(database):
    env, _connect = database
    env = {**env, "REEXAPI_NO_SERVE": "1"}
    serve = ["bash", "scripts/serve.sh"]
    first = subprocess.run(serve, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    # The editor's change, saved the way the admin saves it (a model save with the editor as history user).
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User; from deals.models import Deal; "
        "u = User.objects.create_user('editor'); d = Deal.objects.get(slug='gm-offtake-with-noveon'); "
        "d.summary = 'Edited in the admin.'; d._history_user = u; d.save()",
    )
    again = subprocess.run(serve, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "deal 'gm-offtake-with-noveon': changed (summary) by editor at " in again.stdout
    check = manage(
        env,
        "shell",
        "-c",
        "from deals.models import Deal; print(Deal.objects.get(slug='gm-offtake-with-noveon').summary)",
    )
    assert check.stdout.strip().splitlines()[-1] == "Edited in the admin."
