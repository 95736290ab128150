"""The generated clients, as a third-party developer uses them: generated from the live server's schema with
openapi-python-client and openapi-typescript (for openapi-fetch), the two example programs of clients/ type-checked
with ``mypy --strict`` and ``tsc --strict`` (0 errors), then run against a real gunicorn server on a database of the
fixture dataset, on the suite's own engine (PostgreSQL when DATABASE_URL says so, else SQLite).

Needs Node.js 20+ and npm (clients/npm_ci.sh installs the pinned tools from package-lock.json, once per lock file);
without them the test fails, saying so. ``REEXAPI_TEST_CLIENTS_PORT`` fixes the server's port (default: a free one).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.serving.servers import PG_ADMIN_URL, PYTHON, ROOT, Server, manage, server_env, start_gunicorn

pytestmark = pytest.mark.clients

# The examples' filter and page size (clients/python/example.py, clients/typescript/example.ts).
FILTER = "status=signed,closed"
PAGE_SIZE = 3


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def _pg_drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(scope="module")
def served_database_url() -> Iterator[str]:
    """A database of the fixture dataset, migrated and loaded by the real commands, on the suite's engine. On
    PostgreSQL it is named after the suite's own database (``<db>_clients_live``), so it stays in that namespace."""
    suite_url = os.environ.get("DATABASE_URL", "")
    if suite_url.startswith("postgres"):
        name = f"{urlsplit(suite_url).path.lstrip('/') or 'reexapi'}_clients_live"
        _pg_drop(name)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        url = f"postgres://postgres@127.0.0.1:5432/{name}"
        try:
            _load(url)
            yield url
        finally:
            _pg_drop(name)
        return
    with tempfile.TemporaryDirectory(prefix="reexapi-clients-") as directory:
        url = f"sqlite:///{Path(directory) / 'served.sqlite3'}"
        _load(url)
        yield url


def _load(url: str) -> None:
    env = server_env(DATABASE_URL=url)
    manage("migrate", "--noinput", "-v", "0", env=env)
    manage("load_dataset", "-v", "0", env=env)


@pytest.fixture(scope="module")
def server(served_database_url: str) -> Iterator[Server]:
    port = os.environ.get("REEXAPI_TEST_CLIENTS_PORT")
    server = start_gunicorn(env=server_env(DATABASE_URL=served_database_url), port=int(port) if port else None)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def base_url(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture(scope="module")
def generated(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both clients, generated from the schema the live server serves (clients/generate.sh)."""
    out = tmp_path_factory.mktemp("clients")
    schema = server.get("/api/schema/?format=json")
    assert schema.status == 200, schema.text()
    (out / "openapi.json").write_bytes(schema.body)
    result = run("bash", "clients/generate.sh", str(out / "openapi.json"), str(out))
    assert result.returncode == 0, f"generating the clients failed:\n{result.stdout}\n{result.stderr}"
    assert (out / "python" / "reexapi_client" / "client.py").is_file()
    assert "paths" in (out / "typescript" / "schema.d.ts").read_text()
    return out


def test_both_programs_type_check_strictly(generated: Path):
    """mypy --strict (the example and the generated package it imports) and tsc --strict: 0 errors each."""
    result = run("bash", "clients/typecheck.sh", str(generated))
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"type errors:\n{output}"
    assert "Success: no issues found in 1 source file" in output
    assert "tsc: 0 errors" in output
    assert "error" not in output.replace("tsc: 0 errors", "")


def _expected(server: Server) -> tuple[list[str], str, int]:
    """What the examples must find, asked of the server directly: the filtered deals in the list's order, the
    one with the largest USD value, and the number of pages."""
    response = server.get(f"/api/v1/deals/?{FILTER}&page_size=100")
    assert response.status == 200, response.text()
    body = json.loads(response.body)
    slugs = [deal["slug"] for deal in body["results"]]
    valued = [(float(deal["amount_usd"]), deal["slug"]) for deal in body["results"] if deal["amount_usd"]]
    return slugs, max(valued)[1], math.ceil(body["count"] / PAGE_SIZE)


def _check_output(output: str, server: Server) -> None:
    slugs, largest, pages = _expected(server)
    assert pages >= 2, "the filter must give more than one page, or the pagination is not exercised"
    listed = [line.split()[0] for line in output.splitlines() if line.startswith("  ")]
    assert listed == slugs
    assert [line for line in output.splitlines() if line.startswith("page ")] == [
        f"page {n}: {min(PAGE_SIZE, len(slugs) - (n - 1) * PAGE_SIZE)} of {len(slugs)} deals"
        for n in range(1, pages + 1)
    ]
    assert f"listed {len(slugs)} signed or closed deals in {pages} pages" in output
    detail = server.get(f"/api/v1/deals/{largest}/")
    title = json.loads(detail.body)["title"]
    assert f"detail: {title} | " in output
    assert "revalidated with If-None-Match: 304 Not Modified" in output
    assert "no-such-deal: 404 No Deal matches the given query." in output


@pytest.fixture(scope="module")
def python_run(generated: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    """clients/python/example.py on the generated package, against the live server."""
    env = {**os.environ, "PYTHONPATH": str(generated / "python")}
    return run(PYTHON, "clients/python/example.py", base_url, env=env, timeout=120)


@pytest.fixture(scope="module")
def typescript_run(generated: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    """clients/typescript/example.ts with openapi-fetch (run by tsx), against the live server."""
    return run(str(ROOT / "node_modules" / ".bin" / "tsx"), "clients/typescript/example.ts", base_url, timeout=120)


def test_python_program_against_the_live_server(python_run: subprocess.CompletedProcess[str], server: Server):
    assert python_run.returncode == 0, f"{python_run.stdout}\n{python_run.stderr}"
    _check_output(python_run.stdout, server)


def test_typescript_program_against_the_live_server(typescript_run: subprocess.CompletedProcess[str], server: Server):
    assert typescript_run.returncode == 0, f"{typescript_run.stdout}\n{typescript_run.stderr}"
    _check_output(typescript_run.stdout, server)


def test_both_programs_print_the_same_summary(
    python_run: subprocess.CompletedProcess[str], typescript_run: subprocess.CompletedProcess[str]
):
    """The two clients read the same API the same way: their summaries are identical, line for line."""
    assert python_run.returncode == typescript_run.returncode == 0, python_run.stderr + typescript_run.stderr
    assert python_run.stdout == typescript_run.stdout
