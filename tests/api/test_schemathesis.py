"""Schemathesis over every operation of /api/schema/, in process (the WSGI app, no network).

- **Operations:** all of them, as the schema lists them (one pytest item each).
- **Data:** the real dataset (``load_dataset``), so that detail pages and filters find records.
- **Examples:** at most ``MAX_EXAMPLES`` generated cases per operation, plus the schema's own examples; Hypothesis
  runs derandomised (a fixed seed derived from each test), so every run sends the same requests.
- **Checks:** ``not_a_server_error``, ``response_schema_conformance`` and ``status_code_conformance``; a single
  failing case fails the item.

Fixture scope: ``api_dataset`` is function-scoped, so it is set up once per operation and shared by that
operation's generated cases. That is deliberate and safe: the API is read-only (the schema has no write
operation), so no case can change what the next one sees. It is requested with ``usefixtures`` rather than as an
argument, which is why Hypothesis' function-scoped-fixture health check has nothing to object to.
"""

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from reexapi.wsgi import application

# Enough to cover every filter of the widest operation (deals: 18 parameters) a few times over; 10 operations with
# parameters x 60 + the index's single case = 601 generated cases per run.
MAX_EXAMPLES = 60
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def api_dataset(db):
    """The real dataset, loaded and verified by the loader, in this test's transaction."""
    call_command("load_dataset", verbosity=0)


@pytest.fixture
def wsgi_keeps_test_connection():
    """Calls go straight to the WSGI handler, whose request signals would close the database connection
    (``close_old_connections`` closes a connection found inside a transaction, i.e. the test's): on PostgreSQL the
    next query would fail. Django's own test client disconnects them the same way around each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("api_dataset", "wsgi_keeps_test_connection")
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case):
    case.call_and_validate(checks=CHECKS)


def test_schema_lists_every_endpoint():
    """Guard against a vacuous run: the schema the test walks is the full API, not an empty or partial one."""
    paths = {operation.path for operation in (result.ok() for result in schema.get_all_operations())}
    expected = {"/api/v1/"}
    for resource in ("deals", "companies", "facilities", "sources", "commodities"):
        expected |= {f"/api/v1/{resource}/", f"/api/v1/{resource}/{{slug}}/"}
    assert paths == expected
