"""The cost of a response-cache hit in database round trips (deals/caching.py ``_version_read_checked``).

Under a server, Django resets a kept connection's health check at every request's start, and with
``CONN_HEALTH_CHECKS`` it would send a ``SELECT 1`` before the request's first query: on a cache hit, whose only
query is the dataset version, that doubled the round trips. The version read now serves as the health check. The
Django test client does not reset the health check between requests, so the tests do it by hand, as a server does.

On PostgreSQL the round trips are counted on the wire, with libpq's protocol trace of the real connection: the
health check's raw ``SELECT 1`` never reaches Django's query log. (A killed kept connection is replaced on the next
request, the other half of the health check's job: tests/serving/test_faults.py, under gunicorn.)
"""

import tempfile

import pytest
from django.db import connection

from tests.factories import DealFactory

URL = "/api/v1/deals/?page_size=5"


def _statements_sent(trace: bytes) -> int:
    """Statements the client sent (simple ``Query`` or extended-protocol ``Parse``) in a libpq trace."""
    lines = trace.decode("utf-8", "replace").splitlines()
    return sum(1 for line in lines if "\tF\t" in line and ("\tQuery\t" in line or "\tParse\t" in line))


def _hit_with_health_check_due(client, *, trace_file=None):
    connection.health_check_done = False  # what Django does at the start of every request under a server
    if trace_file is not None:
        connection.connection.pgconn.trace(trace_file.fileno())
    try:
        return client.get(URL)
    finally:
        if trace_file is not None:
            connection.connection.pgconn.untrace()


@pytest.mark.django_db(transaction=True)
def test_a_cache_hit_on_a_kept_connection_sends_one_statement(client, django_assert_num_queries):
    DealFactory.create_batch(3)
    first = client.get(URL)
    assert first.status_code == 200
    assert connection.connection is not None and connection.health_check_enabled  # a kept, health-checked one

    with tempfile.TemporaryFile() as trace_file, django_assert_num_queries(1):  # the version row
        hit = _hit_with_health_check_due(client, trace_file=trace_file if connection.vendor == "postgresql" else None)
        trace_file.seek(0)
        trace = trace_file.read()
    assert hit.status_code == 200
    assert hit.content == first.content
    assert connection.health_check_done  # the version read counted as this request's health check
    if connection.vendor == "postgresql":
        assert _statements_sent(trace) == 1, trace.decode()[:2000]


@pytest.mark.django_db(transaction=True)
def test_a_write_is_seen_by_the_next_hit_even_with_the_health_check_folded_in(client):
    deal = DealFactory(title="Before the write")
    assert b"Before the write" in client.get(URL).content
    assert b"Before the write" in _hit_with_health_check_due(client).content
    deal.title = "After the write"
    deal.save()  # commits (no surrounding transaction) and bumps the dataset version on commit

    after = _hit_with_health_check_due(client)
    assert after.status_code == 200
    assert b"After the write" in after.content and b"Before the write" not in after.content
