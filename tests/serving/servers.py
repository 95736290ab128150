"""Real processes for the serving tests: gunicorn servers, ``manage.py`` runs, and listeners that never answer.

Everything binds to and targets 127.0.0.1 only. Servers run with DEBUG off and the production gunicorn
configuration (reexapi/gunicorn.conf.py), on a database of their own that a session fixture migrates and loads
(tests/serving/conftest.py), because a server process cannot see the test's own uncommitted transaction.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET_KEY = "test-serving-" + secrets.token_urlsafe(40)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(**overrides: str) -> dict[str, str]:
    """The environment of a production-like process: DEBUG off, plain HTTP cookies, this machine's host."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REEXAPI_", "GUNICORN_"))}
    env.pop("REDIS_URL", None)
    # The one setting kept: the run's own static folder (CI runs two suites at once, each collecting its own).
    if "REEXAPI_STATIC_ROOT" in os.environ:
        env["REEXAPI_STATIC_ROOT"] = os.environ["REEXAPI_STATIC_ROOT"]
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_COOKIES="false",
        REEXAPI_LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``manage.py`` in a process of its own (a shell, the loader…), failing loudly with its output."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def shell(code: str, *, env: dict[str, str]) -> str:
    """Run Python in ``manage.py shell`` (another process, as an operator would) and return what it printed."""
    return manage("shell", "--no-imports", "-c", code, env=env).stdout


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def http_get(port: int, path: str, *, headers: dict[str, str] | None = None, timeout: float = 30) -> Response:
    """One GET to 127.0.0.1:port, timed; any status is returned, never raised."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        return Response(
            response.status, {k.lower(): v for k, v in response.getheaders()}, body, time.monotonic() - started
        )
    finally:
        connection.close()


@dataclass
class Server:
    """A gunicorn process; its stderr (the application's log lines) is kept in a file."""

    port: int
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str] = field(repr=False)

    def get(self, path: str, **kwargs) -> Response:
        return http_get(self.port, path, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_gunicorn(
    *, env: dict[str, str], workers: int = 1, ready_path: str = "/api/schema/", port: int | None = None
) -> Server:
    """Start gunicorn with the production configuration (on ``port``, or a free one) and wait until it answers
    ``ready_path``."""
    port = port or free_port()
    # The server's public address is its own, as an operator sets it: the schema's `servers` entry (which Swagger
    # UI's "Try it out" calls) then points at this server.
    env = {"REEXAPI_PUBLIC_URL": f"http://127.0.0.1:{port}", **env}
    log = tempfile.NamedTemporaryFile(prefix="reexapi-gunicorn-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [GUNICORN, "-c", "reexapi/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
        + ["reexapi.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(port=port, process=process, log_path=Path(log.name), env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}:\n{server.log()}")
        try:
            if server.get(ready_path, timeout=10).status < 500:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise AssertionError(f"gunicorn did not answer within 60 s:\n{server.log()}")


class SilentListener:
    """A TCP listener on 127.0.0.1 that accepts every connection and never sends a byte: a stalled server."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn)  # kept open, never read from or written to

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        for conn in self.accepted:
            conn.close()
        self.sock.close()

    def __enter__(self) -> SilentListener:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused at once)."""
    return free_port()
