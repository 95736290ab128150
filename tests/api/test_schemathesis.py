"""Schemathesis with every check against the live server, in positive and negative mode (issue 8 §4).

- **Server:** pytest-django's ``live_server`` (a real HTTP server in this process) on the test database, PostgreSQL
  or SQLite, with the real dataset loaded and committed (a transactional test), so detail pages and filters find
  records. The rate limit is off for the run: one client sends thousands of requests.
- **Runner:** the ``st`` command line, exactly as an operator runs it: ``--checks all`` (server errors, status
  codes, content types, headers, response schemas, positive data accepted, negative data rejected, unsupported
  methods, Allow headers…), the ``examples``, ``coverage`` and ``fuzzing`` phases (``stateful`` needs OpenAPI links,
  which a read-only API has none of), derandomised (``--generation-deterministic``) so every run sends the same
  requests.
- **Verdict:** the JSON report: every operation tested, every phase a success, no failure and no error.

Each mode is its own test, so the report's case counts are per mode.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

MAX_EXAMPLES = 15
# The index, list + CSV + detail of five collections, the facilities' GeoJSON, the two statistics, the change feed,
# three histories, four release operations (list, index.json, detail, file) and the search across resources.
OPERATIONS = 28
PHASES = ("examples", "coverage", "fuzzing")
# A mode takes 3 to 5 minutes while the other database's suite runs beside it (.ci/run), and over 10 at a load of
# 15: the limit only stops a hang from lasting until CI's own limit, it is not a speed test.
ST_TIMEOUT = 1200


def _stages_seed() -> None:
    """What migration 0002 seeds (the supply-chain stages), idempotent."""
    from django.apps import apps

    importlib.import_module("deals.migrations.0002_seed_supply_chain_stages").seed(apps, None)


@pytest.fixture(scope="module", autouse=True)
def stages_reseeded(django_db_blocker):
    """A transactional test ends with a flush, which also removes what migrations seeded; later tests rely on it,
    as on a freshly migrated database. Module scope, so this runs after the last test's flush. (serialized_rollback
    would restore it too, but it skips the post-migrate content types and permissions after its flush, which breaks
    later transactional tests.)"""
    yield
    with django_db_blocker.unblock():
        _stages_seed()


@pytest.fixture
def live_api(live_server, transactional_db, settings):
    """The live server's base URL, with the real dataset committed and the rate limit off."""
    _stages_seed()  # the previous test's flush removed them
    call_command("load_dataset", verbosity=0)
    settings.REEXAPI_API_RATE_LIMIT = "off"
    return live_server.url


def _workers() -> int:
    """Two concurrent clients, except on an in-memory SQLite test database. There the live server's request threads
    all share the test's one connection, and two queries at once on it can deadlock: a thread inside SQLite waiting
    for the GIL to call one of Django's Python SQL functions, while the other holds the GIL waiting for SQLite's
    lock (seen in a full run: both request threads stuck in ``execute`` until the run's time limit)."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return 1
    return 2


def schemathesis_run(*, base_url: str, mode: str, report: Path) -> dict:
    """Run ``st run`` against the live server and return its JSON report."""
    st = Path(sys.executable).with_name("st")
    command = [
        str(st),
        "run",
        f"{base_url}/api/schema/?format=json",
        "--checks",
        "all",
        "--mode",
        mode,
        "--phases",
        ",".join(PHASES),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--workers",
        str(_workers()),
        "--request-timeout",
        "20",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    # Its own process group, so that a run that stalls is killed whole and fails the test: subprocess.run's timeout
    # kills only `st` and then waits for the pipes, which a surviving child would hold open forever.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=ST_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate(timeout=30)
        pytest.fail(f"st run did not finish in {ST_TIMEOUT} s; its last output:\n{output[-5000:]}")
    assert report.exists(), output
    result = json.loads(report.read_text(encoding="utf-8"))
    result["_output"] = output
    return result


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_schemathesis_finds_no_failure(live_api, mode, tmp_path, capsys):
    report = schemathesis_run(base_url=live_api, mode=mode, report=tmp_path / "report.json")
    output = report["_output"]
    assert report["failures"] == [], output
    assert report["errors"] == [], output
    assert report["complete"] is True and report["exit_code"] == 0, output
    assert report["operations"]["tested"] == OPERATIONS, output
    assert report["operations"]["errored"] == 0, output
    for phase in PHASES:
        assert report["phases"][phase]["status"] == "success", (phase, output)
    cases = report["test_cases"]
    # Guard against a vacuous run: hundreds of requests, all of them checked.
    assert cases["generated"] >= 300, output
    assert cases["without_checks"] == 0 and cases["errored"] == 0, output
    with capsys.disabled():
        print(
            f"\nschemathesis {mode}: {cases['generated']} cases, {cases['with_failures']} with failures, "
            f"{len(report['failures'])} failures, {len(report['errors'])} errors, "
            f"{report['running_time']:.0f} s"
        )
