"""What the fast read path does once rather than per request: on PostgreSQL its compiled queries (the relations,
deals/api/fast/base.py ``relations_fetch_compiled``; a list's count and page, deals/api/fast/compiled.py) are
server-side prepared statements, planned once per connection, while every other query stays unprepared; the
viewsets build their selector querysets once."""

from __future__ import annotations

import re

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
def test_the_compiled_queries_are_prepared_once_and_answer_as_unprepared(client, settings):
    _deals()
    settings.REEXAPI_RESPONSE_CACHE = False  # every request runs the view
    settings.REEXAPI_RECORD_CACHE_BYTES = 0  # and every request runs its relations query
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
        # Two statements, reused by the second request: the list's count and page in one (the first request kept
        # the list's statements, deals/api/fast/compiled.py), and the relations union (its part names are in its
        # text). The version token stays client-bound and unprepared.
        prepared = sorted(_prepared(), key=lambda sql: "UNION ALL" in sql)
        assert len(prepared) == 2, prepared
        page, relations = prepared
        assert page.startswith('SELECT (SELECT COUNT(*) AS "__count" FROM "deals_deal"'), page
        assert re.search(r" LIMIT \$\d+ OFFSET \$\d+\) r ON 1 = 1$", page), page
        assert '"_rel"' in relations and "UNION ALL" in relations
        # Each of the five parts binds the page's ids as one array, which the planner sizes and looks up by the
        # owner's index (an IN subquery over the ids was estimated at 100 rows and hash-joined against whole
        # link tables).
        assert re.findall(r"= ANY\(\$\d+::bigint\[\]\)", relations) and relations.count("::bigint[]") == 5
        assert "IN (SELECT" not in relations

    # A new connection has no prepared statements: psycopg prepares again on it.
    connection.close()
    again = client.get(LIST)
    assert again.content == unprepared.content
    if connection.vendor == "postgresql":
        assert len(_prepared()) == 2


@pytest.mark.django_db
def test_the_viewsets_clone_a_queryset_built_once_and_never_run_it(client, settings, monkeypatch):
    """deals/api/views/base.py ``selector_queryset``: the selector runs once per thread, and the memo is only ever
    cloned, so a deal published after the first request is in the second."""
    from deals import selectors
    from deals.api.views import base

    settings.REEXAPI_RESPONSE_CACHE = False
    base._built.querysets = {}
    calls = []
    built = selectors.deal_list
    monkeypatch.setattr(selectors, "deal_list", lambda: calls.append(1) or built())
    DealFactory(slug="first-deal")
    assert [d["slug"] for d in client.get(LIST).json()["results"]] == ["first-deal"]
    DealFactory(slug="second-deal")
    assert sorted(d["slug"] for d in client.get(LIST).json()["results"]) == ["first-deal", "second-deal"]
    assert client.get("/api/v1/deals/second-deal/").json()["slug"] == "second-deal"
    assert calls == [1]
    assert all(queryset._result_cache is None for queryset in base._built.querysets.values())
    base._built.querysets = {}  # the next test builds its own, from the real selector


def test_each_thread_builds_its_own_querysets():
    """Clones share their selector's Prefetch querysets, which Django's prefetching mutates: threads never share."""
    import threading

    from deals import selectors
    from deals.api.views import base

    def built() -> object:
        base.selector_queryset(selectors.deal_list)
        return next(q for (selector, _), q in base._built.querysets.items() if selector is selectors.deal_list)

    here = built()
    assert built() is here
    there = []
    thread = threading.Thread(target=lambda: there.append(built()))
    thread.start()
    thread.join()
    assert there and there[0] is not here
