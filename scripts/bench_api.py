#!/usr/bin/env python3
"""Requests per second of ``/api/v1/deals/?page_size=50`` on PostgreSQL under gunicorn, measured with wrk.

Usage (from the repository root; needs PostgreSQL on 127.0.0.1:5432 and ``wrk``, e.g. ``apt-get install wrk``):

    .venv/bin/python scripts/bench_api.py                 # defaults: 10 s, 2 threads, 16 connections, 2 workers
    .venv/bin/python scripts/bench_api.py --redis         # the shared Redis cache instead of local memory

What it does:
1. creates a scratch PostgreSQL database ``reexapi_bench_<pid>``, migrates it, loads the dataset and adds copies of
   its deals (scripts/bench_seed.py) until the deals table holds ``--deals`` rows (1000 by default);
2. serves the project under gunicorn with scripts/bench_settings.py, which adds one bench-only route,
   ``/bench/plain/``: a plain Django view returning the API response's bytes, rendered beforehand;
3. runs wrk against the API and against the plain view, with the rendered-response cache on (warm: every
   request after the first is a cache hit) and off (``REEXAPI_RESPONSE_CACHE=false``: every request runs the
   view, its queries and its serialisation), and prints both figures and their ratio;
4. stops gunicorn and drops the database, whatever happened.

The two URLs are served by the same gunicorn, the same settings and the same middleware stack; only the view
differs. wrk sends no If-None-Match, so every answer is a full 200 with the whole body.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
API_PATH = "/api/v1/deals/?page_size=50"
PLAIN_PATH = "/bench/plain/"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def run(cmd: list[str], *, env: dict[str, str]) -> str:
    """Run a command in the repository, fail loudly with its output if it fails."""
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"Command failed: {shlex.join(cmd)}\n{result.stdout}\n{result.stderr}")
    return result.stdout


def pg_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(sql)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, bytes, str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read(), response.headers.get("Content-Type", "")


def wait_until_up(url: str, *, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            fetch(url)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Gunicorn:
    """One gunicorn serving the project with the bench settings; stopped by its own process id."""

    def __init__(self, *, env: dict[str, str], port: int, workers: int):
        self.cmd = [
            str(GUNICORN),
            "--chdir",
            str(ROOT),
            "--pythonpath",
            str(ROOT / "scripts"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "reexapi.wsgi:application",
        ]
        self.env = env
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self.process = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env)
        return self

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wrk(url: str, *, duration: int, threads: int, connections: int) -> tuple[float, str, list[str]]:
    """Run wrk; return requests per second, its full output and the command."""
    # A generous timeout: a slow answer is a slow answer, not an error to throw away.
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "--latency", url]
    output = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in output or "Socket errors" in output:
        sys.exit(f"wrk saw errors, the figures would be meaningless:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not match:
        sys.exit(f"Could not read wrk's output:\n{output}")
    return float(match.group(1)), output, cmd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--deals", type=int, default=1000, help="rows in the deals table (default 1000, min 50)")
    parser.add_argument("--redis", action="store_true", help="use Redis (db 13 on 127.0.0.1:6379) as the cache")
    args = parser.parse_args()
    if args.deals < 50:
        parser.error("--deals must be at least 50: the page measured holds 50 deals")

    database = f"reexapi_bench_{os.getpid()}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
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
    body_file = Path(tempfile.mkstemp(prefix="reexapi-bench-", suffix=".body")[1])
    env["REEXAPI_BENCH_BODY"] = str(body_file)

    pg_execute(f'CREATE DATABASE "{database}"')
    results: dict[str, float] = {}
    commands: list[str] = []
    try:
        manage = [str(PYTHON), "manage.py"]
        run([*manage, "migrate", "--noinput", "-v", "0"], env=env)
        run([*manage, "load_dataset", "-v", "0"], env=env)
        code = f"import bench_seed; print(bench_seed.deals_copy(total={args.deals}))"
        count = int(run([*manage, "shell", "-c", code], env=env).strip().splitlines()[-1])
        print(f"Scratch database {database}: {count} deals.")

        for cache_on in (True, False):
            label = "cache on (warm)" if cache_on else "cache off"
            run_env = {**env, "REEXAPI_RESPONSE_CACHE": "true" if cache_on else "false"}
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            with Gunicorn(env=run_env, port=port, workers=args.workers):
                wait_until_up(base + "/api/v1/")
                status, body, content_type = fetch(base + API_PATH)
                if status != 200 or body.count(b'"slug"') < 50:
                    sys.exit(f"{API_PATH} did not answer a page of 50 deals (status {status}).")
                body_file.write_bytes(body)
                run_env["REEXAPI_BENCH_CONTENT_TYPE"] = content_type
                # Same bytes from both URLs: the comparison is only fair if the plain view sends exactly these.
                if fetch(base + PLAIN_PATH)[1] != body:
                    sys.exit("The plain view does not return the API's bytes.")
                for _ in range(20):  # warm every worker's connections (and, with the cache on, its cache)
                    fetch(base + API_PATH)
                    fetch(base + PLAIN_PATH)
                # The plain view first: a slow API run leaves queued requests that would delay whatever follows.
                for name, path in (("plain", PLAIN_PATH), ("api", API_PATH)):
                    time.sleep(2)  # let the previous run's connections drain
                    rps, output, cmd = wrk(
                        base + path, duration=args.duration, threads=args.threads, connections=args.connections
                    )
                    results[f"{name}, {label}"] = rps
                    commands.append(shlex.join(cmd))
                    print(f"\n== {name}, {label}: {shlex.join(cmd)}\n{output}")
    finally:
        body_file.unlink(missing_ok=True)
        pg_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if args.redis:
            import redis

            client = redis.Redis.from_url("redis://127.0.0.1:6379/13")
            for key in client.scan_iter(":1:reexapi:*"):
                client.delete(key)

    print("\n== Summary")
    print(
        f"{len(body)} bytes per response, {count} deals, gunicorn {args.workers} sync workers, cache backend "
        f"{'Redis' if args.redis else 'local memory'}; wrk {args.threads} threads, {args.connections} connections, "
        f"{args.duration} s per run, loopback."
    )
    for label in ("cache on (warm)", "cache off"):
        api, plain = results[f"api, {label}"], results[f"plain, {label}"]
        print(f"{label:16}  API {api:8.1f} req/s   plain view {plain:8.1f} req/s   ratio API/plain {api / plain:.2f}")


if __name__ == "__main__":
    main()
