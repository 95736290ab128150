"""Real processes against a real database: concurrent loads wait their turn, and the serve set-up keeps edits.

Each test runs ``manage.py`` in subprocesses against a database of its own (copied from a template migrated once):
on PostgreSQL a scratch database next to the test database, on SQLite a file.
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
# Scratch PostgreSQL databases of this suite's own (a template migrated once, copied per test): the subprocesses
# must see committed rows, and a transactional test database would lose its seeded rows to the flush.
PG_TEMPLATE = "reexapi_loader_proc_template"
PG_DATABASE = "reexapi_loader_proc"


def _pg_url(name: str) -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _pg_admin(*statements: str) -> None:
    with psycopg.connect(_pg_url("postgres").replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory) -> Path | str:
    """A migrated database made once per module, which each test copies (migrating takes seconds)."""
    if connection.vendor == "postgresql":
        _pg_admin(f"DROP DATABASE IF EXISTS {PG_DATABASE}", f"DROP DATABASE IF EXISTS {PG_TEMPLATE}")
        _pg_admin(f"CREATE DATABASE {PG_TEMPLATE}")
        manage({**os.environ, "DATABASE_URL": _pg_url(PG_TEMPLATE)}, "migrate", "--noinput")
        yield PG_TEMPLATE
        _pg_admin(f"DROP DATABASE IF EXISTS {PG_DATABASE}", f"DROP DATABASE IF EXISTS {PG_TEMPLATE}")
        return
    file = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    manage({**os.environ, "DATABASE_URL": f"sqlite:///{file}"}, "migrate", "--noinput")
    yield file


@pytest.fixture
def database(tmp_path, migrated_template):
    """(env for subprocesses, a function opening a raw connection) for a fresh copy of the migrated database."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "reexapi.settings"}
    if connection.vendor == "postgresql":
        _pg_admin(f"DROP DATABASE IF EXISTS {PG_DATABASE}", f"CREATE DATABASE {PG_DATABASE} TEMPLATE {PG_TEMPLATE}")
        url = _pg_url(PG_DATABASE)
        env["DATABASE_URL"] = url
        return env, lambda: psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)
    file = tmp_path / "shared.sqlite3"
    shutil.copyfile(migrated_template, file)
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
    # The editor's change, backed by a quote of the new value, saved the way the admin saves it (model saves with
    # the editor as history user).
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User; from deals.models import Deal, Evidence, Source; "
        "u = User.objects.create_user('editor'); d = Deal.objects.get(slug='gm-offtake-with-noveon'); "
        "d.summary = 'Edited in the admin.'; d._history_user = u; d.save(); "
        "s = Source.objects.get(slug='rare-earth-update-2025-09-08-12'); q = 'OEMs are locking down magnet supply'; "
        "i = s.text.index(q); e = Evidence(source=s, deal=d, quote=q, start=i, end=i + len(q), fields=['summary'], "
        "values={'summary': d.summary}); e._history_user = u; e.save()",
    )
    again = subprocess.run(serve, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "deal 'gm-offtake-with-noveon': changed (summary, evidence) by editor at " in again.stdout
    check = manage(
        env,
        "shell",
        "-c",
        "from deals.models import Deal; print(Deal.objects.get(slug='gm-offtake-with-noveon').summary)",
    )
    assert check.stdout.strip().splitlines()[-1] == "Edited in the admin."
