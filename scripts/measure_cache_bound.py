#!/usr/bin/env python3
"""How big the response cache gets when one client sends unique query strings (issue: bounded response cache).

Usage (from the repository root; needs Redis on 127.0.0.1:6379, uses its database 14 and empties it):

    .venv/bin/python scripts/measure_cache_bound.py [--seconds 20] [--clients 4]

Serves the dataset (a scratch SQLite database, migrated and loaded) under gunicorn with the production
configuration and REDIS_URL, sends ``/api/v1/deals/?q=<unique>`` as fast as ``--clients`` threads can for
``--seconds``, then prints the requests sent, the response entries Redis holds and their total size, next to the
bound the settings promise (budget x (timeout / window + 1)). Everything targets 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.serving.servers import http_get, manage, server_env, start_gunicorn  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/14"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--budget", type=int, default=8 * 1024 * 1024, help="REEXAPI_RESPONSE_CACHE_BUDGET, bytes")
    args = parser.parse_args()
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    with tempfile.TemporaryDirectory() as directory:
        env = server_env(
            DATABASE_URL=f"sqlite:///{Path(directory) / 'db.sqlite3'}",
            REDIS_URL=REDIS_URL,
            REEXAPI_RESPONSE_CACHE_BUDGET=str(args.budget),
        )
        manage("migrate", "--noinput", "-v", "0", env=env)
        manage("load_dataset", "-v", "0", env=env)
        manage("collectstatic", "--noinput", "-v", "0", env=env)
        server = start_gunicorn(env=env, workers=2)
        counter = itertools.count()
        statuses: dict[int, int] = {}
        deadline = time.monotonic() + args.seconds

        def hammer() -> None:
            while time.monotonic() < deadline:
                status = http_get(server.port, f"/api/v1/deals/?q=unique{next(counter)}").status
                statuses[status] = statuses.get(status, 0) + 1

        threads = [threading.Thread(target=hammer) for _ in range(args.clients)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            server.stop()
    keys = [key for key in client.scan_iter("*") if b"reexapi:response:" in key]
    size = sum(client.memory_usage(key) or 0 for key in keys)
    budget, window, timeout = args.budget, 60, 300
    print(f"requests: {sum(statuses.values())} in {args.seconds:.0f} s, statuses {statuses}")
    print(f"response entries in Redis: {len(keys)}, {size / 1024:.0f} KiB (MEMORY USAGE)")
    bound = budget * (timeout // window + 1)
    print(f"budget {budget} B per {window} s window; stored bytes this window <= budget; bound {bound / 2**20:.1f} MiB")
    client.flushdb()


if __name__ == "__main__":
    main()
