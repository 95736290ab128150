"""The fast read path's compiled relations query (deals/api/fast/base.py ``relations_fetch_compiled``): on
PostgreSQL a server-side prepared statement, planned once per connection, while every other query stays
unprepared; the same answers with ``REEXAPI_DB_PREPARED_STATEMENTS`` off, and on a new connection."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import DealFactory, DealPartyFactory, EvidenceFactory

LIST = "/api/v1/deals/?page_size=50"


def _prepared() -> list[str]:
    """The statements this connection has prepared (PostgreSQL), as their SQL text."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _deals() -> None:
    for n in range(3):
        deal = DealFactory(slug=f"prepared-{n}")
        DealPartyFactory(deal=deal)
        EvidenceFactory(deal=deal)


@pytest.mark.django_db(transaction=True)
def test_the_relations_query_is_prepared_once_and_answers_as_unprepared(client, settings):
    _deals()
    settings.REEXAPI_RESPONSE_CACHE = False  # every request runs the view
    settings.REEXAPI_DB_PREPARED_STATEMENTS = False
    unprepared = client.get(LIST)
    assert unprepared.status_code == 200
    if connection.vendor == "postgresql":
        assert _prepared() == []  # off: nothing prepared, not even the relations query

    settings.REEXAPI_DB_PREPARED_STATEMENTS = True
    first, second = client.get(LIST), client.get(LIST)
    assert first.content == second.content == unprepared.content
    assert [p["slug"] for p in first.json()["results"]] == ["prepared-0", "prepared-1", "prepared-2"]
    assert first.json()["results"][0]["parties"] and first.json()["results"][0]["provenance"]
    if connection.vendor == "postgresql":
        prepared = _prepared()
        # One statement, the relations union (its part names are in its text), reused by the second request;
        # the count, the rows and the version token stay client-bound and unprepared.
        assert len(prepared) == 1, prepared
        assert '"_rel"' in prepared[0] and "UNION ALL" in prepared[0]

    # A new connection has no prepared statements: psycopg prepares again on it.
    connection.close()
    again = client.get(LIST)
    assert again.content == unprepared.content
    if connection.vendor == "postgresql":
        assert len(_prepared()) == 1
