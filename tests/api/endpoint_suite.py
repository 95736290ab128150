"""A shared suite for every read endpoint (in the spirit of NetBox's APIViewTestCases).

A subclass names its resource and says how to build records; the suite then checks, the same way for every
resource: list, detail, 404s, each filter (a matching and a non-matching record), ordering (with the slug
tie-break), pagination bounds, the CSV operation (``<collection>.csv``), write methods refused, and a query
count that does not grow with the page size.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.urls import reverse

from deals.api.license_link import LICENSE_LINK
from deals.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from deals.caching import dataset_version_get


@dataclass(frozen=True)
class FilterCase:
    """One filter check: ``build`` creates one record that must match and one that must not, and returns
    ``(value, matching_slug, other_slug)``; the suite requests ``?<param>=<value>``."""

    param: str
    build: Callable[[], tuple[str, str, str]]
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.param}-{self.label}" if self.label else self.param


def slugs(response) -> list[str]:
    return [row["slug"] for row in response.json()["results"]]


def _sort_value(value):
    """A JSON value as the database orders it: decimals (strings) as numbers, nulls handled by the caller."""
    if isinstance(value, str):
        try:
            return (0, Decimal(value)) if value.replace(".", "", 1).isdigit() else (1, value)
        except ArithmeticError:  # pragma: no cover - only digits reach Decimal
            return (1, value)
    return (0, value)


def expected_order(rows: list[dict], field: str, descending: bool) -> list[str]:
    """Slugs ordered by ``field`` (nulls last in both directions), ties broken by ascending slug."""
    present = [row for row in rows if row[field] is not None]
    missing = sorted(row["slug"] for row in rows if row[field] is None)
    by_slug = sorted(present, key=lambda row: row["slug"])
    ordered = sorted(by_slug, key=lambda row: _sort_value(row[field]), reverse=descending)
    return [row["slug"] for row in ordered] + missing


@pytest.mark.django_db
class ReadEndpointSuite:
    """Subclass per resource; set the class attributes and implement ``make``/``make_full``/``make_varied``."""

    basename: str = ""
    # Keys of a list item and of a detail body.
    list_fields: set[str] = set()
    detail_fields: set[str] = set()
    # Which field holds the human label (name or title): used to test CSV formula escaping.
    label_field: str = "name"
    filter_cases: list[FilterCase] = []
    # Exact number of queries for a list page (count + rows + prefetches) and for a detail.
    list_queries: int = 0
    detail_queries: int = 0
    # The CSV operation keeps the serializers' prefetches; when the JSON list takes the fast read path
    # (deals/api/fast/), its count differs: None means the same as ``list_queries``.
    csv_queries: int | None = None

    # --- hooks ---------------------------------------------------------------------------------------------

    def make(self, **kwargs):
        """One bare record."""
        raise NotImplementedError

    def make_full(self):
        """One record with every relation the serializer shows (for query counts)."""
        raise NotImplementedError

    def make_varied(self) -> None:
        """Several records whose ordering fields differ, with at least one tie and, where possible, a null."""
        raise NotImplementedError

    # --- helpers -------------------------------------------------------------------------------------------

    def list_url(self) -> str:
        return reverse(f"api:{self.basename}-list")

    def detail_url(self, slug: str) -> str:
        return reverse(f"api:{self.basename}-detail", kwargs={"slug": slug})

    def get_list(self, client, **params):
        return client.get(self.list_url(), params)

    def csv_url(self) -> str:
        return reverse(f"api:{self.basename}-csv")

    def get_csv(self, client, **params):
        return client.get(self.csv_url(), params)

    # --- list and detail -----------------------------------------------------------------------------------

    def test_list(self, client):
        records = [self.make() for _ in range(3)]
        response = self.get_list(client)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        body = response.json()
        assert body["count"] == 3
        assert body["previous"] is None and body["next"] is None
        assert sorted(slugs(response)) == sorted(r.slug for r in records)
        assert set(body["results"][0]) == self.list_fields
        assert body["results"][0]["url"] == f"http://testserver{self.detail_url(body['results'][0]['slug'])}"

    def test_detail(self, client):
        record = self.make_full()
        response = client.get(self.detail_url(record.slug))
        assert response.status_code == 200
        body = response.json()
        assert body["slug"] == record.slug
        assert set(body) == self.detail_fields
        assert body["url"] == f"http://testserver{self.detail_url(record.slug)}"

    def test_detail_unknown_slug_is_json_404(self, client):
        self.make(slug="present")
        response = client.get(self.detail_url("absent"))
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()

    def test_detail_path_that_is_no_slug_is_json_404(self, client):
        response = client.get(self.list_url() + "bad%00slug/")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found: no API resource at this path."}

    def test_detail_accepts_only_format_json(self, client):
        record = self.make()
        assert client.get(self.detail_url(record.slug), {"format": "json"}).status_code == 200
        response = client.get(self.detail_url(record.slug), {"format": "csv"})
        assert response.status_code == 400
        assert response.json() == {"format": ["Unknown format 'csv'. Allowed here: json."]}
        response = client.get(self.detail_url(record.slug), {"page": "1"})
        assert response.status_code == 400
        assert response.json() == {"page": ["Unknown query parameter. Valid parameters: format."]}
        response = client.get(self.detail_url(record.slug), HTTP_ACCEPT="text/csv")
        assert response.status_code == 406
        assert response["Content-Type"] == "application/json"

    # --- writes ------------------------------------------------------------------------------------------------

    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
    def test_write_methods_are_refused(self, client, method):
        record = self.make()
        for url in (self.list_url(), self.detail_url(record.slug)):
            response = getattr(client, method)(url, data={}, content_type="application/json")
            assert response.status_code == 405, url
            assert response["Content-Type"] == "application/json"
        assert type(record).objects.filter(pk=record.pk).exists()

    # --- filters -------------------------------------------------------------------------------------------

    def test_filter(self, client, filter_case: FilterCase):
        value, matching, other = filter_case.build()
        response = self.get_list(client, **{filter_case.param: value})
        assert response.status_code == 200, response.content
        found = slugs(response)
        assert matching in found
        assert other not in found
        # Without the filter both records are listed, so the filter (not the data) excluded the other one.
        assert {matching, other} <= set(slugs(self.get_list(client, page_size=MAX_PAGE_SIZE)))

    def test_every_filter_has_a_case(self):
        view = self._view_class()
        names = set(view.filterset_class.base_filters)
        assert names == {case.param for case in self.filter_cases} | {"q"}

    def _view_class(self):
        from django.urls import resolve

        return resolve(self.list_url()).func.cls

    # --- ordering ------------------------------------------------------------------------------------------

    def test_ordering_every_field_both_directions(self, client):
        self.make_varied()
        view = self._view_class()
        rows = self.get_list(client, page_size=MAX_PAGE_SIZE).json()["results"]
        assert len(rows) >= 3
        for field in view.ordering_fields:
            for descending in (False, True):
                param = f"-{field}" if descending else field
                response = self.get_list(client, ordering=param, page_size=MAX_PAGE_SIZE)
                assert response.status_code == 200
                assert slugs(response) == expected_order(rows, field, descending), param

    def test_ordering_ties_are_broken_by_slug(self, client):
        for slug in ("tie-c", "tie-a", "tie-b"):
            self.make(slug=slug)
        view = self._view_class()
        # Records built alike share every non-slug ordering value that does not depend on their label.
        field = next(name for name in view.ordering_fields if name not in ("slug", "name", "title", "updated"))
        for param in (field, f"-{field}"):
            assert slugs(self.get_list(client, ordering=param)) == ["tie-a", "tie-b", "tie-c"]
        assert slugs(self.get_list(client, ordering="-slug")) == ["tie-c", "tie-b", "tie-a"]

    def test_ordering_unknown_field_is_400_naming_the_valid_ones(self, client):
        view = self._view_class()
        response = self.get_list(client, ordering="nope")
        assert response.status_code == 400
        message = response.json()["ordering"][0]
        assert message.startswith("Unknown ordering field 'nope'. Valid fields: ")
        for field in view.ordering_fields:
            assert f"-{field}" in message

    # --- pagination ----------------------------------------------------------------------------------------

    def test_pagination_bounds(self, client):
        for _ in range(3):
            self.make()
        first = self.get_list(client, page_size=2)
        assert first.status_code == 200
        body = first.json()
        assert body["count"] == 3 and len(body["results"]) == 2
        base = f"http://testserver{self.list_url()}"
        assert body["next"] == f"{base}?page=2&page_size=2"
        assert body["previous"] is None
        assert first["Link"] == f'<{base}?page=2&page_size=2>; rel="next", {LICENSE_LINK}'
        second = self.get_list(client, page_size=2, page=2)
        assert len(second.json()["results"]) == 1 and second.json()["next"] is None
        assert second.json()["previous"] == f"{base}?page=1&page_size=2"
        assert second["Link"] == f'<{base}?page=1&page_size=2>; rel="prev", {LICENSE_LINK}'
        assert set(slugs(first)).isdisjoint(slugs(second))
        past = self.get_list(client, page_size=2, page=3)
        assert past.status_code == 404
        assert past.json() == {"detail": "Page 3 does not exist: there are 2 page(s) of 2."}
        assert self.get_list(client, page_size=MAX_PAGE_SIZE).status_code == 200
        for bad in (str(MAX_PAGE_SIZE + 1), "0", "-1", "ten", "2.5"):
            response = self.get_list(client, page_size=bad)
            assert response.status_code == 400, bad
            assert list(response.json()) == ["page_size"]
        for bad in ("0", "x", "1e3"):
            response = self.get_list(client, page=bad)
            assert response.status_code == 400, bad
            assert list(response.json()) == ["page"]

    def test_default_page_size(self, client):
        for _ in range(DEFAULT_PAGE_SIZE + 1):
            self.make()
        body = self.get_list(client).json()
        assert len(body["results"]) == DEFAULT_PAGE_SIZE and body["count"] == DEFAULT_PAGE_SIZE + 1

    def test_empty_first_page_is_200(self, client):
        body = self.get_list(client).json()
        assert body == {"count": 0, "next": None, "previous": None, "results": []}

    # --- CSV -----------------------------------------------------------------------------------------------

    def _csv_rows(self, response) -> list[list[str]]:
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        return list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))

    def test_csv_operation(self, client):
        records = [self.make() for _ in range(2)]
        view = self._view_class()
        columns = list(view.csv_serializer_class.Meta.fields)
        assert self.csv_url() == self.list_url().rstrip("/") + ".csv"
        for response in (self.get_csv(client), client.get(self.csv_url(), HTTP_ACCEPT="text/csv")):
            assert response.status_code == 200
            rows = self._csv_rows(response)
            assert rows[0] == columns
            assert sorted(row[0] for row in rows[1:]) == sorted(r.slug for r in records)
            url = rows[1][columns.index("url")]
            assert url.startswith("http://testserver/api/v1/") and "csv" not in url

    def test_json_list_is_json_only(self, client):
        """CSV is its own operation: the JSON list answers a 400 naming it for ?format=csv, and 406 for an Accept
        that only takes CSV; the CSV operation answers 406 for an Accept that only takes JSON."""
        response = self.get_list(client, format="csv")
        assert response.status_code == 400
        assert response.json() == {
            "format": [
                f"Unknown format 'csv'. Allowed here: json. CSV is its own operation: {self.csv_url()} (same "
                "filters, order and pages)."
            ]
        }
        assert client.get(self.list_url(), HTTP_ACCEPT="text/csv").status_code == 406
        response = client.get(self.csv_url(), HTTP_ACCEPT="application/json")
        assert response.status_code == 406 and response["Content-Type"] == "application/json"
        response = self.get_csv(client, format="csv")
        assert response.status_code == 400 and "format" in response.json()

    def test_csv_empty_has_header(self, client):
        rows = self._csv_rows(self.get_csv(client))
        assert len(rows) == 1 and rows[0][0] == "slug"

    def test_csv_escapes_formulas_and_quotes_properly(self, client):
        self.make(slug="formula", **{self.label_field: '=HYPERLINK("http://evil.example","x"), "quoted"'})
        rows = self._csv_rows(self.get_csv(client))
        label = rows[0].index(self.label_field)
        assert rows[1][label] == '\'=HYPERLINK("http://evil.example","x"), "quoted"'

    def test_csv_errors_are_json(self, client):
        response = self.get_csv(client, ordering="nope")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert "ordering" in response.json()

    def test_csv_is_paginated_with_link_header(self, client):
        for _ in range(3):
            self.make()
        response = self.get_csv(client, page_size=2)
        assert len(self._csv_rows(response)) == 3
        assert 'rel="next"' in response["Link"] and self.csv_url() + "?page=2" in response["Link"]

    # --- query counts --------------------------------------------------------------------------------------

    # Every API request reads the dataset version row first (deals/caching.py): one query on top of the view's.
    # The row is created beforehand, as it is on any database that has served a request.

    @pytest.mark.parametrize("count", [1, 50])
    def test_list_query_count_does_not_grow(self, client, django_assert_num_queries, count):
        for _ in range(count):
            self.make_full()
        dataset_version_get()
        # make_full may create further records of the same kind (a parent), so the page size fixes the count.
        with django_assert_num_queries(self.list_queries + 1):
            response = self.get_list(client, page_size=count)
        assert len(response.json()["results"]) == count

    @pytest.mark.parametrize("operation", ["list", "csv"])
    def test_list_and_csv_query_counts_are_pinned(self, client, django_assert_num_queries, operation):
        for _ in range(5):
            self.make_full()
        dataset_version_get()
        url = reverse(f"api:{self.basename}-{operation}")
        expected = self.csv_queries if operation == "csv" and self.csv_queries is not None else self.list_queries
        with django_assert_num_queries(expected + 1):
            assert client.get(url, {"page_size": 50}).status_code == 200

    def test_detail_query_count(self, client, django_assert_num_queries):
        record = self.make_full()
        for _ in range(3):
            self.make_full()
        dataset_version_get()
        with django_assert_num_queries(self.detail_queries + 1):
            assert client.get(self.detail_url(record.slug)).status_code == 200
