#!/usr/bin/env python
"""Measure how long `manage.py load_dataset` takes on a fresh SQLite and a fresh PostgreSQL database.

Usage: .venv/bin/python scripts/bench_load.py [--runs N] [--pg postgres://postgres@127.0.0.1:5432/reexapi_bench]

For each database: create it empty, migrate, then time the first load (everything created) and a second load
(idempotent: nothing written) in a fresh process each, and print the figures. PostgreSQL is skipped when it does
not answer. The benchmark database is dropped afterwards; the project's own databases are never touched.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

TIMED = """
import time, io, django
django.setup()
from django.core.management import call_command
t = time.perf_counter()
call_command("load_dataset", stdout=io.StringIO())
first = time.perf_counter() - t
t = time.perf_counter()
call_command("load_dataset", stdout=io.StringIO())
second = time.perf_counter() - t
t = time.perf_counter()
call_command("verify_provenance", stdout=io.StringIO())
verify = time.perf_counter() - t
print(first, second, verify)
"""


def run(database_url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "reexapi.settings"}
    done = subprocess.run([PYTHON, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return done.stdout


def measure(label: str, fresh, database_url: str, runs: int) -> None:
    results = []
    for _ in range(runs):
        fresh()
        run(database_url, "manage.py", "migrate", "--noinput", "-v0")
        results.append([float(x) for x in run(database_url, "-c", TIMED).split()])
    first, second, verify = (statistics.median(col) for col in zip(*results, strict=True))
    print(
        f"{label:<10} first load {first * 1000:7.0f} ms   second (no-op) load {second * 1000:7.0f} ms   "
        f"verify_provenance {verify * 1000:5.0f} ms   (median of {runs} fresh databases)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh databases per backend (median reported)")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/reexapi_bench")
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        measure("SQLite", lambda: db.unlink(missing_ok=True), f"sqlite:///{db}", opts.runs)

    import psycopg

    name = opts.pg.rsplit("/", 1)[1]
    admin_url = opts.pg.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1) + "/postgres"
    try:
        psycopg.connect(admin_url, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL   skipped: it does not answer ({exc})")
        return

    def fresh_pg() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')

    try:
        measure("PostgreSQL", fresh_pg, opts.pg, opts.runs)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    main()
