"""Benchmark: search at 100k deals against the unfiltered first page, on SQLite and PostgreSQL. Prints ratios.

    .venv/bin/python scripts/bench_search.py                       # both databases, 100,000 deals
    .venv/bin/python scripts/bench_search.py --rows 20000 --databases sqlite

For each database it creates a scratch database (a temporary SQLite file; a PostgreSQL database named
``reexapi_search_bench`` on 127.0.0.1:5432, dropped and re-created), migrates it, loads the fixture dataset and
copies its deals up to ``--rows`` with scripts/bench_seed.py, with the search and statistics triggers off during
the copy and installed again after it (the install rebuilds every search document; its time is printed). Then it
requests each case in-process through the whole stack with the response cache emptied before every request, and
prints each case's p50 and its ratio to the unfiltered first page's p50 measured in the same run (target: at
most 2 for ``q=magnet`` and ``q=rare earth``).

Importable: :func:`search_cases` and :func:`search_measure` run inside an already set-up Django process (e.g.
scripts/bench_api.py's), against whatever database it uses.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "reexapi_search_bench"
TARGET_RATIO = 2.0


def search_cases(*, page_size: int = 25) -> list[tuple[str, str]]:
    """(name, URL) of each measured request; the first is the baseline the others are compared with."""
    base = f"/api/v1/deals/?page_size={page_size}"
    return [
        ("deals, first page (baseline)", base),
        ("deals, q=magnet", f"{base}&q=magnet"),
        ("deals, q=rare earth", f"{base}&q=rare+earth"),
        ("deals, q=magnets, page 5", f"{base}&q=magnets&page=5"),
        ("companies, q=rare earth", f"/api/v1/companies/?page_size={page_size}&q=rare+earth"),
        ("search, q=magnet", f"/api/v1/search/?page_size={page_size}&q=magnet"),
        ("search, q=rare earth", f"/api/v1/search/?page_size={page_size}&q=rare+earth"),
    ]


def _p50(client, url: str, repeat: int) -> tuple[float, int, int]:
    from django.core.cache import cache

    from deals.caching import response_cache

    timings, status, count = [], 0, -1
    for _ in range(repeat):
        # Measure the API, not the caches in front of it (the rendered responses have an alias of their own).
        cache.clear()
        response_cache().clear()
        began = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
        status = response.status_code
    if status == 200:
        count = response.json().get("count", -1)
    return statistics.median(timings), status, count


def search_measure(*, repeat: int = 15, page_size: int = 25) -> list[dict]:
    """Measure :func:`search_cases` in this process; each row has name, url, p50_ms, ratio, status and count."""
    from django.test import Client

    client = Client()
    rows = []
    for name, url in search_cases(page_size=page_size):
        _p50(client, url, 2)  # warm up: connection, caches of the database
        p50, status, count = _p50(client, url, repeat)
        rows.append({"name": name, "url": url, "p50_ms": p50, "status": status, "count": count})
    baseline = rows[0]["p50_ms"]
    for row in rows:
        row["ratio"] = row["p50_ms"] / baseline
    return rows


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG would record every query in memory
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reexapi.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "scripts"))
    import django

    django.setup()


def run_one(*, database_url: str, label: str, rows: int, repeat: int, page_size: int) -> None:
    """Seed and measure one database (in its own process, so that Django is set up for that database)."""
    _setup_django(database_url)
    import logging

    import bench_seed
    from django.core.management import call_command
    from django.db import connection

    from deals.search_index import search_index_install, search_index_uninstall
    from deals.stats_keys import stats_keys_install, stats_keys_uninstall

    logging.disable(logging.INFO)  # one log line per request would swamp the figures
    call_command("migrate", verbosity=0)
    call_command("load_dataset", verbosity=0)
    began = time.perf_counter()
    search_index_uninstall()
    stats_keys_uninstall()
    bench_seed.deals_copy(total=rows)
    seeded = time.perf_counter() - began
    began = time.perf_counter()
    stats_keys_install()
    stats_installed = time.perf_counter() - began
    began = time.perf_counter()
    search_index_install()
    installed = time.perf_counter() - began
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")  # the requests' timeout is too short for ANALYZE at 100k
            cursor.execute("ANALYZE")
            cursor.execute("RESET statement_timeout")
    print(
        f"\n== {label}: {rows:,} deals (copied in {seeded:.1f} s; statistics keys {stats_installed:.1f} s; "
        f"search_index_install, i.e. rebuild, {installed:.1f} s), page_size={page_size}, p50 of {repeat}",
        flush=True,
    )
    for row in search_measure(repeat=repeat, page_size=page_size):
        verdict = ""
        if row["name"] in ("deals, q=magnet", "deals, q=rare earth"):
            verdict = "  ok" if row["ratio"] <= TARGET_RATIO else f"  OVER TARGET {TARGET_RATIO}"
        print(
            f"  {row['name']:<32} {row['p50_ms']:8.1f} ms  ratio {row['ratio']:5.2f}  HTTP {row['status']}  "
            f"count {row['count']:>7}{verdict}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--page-size", type=int, default=25)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        label, url = args.child.split("|", 1)
        run_one(database_url=url, label=label, rows=args.rows, repeat=args.repeat, page_size=args.page_size)
        return
    print(f"cores: {os.cpu_count()}, load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    common = ["--rows", str(args.rows), "--repeat", str(args.repeat), "--page-size", str(args.page_size)]
    for database in args.databases.split(","):
        if database == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{tmp}/bench.sqlite3"
                subprocess.run([sys.executable, __file__, *common, "--child", f"SQLite|{url}"], check=True)
        elif database == "postgresql":
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}")
                admin.execute(f"CREATE DATABASE {PG_BENCH_DB}")
            try:
                url = f"postgres://postgres@127.0.0.1:5432/{PG_BENCH_DB}"
                subprocess.run([sys.executable, __file__, *common, "--child", f"PostgreSQL|{url}"], check=True)
            finally:
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                    admin.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}")
        else:
            raise SystemExit(f"Unknown database {database!r}: use sqlite and/or postgresql.")
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
