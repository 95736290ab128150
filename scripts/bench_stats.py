#!/usr/bin/env python3
"""Median latency of ``/api/v1/stats/deals/`` per dimension against the deals list's, on PostgreSQL under gunicorn.

Usage (from the repository root; needs PostgreSQL on 127.0.0.1:5432):

    .venv/bin/python scripts/bench_stats.py                  # defaults: 100000 deals, 30 timed requests per URL

What it does:
1. creates a scratch PostgreSQL database ``reexapi_bench_stats_<pid>``, migrates it, loads the dataset and adds
   copies of its deals (scripts/bench_seed.py, every relation kept) until the deals table holds ``--deals`` rows;
2. serves the project under gunicorn (one sync worker) with the rendered-response cache off, so every request runs
   its view, its queries and its serialisation;
3. requests each URL a few times to warm up, then ``--requests`` rounds of one request per URL in turn (so a
   change of load on a shared machine weighs on every URL alike), and prints each URL's median (p50) and 90th
   percentile, and the ratio of each statistics median to the list's;
4. stops gunicorn and drops the database, whatever happened.

The baseline is the deals list's first page as clients read it (``/api/v1/deals/``: a count and a page of 50 with
their prefetches) and with the same filters as the filtered statistics. Both are measured in the same run, on the
same server, so the ratio does not depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_api import PYTHON, Gunicorn, fetch, free_port, pg_execute, run, wait_until_up  # noqa: E402

LIST = "/api/v1/deals/?page_size=50"
FILTERED_LIST = "/api/v1/deals/?page_size=50&party_kind=government&commodity=critical-minerals"
DIMENSIONS = (
    "commodity",
    "commodity_exact",
    "country",
    "party_country",
    "deal_type",
    "status",
    "stage",
    "announced_year",
    "party_kind",
)


def timed(urls: list[str], *, requests: int, warmup: int = 3) -> list[list[float]]:
    """Seconds per request of each URL, one request at a time, the URLs taken in turn (round robin) so that a
    change in the machine's load during the run weighs on every URL alike."""
    for _ in range(warmup):
        for url in urls:
            fetch(url)
    durations: list[list[float]] = [[] for _ in urls]
    for _ in range(requests):
        for index, url in enumerate(urls):
            start = time.perf_counter()
            with urllib.request.urlopen(url, timeout=60) as response:
                response.read()
                if response.status != 200:
                    sys.exit(f"{url} answered {response.status}")
            durations[index].append(time.perf_counter() - start)
    return durations


def analyze(database: str) -> None:
    """Planner statistics for the freshly seeded tables, as autovacuum would gather them on a live server."""
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{database}", autocommit=True) as connection:
        connection.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", type=int, default=100_000, help="rows in the deals table (default 100000)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per URL (default 30)")
    parser.add_argument(
        "--database",
        help="an existing, already seeded PostgreSQL database to measure (kept; migrated first), instead of a "
        "scratch one: for repeated runs while tuning",
    )
    args = parser.parse_args()

    database = args.database or f"reexapi_bench_stats_{os.getpid()}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "DJANGO_SETTINGS_MODULE": "reexapi.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "REEXAPI_API_RATE_LIMIT": "off",
        "REEXAPI_RESPONSE_CACHE": "false",
        # One log line per request would interleave with the figures.
        "REEXAPI_REQUEST_LOG_LEVEL": "WARNING",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parent.parent), str(Path(__file__).parent)]),
    }
    env.pop("REDIS_URL", None)
    if not args.database:
        pg_execute(f'CREATE DATABASE "{database}"')
    rows: list[tuple[str, float, float]] = []
    try:
        manage = [str(PYTHON), "manage.py"]
        run([*manage, "migrate", "--noinput", "-v", "0"], env=env)
        if args.database:
            count_code = "from deals.models import Deal; print(Deal.objects.count())"
            count = int(run([*manage, "shell", "-c", count_code], env=env).strip().splitlines()[-1])
        else:
            run([*manage, "load_dataset", "-v", "0"], env=env)
            code = f"import bench_seed; print(bench_seed.deals_copy(total={args.deals}))"
            count = int(run([*manage, "shell", "-c", code], env=env).strip().splitlines()[-1])
        analyze(database)
        print(f"Scratch database {database}: {count} deals.")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        urls = [("list", LIST), ("list, filtered", FILTERED_LIST)]
        urls += [(f"stats {d}", f"/api/v1/stats/deals/?group_by={d}") for d in DIMENSIONS]
        urls += [
            (
                "stats commodity, filtered",
                "/api/v1/stats/deals/?group_by=commodity&party_kind=government&commodity=critical-minerals",
            ),
        ]
        with Gunicorn(env=env, port=port, workers=1):
            wait_until_up(base + "/api/v1/")
            measured = timed([base + path for _, path in urls], requests=args.requests)
            for (label, path), durations in zip(urls, measured, strict=True):
                p50 = statistics.median(durations)
                p90 = statistics.quantiles(durations, n=10)[-1]
                rows.append((label, p50, p90))
                print(f"{label:28} p50 {p50 * 1000:8.1f} ms   p90 {p90 * 1000:8.1f} ms   {path}", flush=True)
    finally:
        if not args.database:
            pg_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    baseline = {label: p50 for label, p50, _ in rows}
    print(
        f"\n== Summary: {count} deals, PostgreSQL, gunicorn 1 sync worker, response cache off, "
        f"{args.requests} sequential requests per URL"
    )
    for label, p50, _ in rows:
        if label.startswith("stats"):
            base_label = "list, filtered" if "filtered" in label else "list"
            print(
                f"{label:28} p50 {p50 * 1000:8.1f} ms   ratio stats/{base_label} p50 {p50 / baseline[base_label]:.2f}"
            )


if __name__ == "__main__":
    main()
