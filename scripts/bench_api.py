#!/usr/bin/env python3
"""Issue 9's benchmark table in one run: every target, each against its own baseline measured in the same run.

Usage (from the repository root; needs PostgreSQL on 127.0.0.1:5432 and ``wrk``, e.g. ``apt-get install wrk``):

    .venv/bin/python scripts/bench_api.py                        # everything (~10 min on 2 busy cores)
    .venv/bin/python scripts/bench_api.py --quick                # shorter runs, fewer repeats
    .venv/bin/python scripts/bench_api.py --only list,cached     # a subset (cases below)
    .venv/bin/python scripts/bench_api.py --redis                # the shared Redis cache instead of local memory

Cases (``--only``), each printed as a row with its measured figure, its baseline, the ratio, the target and
PASS/FAIL:

- ``list``: uncached ``/api/v1/deals/?page_size=50`` at 1,000 deals on PostgreSQL, requests/s under wrk, vs a plain
  Django view returning the same bytes pre-rendered (``/bench/plain/<name>/``, scripts/bench_urls.py). Uncached
  means the response cache is off: every request runs its view and its queries; the record cache
  (deals/api/fast/record_cache.py) is at its default, as in production, so records already rendered are reused.
  An info row gives the same with the record cache off too (every record built by every request);
- ``detail``: the same for one deal's detail;
- ``cached``: the list with the response cache on and warm, vs the plain view;
- ``queries``: SQL statements per list request (every list, page_size 1/25/50/100), counted in a Django process
  with ``CaptureQueriesContext`` around the whole middleware stack, response cache and record cache off (a page
  whose records are all built; a warm page makes one query less);
- ``varied``: p99 latency at 64 connections over ~100 different valid API URLs (lists with filters, orderings,
  pages, sizes and formats; details), response cache off so that every request runs its view;
- ``search``: at ``--big-deals`` (100k) deals, p50 of ``q=magnet`` and ``q=rare earth`` vs the unfiltered first
  page's p50 (sequential requests), on PostgreSQL and SQLite;
- ``deep``: at 100k deals, a page within the last 100 rows reached through ``cursor`` (following ``next`` links)
  vs the cursor's first page; "n/a" while the API answers 400 to ``cursor``. The last page by page number is
  printed too, for comparison;
- ``rss``: VmRSS of each gunicorn worker (/proc/<pid>/status) after the 100k benchmark, on each database.

What it does: creates a scratch PostgreSQL database ``<prefix>_<pid>`` (prefix ``--db-prefix``, default
``reexapi_bench``), migrates it, loads the dataset and
copies its deals (scripts/bench_seed.py, timed) up to ``--deals``; serves it under gunicorn with
scripts/bench_settings.py (the project's settings plus the plain view; rate limit off, DEBUG off) with the response
cache off, then on; grows the same database to ``--big-deals`` for the 100k cases; then the same 100k cases on a
scratch SQLite file. Every gunicorn is stopped and every scratch database dropped, whatever happened. The API and
the plain view are served by the same gunicorn, the same settings and the same middleware stack; only the view
differs. wrk sends no If-None-Match, so every answer is a full 200 with the whole body.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_http import Gunicorn, fetch, fetch_json, timed, wrk, wrk_paths_script  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LIST_PATH = "/api/v1/deals/?page_size=50"
LISTS = ("deals", "companies", "facilities", "sources", "commodities")
CASES = ("list", "detail", "cached", "queries", "varied", "search", "deep", "rss")
BIG_CASES = {"search", "deep", "rss"}
SEARCH_TERMS = ("magnet", "rare earth")


@dataclass
class Row:
    what: str
    measured: str
    baseline: str
    ratio: float | None
    target: str
    result: str  # PASS, FAIL, n/a or info


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def run(cmd: list[str], *, env: dict[str, str]) -> str:
    """Run a command in the repository, fail loudly with its output if it fails."""
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"Command failed: {shlex.join(cmd)}\n{result.stdout}\n{result.stderr}")
    return result.stdout


def django_run(code: str, *, env: dict[str, str]) -> str:
    """Run Python ``code`` in a Django process of the scratch database; return its last line of output."""
    return run([str(PYTHON), "manage.py", "shell", "--no-imports", "-c", code], env=env).strip().splitlines()[-1]


def pg_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(sql)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_prepare(env: dict[str, str], *, label: str) -> None:
    began = time.perf_counter()
    run([str(PYTHON), "manage.py", "migrate", "--noinput", "-v", "0"], env=env)
    run([str(PYTHON), "manage.py", "load_dataset", "-v", "0"], env=env)
    print(f"{label}: migrated and loaded the dataset in {time.perf_counter() - began:.1f} s.", flush=True)


def deals_seed(env: dict[str, str], *, total: int, label: str) -> int:
    """Grow the deals table to ``total`` (scripts/bench_seed.py) and print how long it took."""
    code = (
        "import time, bench_seed; t = time.perf_counter(); "
        f"n = bench_seed.deals_copy(total={total}, verbose=True); print(n, round(time.perf_counter() - t, 1))"
    )
    output = run([str(PYTHON), "manage.py", "shell", "--no-imports", "-c", code], env=env).strip().splitlines()
    count, seconds = output[-1].split()
    details = next((line for line in output if line.startswith("Seeded")), "")
    print(f"{label}: {int(count):,} deals, seeding took {seconds} s. {details}", flush=True)
    return int(count)


def server_env(env: dict[str, str], *, cache: bool, records: bool = True) -> dict[str, str]:
    """``env`` with the response cache on or off, and the record cache (deals/api/fast/record_cache.py) at its
    default size or off."""
    return {**env, "REEXAPI_RESPONSE_CACHE": "true" if cache else "false"} | (
        {} if records else {"REEXAPI_RECORD_CACHE_BYTES": "0"}
    )


def body_save(body_dir: Path, name: str, body: bytes, content_type: str) -> None:
    (body_dir / f"{name}.body").write_bytes(body)
    (body_dir / f"{name}.type").write_text(content_type)


def versus_plain(server: Gunicorn, body_dir: Path, *, name: str, path: str, args) -> tuple[float, float]:
    """Requests/s of ``path`` and of the plain view serving its bytes: (api, plain)."""
    status, body, headers = fetch(server.base + path)
    if status != 200:
        sys.exit(f"{path} answered {status}: {body[:300]!r}")
    body_save(body_dir, name, body, headers.get("Content-Type", "application/json"))
    plain = f"/bench/plain/{name}/"
    # Same bytes from both URLs: the comparison is only fair if the plain view sends exactly these.
    if fetch(server.base + plain)[1] != body:
        sys.exit("The plain view does not return the API's bytes.")
    for _ in range(20):  # warm every worker's connections (and, with the cache on, its cache)
        fetch(server.base + path)
        fetch(server.base + plain)
    figures = {}
    # The plain view first: a slow API run leaves queued requests that would delay whatever follows.
    for which, url in (("plain", plain), ("api", path)):
        time.sleep(2)  # let the previous run's connections drain
        result = wrk(server.base + url, duration=args.duration, threads=args.threads, connections=args.connections)
        figures[which] = result.rps
        print(f"\n== {name}, {which}: {result.command}\n{result.output}", flush=True)
    return figures["api"], figures["plain"]


def ratio_row(what: str, api: float, plain: float, *, minimum: float) -> Row:
    ratio = api / plain
    return Row(
        what, f"{api:,.1f} req/s", f"plain {plain:,.1f} req/s", ratio, f">= {minimum}x", verdict(ratio >= minimum)
    )


QUERY_COUNT_CODE = """
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client, counts = Client(), {}
for name in %r:
    for size in (1, 25, 50, 100):
        path = f"/api/v1/{name}/?page_size={size}"
        client.get(path)  # the first request of a process may set things up; count the second
        with CaptureQueriesContext(connection) as queries:
            status = client.get(path).status_code
        counts.setdefault(name, []).append((size, status, len(queries)))
print(json.dumps(counts))
"""


def queries_rows(env: dict[str, str]) -> list[Row]:
    # The record cache off too: the count of a page whose records are all built (a warm one makes one query less).
    counting_env = {**server_env(env, cache=False, records=False), "DJANGO_ALLOWED_HOSTS": "testserver"}
    counts = json.loads(django_run(QUERY_COUNT_CODE % (LISTS,), env=counting_env))
    rows = []
    for name, figures in counts.items():
        numbers = [count for _, status, count in figures if status == 200]
        ok = len(numbers) == len(figures) and len(set(numbers)) == 1 and max(numbers) <= 4
        measured = " ".join(f"{size}:{count}" for size, _, count in figures)
        rows.append(
            Row(f"Queries per {name} list request", measured, "page_size:queries", None, "constant, <= 4", verdict(ok))
        )
    return rows


def varied_paths(base: str, *, count: int, seed: int = 9) -> list[str]:
    """About ``count`` different valid API paths (each checked to answer 200), as third-party apps send them."""
    rng = random.Random(seed)
    deals = fetch_json(base + "/api/v1/deals/?page_size=100")["results"]
    companies = fetch_json(base + "/api/v1/companies/?page_size=100")["results"]
    commodities = fetch_json(base + "/api/v1/commodities/?page_size=100")["results"]
    statuses = sorted({deal["status"] for deal in deals})
    orderings = ["-announced_date", "announced_date", "title", "-amount_usd", "slug", "-evidence_count", "-updated"]
    candidates = set()
    while len(candidates) < count * 1.3:
        kind = rng.random()
        size, page = rng.choice((10, 25, 50)), rng.randint(1, 5)
        if kind < 0.55:
            query = {"page_size": size, "page": page}
            if rng.random() < 0.4:
                query["status"] = rng.choice(statuses)
            if rng.random() < 0.4:
                query["commodity"] = rng.choice(commodities)["slug"]
                query["page"] = 1
            if rng.random() < 0.4:
                query["ordering"] = rng.choice(orderings)
            if rng.random() < 0.1:
                query["format"] = "csv"
            candidates.add("/api/v1/deals/?" + urllib.parse.urlencode(query))
        elif kind < 0.75:
            candidates.add(f"/api/v1/deals/{rng.choice(deals)['slug']}/")
        elif kind < 0.85:
            candidates.add(f"/api/v1/companies/{rng.choice(companies)['slug']}/")
        else:
            name = rng.choice(("companies", "facilities", "commodities", "sources"))
            candidates.add(f"/api/v1/{name}/?page_size={size}")
    valid = [path for path in sorted(candidates) if fetch(base + path)[0] == 200]
    return valid[:count]


def uncached_rows(env, body_dir: Path, args, cases: set[str]) -> list[Row]:
    rows = []
    with Gunicorn(env=server_env(env, cache=False), port=free_port(), workers=args.workers) as server:
        if "list" in cases:
            api, plain = versus_plain(server, body_dir, name="list", path=LIST_PATH, args=args)
            rows.append(ratio_row("Uncached list, page_size=50, PG, 1k deals", api, plain, minimum=0.2))
        if "detail" in cases:
            first = fetch_json(server.base + LIST_PATH)["results"][0]["slug"]
            api, plain = versus_plain(server, body_dir, name="detail", path=f"/api/v1/deals/{first}/", args=args)
            rows.append(ratio_row("Uncached detail, PG, 1k deals", api, plain, minimum=0.3))
        if "varied" in cases:
            paths = varied_paths(server.base, count=100)
            script = wrk_paths_script(paths)
            try:
                time.sleep(2)
                result = wrk(server.base + "/", duration=args.duration, threads=2, connections=64, script=script)
            finally:
                script.unlink(missing_ok=True)
            print(f"\n== varied URLs ({len(paths)} paths): {result.command}\n{result.output}", flush=True)
            rows.append(
                Row(
                    f"Varied URLs ({len(paths)}), 64 connections, PG, 1k deals, cache off",
                    f"p99 {result.p99_ms:,.0f} ms",
                    f"p50 {result.p50_ms:,.0f} ms, {result.rps:,.1f} req/s",
                    None,
                    "p99 < 250 ms",
                    verdict(result.p99_ms < 250),
                )
            )
    if cases & {"list", "detail"}:
        rows += cold_rows(env, body_dir, args, cases)
    return rows


def cold_rows(env, body_dir: Path, args, cases: set[str]) -> list[Row]:
    """For comparison (info): the same list and detail with the record cache off too, so that every request builds
    every record of its page."""
    rows = []
    with Gunicorn(env=server_env(env, cache=False, records=False), port=free_port(), workers=args.workers) as server:
        for case, name, path in (("list", "list_cold", LIST_PATH), ("detail", "detail_cold", None)):
            if case not in cases:
                continue
            path = path or f"/api/v1/deals/{fetch_json(server.base + LIST_PATH)['results'][0]['slug']}/"
            api, plain = versus_plain(server, body_dir, name=name, path=path, args=args)
            row = ratio_row(f"Uncached {case}, record cache off too (info)", api, plain, minimum=0)
            rows.append(Row(row.what, row.measured, row.baseline, row.ratio, "-", "info"))
    return rows


def cached_rows(env, body_dir: Path, args) -> list[Row]:
    with Gunicorn(env=server_env(env, cache=True), port=free_port(), workers=args.workers) as server:
        api, plain = versus_plain(server, body_dir, name="list_cached", path=LIST_PATH, args=args)
    return [ratio_row("Cached list (warm), page_size=50, PG", api, plain, minimum=0.9)]


def timing_text(timing) -> str:
    text = f"p50 {timing.p50_ms:,.0f} ms (n={timing.runs})"
    return text if timing.ok else f"{text}, HTTP {'/'.join(map(str, sorted(timing.statuses)))}"


def big_rows(env, args, cases: set[str], *, label: str, deals: int) -> list[Row]:
    """Search, deep pages and worker memory at ``deals`` deals, sequential requests, response cache off."""
    rows = []
    # Slow baselines (unindexed search) are measured, not cut short by the requests' statement timeout.
    big_env = {**server_env(env, cache=False), "REEXAPI_DB_STATEMENT_TIMEOUT_MS": "110000"}
    size = f"{deals // 1000}k"
    with Gunicorn(env=big_env, port=free_port(), workers=args.workers) as server:
        first_url = server.base + LIST_PATH
        for _ in range(4):  # warm both workers' connections and caches
            fetch(first_url)
        first = timed(first_url, repeat=args.repeat)
        if "search" in cases:
            for term in SEARCH_TERMS:
                timing = timed(f"{first_url}&q={urllib.parse.quote(term)}", repeat=args.repeat, budget_s=60)
                ratio = timing.p50_ms / first.p50_ms
                rows.append(
                    Row(
                        f"Search q={term}, {label}, {size} deals",
                        timing_text(timing),
                        f"first page {timing_text(first)}",
                        ratio,
                        "<= 2x",
                        verdict(timing.ok and ratio <= 2),
                    )
                )
        if "deep" in cases:
            rows += deep_rows(server, args, label=label, size=size, first_url=first_url, first=first)
        if "rss" in cases:
            rss = server.worker_rss_mb()
            worst = max(rss.values())
            measured = ", ".join(f"{mb:.0f}" for mb in sorted(rss.values()))
            rows.append(
                Row(
                    f"Worker RSS after the {size} benchmark, {label}",
                    f"max {worst:.0f} MB",
                    f"{len(rss)} workers: {measured} MB",
                    None,
                    "<= 100 MB",
                    verdict(worst <= 100),
                )
            )
    return rows


def deep_rows(server: Gunicorn, args, *, label: str, size: str, first_url: str, first) -> list[Row]:
    rows = []
    count = fetch_json(first_url)["count"]
    last_page = -(-count // 50)
    by_number = timed(f"{first_url}&page={last_page}", repeat=args.repeat)
    rows.append(
        Row(
            f"Last page by number ({last_page}), {label}, {size}",
            timing_text(by_number),
            f"first page {timing_text(first)}",
            by_number.p50_ms / first.p50_ms,
            "(comparison)",
            "info",
        )
    )
    status, body, _ = fetch(first_url + "&cursor=")
    what = f"Deep page via cursor, {label}, {size}"
    if status == 400 and b"cursor" in body:
        return [*rows, Row(what, "n/a", "n/a", None, "<= 1.5x", "n/a")]
    if status != 200:
        return [*rows, Row(what, f"HTTP {status} to cursor=", "", None, "<= 1.5x", "FAIL")]
    deep_url, walked = cursor_walk_end(server.base + "/api/v1/deals/?page_size=100&cursor=")
    deep_url = deep_url.replace("page_size=100", "page_size=50")
    cursor_first = timed(first_url + "&cursor=", repeat=args.repeat)
    deep = timed(deep_url, repeat=args.repeat)
    ratio = deep.p50_ms / cursor_first.p50_ms
    measured = f"{timing_text(deep)} after {walked} pages of 100"
    ok = deep.ok and cursor_first.ok and ratio <= 1.5
    return [*rows, Row(what, measured, f"cursor first {timing_text(cursor_first)}", ratio, "<= 1.5x", verdict(ok))]


def cursor_walk_end(url: str, *, budget_s: float = 240) -> tuple[str, int]:
    """Follow ``next`` links from ``url`` to the end (or ``budget_s``); return the last page's URL and the count."""
    began, walked = time.perf_counter(), 0
    while True:
        data = fetch_json(url)
        walked += 1
        following = data.get("next")
        if not following or time.perf_counter() - began > budget_s:
            return url, walked
        url = following


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", default=",".join(CASES), help=f"comma-separated cases (default all: {','.join(CASES)})"
    )
    parser.add_argument("--quick", action="store_true", help="3 s wrk runs and 3 repeats (rough figures, ~4 min)")
    parser.add_argument("--duration", type=int, help="seconds per wrk run (default 10; 3 with --quick)")
    parser.add_argument("--repeat", type=int, help="sequential requests per 100k case (default 7; 3 with --quick)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections for the ratios (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--deals", type=int, default=1000, help="deals for the 1k cases (default 1000, min 50)")
    parser.add_argument("--big-deals", type=int, default=100_000, help="deals for search/deep/rss (default 100000)")
    parser.add_argument("--databases", default="postgresql,sqlite", help="for search/deep/rss (default both)")
    parser.add_argument(
        "--db-prefix",
        default="reexapi_bench",
        help="scratch PostgreSQL database: <prefix>_<pid> (default reexapi_bench)",
    )
    parser.add_argument("--redis", action="store_true", help="use Redis (db 13 on 127.0.0.1:6379) as the cache")
    args = parser.parse_args()
    cases = {case.strip() for case in args.only.split(",") if case.strip()}
    if unknown := cases - set(CASES):
        parser.error(f"unknown case(s) {', '.join(sorted(unknown))}: choose from {', '.join(CASES)}")
    if args.deals < 50:
        parser.error("--deals must be at least 50: the page measured holds 50 deals")
    args.duration = args.duration or (3 if args.quick else 10)
    args.repeat = args.repeat or (3 if args.quick else 7)
    databases = {name.strip() for name in args.databases.split(",")}

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # wrk is one client at thousands of requests a second: the per-IP rate limit would answer 429s.
        "REEXAPI_API_RATE_LIMIT": "off",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "scripts")]),
    }
    env.pop("REDIS_URL", None)
    if args.redis:
        env["REDIS_URL"] = "redis://127.0.0.1:6379/13"
    print(f"{os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the start.")
    began = time.perf_counter()
    rows: list[Row] = []
    try:
        phases_run(rows, env, args, cases, databases)
    finally:  # whatever failed, the rows measured so far are printed
        table_print(rows, args, elapsed=time.perf_counter() - began)


def phases_run(rows: list[Row], env: dict[str, str], args, cases: set[str], databases: set[str]) -> None:
    """The PostgreSQL phases (1k deals, then grown to 100k), then SQLite at 100k; rows appended as measured."""
    with tempfile.TemporaryDirectory(prefix="reexapi-bench-") as tmp:
        env["REEXAPI_BENCH_BODY_DIR"] = tmp
        body_dir = Path(tmp)
        small = cases - BIG_CASES
        big = cases & BIG_CASES
        if small or (big and "postgresql" in databases):
            database = f"{args.db_prefix}_{os.getpid()}"
            pg_env = {**env, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}"}
            pg_execute(f'CREATE DATABASE "{database}"')
            try:
                database_prepare(pg_env, label="PostgreSQL")
                if small:
                    deals_seed(pg_env, total=args.deals, label="PostgreSQL")
                if "queries" in cases:
                    rows += queries_rows(pg_env)
                if small & {"list", "detail", "varied"}:
                    rows += uncached_rows(pg_env, body_dir, args, cases)
                if "cached" in cases:
                    rows += cached_rows(pg_env, body_dir, args)
                if big and "postgresql" in databases:
                    deals = deals_seed(pg_env, total=args.big_deals, label="PostgreSQL")
                    rows += big_rows(pg_env, args, cases, label="PG", deals=deals)
            finally:
                pg_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if big and "sqlite" in databases:
            sqlite_env = {**env, "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3"}
            database_prepare(sqlite_env, label="SQLite")
            deals = deals_seed(sqlite_env, total=args.big_deals, label="SQLite")
            rows += big_rows(sqlite_env, args, cases, label="SQLite", deals=deals)
    if args.redis:
        import redis

        client = redis.Redis.from_url("redis://127.0.0.1:6379/13")
        for key in client.scan_iter(":1:reexapi:*"):
            client.delete(key)


def table_print(rows: list[Row], args, *, elapsed: float) -> None:
    print("\n== Summary (issue 9's targets; every ratio against a baseline measured in this run)")
    print(
        f"{os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end; "
        f"gunicorn {args.workers} sync workers; wrk {args.threads} threads, {args.connections} connections, "
        f"{args.duration} s per run; {args.repeat} sequential requests per 100k case; cache backend "
        f"{'Redis' if args.redis else 'local memory'}; {elapsed:.0f} s in all."
    )
    headers = ("What", "Measured", "Baseline", "Ratio", "Target", "Result")
    cells = [
        (r.what, r.measured, r.baseline, "" if r.ratio is None else f"{r.ratio:.3f}", r.target, r.result) for r in rows
    ]
    widths = [max(len(str(line[i])) for line in (headers, *cells)) for i in range(len(headers))]
    for line in (headers, tuple("-" * width for width in widths), *cells):
        print("| " + " | ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()
