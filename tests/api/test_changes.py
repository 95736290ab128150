"""The change feed (/api/v1/changes/): public changes only, in order, keyset-paged, resumable by cursor."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deals.services.publication import record_merge, record_withdraw
from tests.factories import CompanyFactory, DealFactory, DealPartyFactory, EvidenceFactory, SourceFactory

pytestmark = pytest.mark.django_db

FEED = "/api/v1/changes/"


def _feed(client, **params) -> dict:
    response = client.get(FEED, params)
    assert response.status_code == 200, response.content
    license_link = '<https://creativecommons.org/licenses/by/4.0/>; rel="license"'
    assert response["Link"] == f'<{response.json()["next"]}>; rel="next", {license_link}'
    return response.json()


def _scenario():
    """An edit, a withdrawal and a merge, after three deals and a company were published."""
    source = SourceFactory(slug="example-news")
    acme = CompanyFactory(slug="acme-magnets", name="Acme Magnets")
    offtake = DealFactory(slug="acme-offtake", title="Acme offtake")
    twin = DealFactory(slug="acme-offtake-again", title="Acme offtake (entered twice)")
    mou = DealFactory(slug="acme-mou", title="Acme MOU")
    DealPartyFactory(deal=twin, company=acme, role="buyer")
    EvidenceFactory(source=source, deal=twin, fields=["title"])
    offtake.amount, offtake.amount_usd = 12000000, 12000000  # the edit
    offtake.save()
    record_withdraw(record=mou, reason="The MOU was never signed.")  # the withdrawal
    record_merge(duplicate=twin, survivor=offtake)  # the merge
    return offtake


def test_an_edit_a_withdrawal_and_a_merge(client):
    _scenario()
    body = _feed(client)
    print("\nFEED JSON (edit, withdrawal, merge):\n" + json.dumps(body, indent=2, ensure_ascii=False))
    rows = [(e["sequence"], e["action"], e["resource"], e["slug"], e["fields"]) for e in body["results"]]
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    created = [r for r in rows if r[1] == "created"]
    assert {r[3] for r in created} == {"acme-magnets", "acme-offtake", "acme-offtake-again", "acme-mou"}
    tail = rows[len(created) :]
    assert tail[:4] == [
        (tail[0][0], "updated", "deals", "acme-offtake-again", ["parties"]),
        (tail[1][0], "updated", "companies", "acme-magnets", ["deals"]),
        (tail[2][0], "updated", "deals", "acme-offtake-again", ["evidence"]),
        (tail[3][0], "updated", "deals", "acme-offtake", ["amount", "amount_usd"]),
    ]
    assert tail[4][1:4] == ("withdrawn", "deals", "acme-mou")
    assert sorted(r[1:4] for r in tail[5:]) == [
        ("merged", "deals", "acme-offtake-again"),
        ("updated", "companies", "acme-magnets"),
        ("updated", "deals", "acme-offtake"),
    ]
    by_action = {e["action"]: e for e in body["results"]}
    withdrawn, merged = by_action["withdrawn"], by_action["merged"]
    assert withdrawn["reason"] == "The MOU was never signed." and withdrawn["url"].endswith("/api/v1/deals/acme-mou/")
    assert merged["merged_into"] == {"slug": "acme-offtake", "url": "http://testserver/api/v1/deals/acme-offtake/"}
    assert "fields" in merged and merged["fields"] == [] and merged["renamed_from"] is None
    survivor = next(e for e in body["results"][-3:] if e["slug"] == "acme-offtake")
    assert survivor["fields"] == ["evidence", "parties"]  # the duplicate's quote and party moved there
    # The tombstones' URLs answer as the feed says.
    assert client.get(withdrawn["url"]).status_code == 410
    assert client.get(merged["url"]).status_code == 301


def test_a_client_resumes_from_its_cursor_and_gets_only_newer_entries_then_an_empty_page(
    client, django_capture_on_commit_callbacks
):
    # Every write is committed (its callbacks run), so the response cache sees each new dataset version.
    with django_capture_on_commit_callbacks(execute=True):
        deal = DealFactory(slug="one")
    first = _feed(client)
    assert [e["slug"] for e in first["results"]] == ["one"] and first["since"] == 0
    cursor = first["cursor"]
    assert first["next"] == f"http://testserver{FEED}?since={cursor}"
    empty = _feed(client, since=cursor)
    assert empty["results"] == [] and empty["cursor"] == cursor and empty["next"] == first["next"]
    assert empty["latest"] == cursor
    with django_capture_on_commit_callbacks(execute=True):
        deal.title = "One, renamed title"
        deal.save()
        deal.slug = "one-renamed"
        deal.save()
    later = client.get(first["next"]).json()
    assert [(e["action"], e["slug"], e["renamed_from"], e["fields"]) for e in later["results"]] == [
        ("updated", "one", None, ["title"]),
        ("renamed", "one-renamed", "one", ["slug"]),
    ]
    assert later["cursor"] == cursor + 2


def test_pages_are_keyset_pages_and_the_query_count_does_not_grow_with_the_page_size(client):
    for i in range(12):
        DealFactory(slug=f"deal-{i:02}")
    slugs, since = [], 0
    while True:
        page = _feed(client, since=since, page_size=5)
        if not page["results"]:
            break
        assert len(page["results"]) <= 5
        assert page["next"] in (
            f"http://testserver{FEED}?page_size=5&since={page['cursor']}",
            f"http://testserver{FEED}?since={page['cursor']}&page_size=5",
        )
        slugs += [e["slug"] for e in page["results"]]
        since = page["cursor"]
    assert slugs == [f"deal-{i:02}" for i in range(12)]
    counts = []
    for size in (1, 12):
        with CaptureQueriesContext(connection) as queries:
            assert len(_feed(client, page_size=size)["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1] == 2 + _BASELINE(client)  # the page and `latest`
    ahead = _feed(client, since=99)  # a cursor from a rebuilt database: an empty page, and `latest` says so
    assert ahead["results"] == [] and ahead["cursor"] == 99 and ahead["latest"] == 12


def _BASELINE(client) -> int:  # noqa: N802 - a constant measured once
    """Queries every API request makes besides its own (the dataset version for the response cache)."""
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/")
    return len(queries)


def test_drafts_never_appear_and_publishing_one_is_created(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        draft = DealFactory(slug="draft", publication_status="draft")
        draft.title = "Edited as a draft"
        draft.save()
    assert _feed(client)["results"] == []
    with django_capture_on_commit_callbacks(execute=True):
        draft.publication_status = "published"
        draft.save()
    assert [(e["action"], e["slug"]) for e in _feed(client)["results"]] == [("created", "draft")]


@pytest.mark.parametrize(
    "params, key",
    [
        ({"since": "abc"}, "since"),
        ({"since": "-1"}, "since"),
        ({"since": "1.5"}, "since"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1001"}, "page_size"),
        ({"cursor": "1"}, "cursor"),
        ({"format": "csv"}, "format"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(client, params, key):
    DealFactory()
    response = client.get(FEED, params)
    assert response.status_code == 400, response.content
    assert list(response.json()) == [key]


def test_the_feed_is_read_only(client):
    response = client.post(f"{FEED}?since=x")
    assert response.status_code == 405 and response.json()["detail"] == 'Method "POST" not allowed.'
