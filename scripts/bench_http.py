"""Benchmark-only helpers of scripts/bench_api.py: a scratch gunicorn, wrk runs, sequential timings, worker RSS.

Nothing here asserts anything; it measures and returns figures. Every process it starts it stops by its own id.
"""

from __future__ import annotations

import json
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"


def fetch(url: str, *, timeout: float = 120) -> tuple[int, bytes, dict[str, str]]:
    """GET ``url``: (status, body, headers), error statuses included (never raises for an HTTP status)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers.items())
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers.items())


def fetch_json(url: str) -> dict:
    status, body, _ = fetch(url)
    if status != 200:
        sys.exit(f"{url} answered {status}: {body[:300]!r}")
    return json.loads(body)


def wait_until_up(url: str, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            fetch(url, timeout=5)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Gunicorn:
    """One gunicorn serving the project with the bench settings, its output in a log file; stopped by its id."""

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
            # Slow baseline answers (unindexed search at 100k) must be measured, not killed.
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "reexapi.wsgi:application",
        ]
        self.env = env
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="reexapi-bench-gunicorn-", suffix=".log", delete=False)

    def __enter__(self) -> Gunicorn:
        # The request log (one JSON line per request) goes to the file, not the terminal.
        self.process = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log)
        wait_until_up(self.base + "/api/v1/")
        return self

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)

    def worker_rss_mb(self) -> dict[int, float]:
        """VmRSS (MB) of each worker: the processes whose parent is this gunicorn's master."""
        assert self.process is not None
        found = {}
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            except OSError:
                continue  # the process ended while we looked
            if fields.get("PPid", "").strip() == str(self.process.pid) and "VmRSS" in fields:
                found[int(status.parent.name)] = int(fields["VmRSS"].split()[0]) / 1024
        return found


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    output: str
    command: str


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, *, duration: int, threads: int, connections: int, script: Path | None = None) -> WrkResult:
    """Run wrk (with ``--latency``); exit if it saw any non-2xx answer or socket error."""
    # A generous timeout: a slow answer is a slow answer, not an error to throw away.
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "--latency"]
    if script:
        cmd += ["-s", str(script)]
    cmd.append(url)
    output = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in output or "Socket errors" in output:
        sys.exit(f"wrk saw errors, the figures would be meaningless:\n{output}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (rps and p50 and p99):
        sys.exit(f"Could not read wrk's output:\n{output}")
    return WrkResult(float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), output, " ".join(cmd))


def wrk_paths_script(paths: list[str]) -> Path:
    """A wrk Lua script sending GETs to ``paths`` chosen at random (each thread seeded differently)."""
    quoted = ",\n".join(json.dumps(path) for path in paths)
    script = (
        f"local paths = {{\n{quoted}\n}}\n"
        "local counter = 0\n"
        "function setup(thread) counter = counter + 1; thread:set('seed', counter) end\n"
        "function init(args) math.randomseed(tonumber(seed) or 1) end\n"
        "function request() return wrk.format('GET', paths[math.random(#paths)]) end\n"
    )
    handle = tempfile.NamedTemporaryFile("w", prefix="reexapi-bench-", suffix=".lua", delete=False)
    handle.write(script)
    handle.close()
    return Path(handle.name)


@dataclass
class Timing:
    p50_ms: float | None
    runs: int
    statuses: set[int]

    @property
    def ok(self) -> bool:
        return self.p50_ms is not None and self.statuses == {200}


def timed(url: str, *, repeat: int, budget_s: float = 60) -> Timing:
    """Median latency of ``repeat`` sequential GETs (fewer if they exceed ``budget_s``; one at least)."""
    latencies, statuses = [], set()
    began = time.perf_counter()
    for _ in range(repeat):
        start = time.perf_counter()
        status, _, _ = fetch(url)
        latencies.append((time.perf_counter() - start) * 1000)
        statuses.add(status)
        if time.perf_counter() - began > budget_s:
            break
    return Timing(statistics.median(latencies), len(latencies), statuses)
