"""Benchmark: API list pages over 100k deals, on SQLite and PostgreSQL. Prints figures; asserts nothing.

    .venv/bin/python scripts/bench_pagination.py                 # both databases, 100,000 deals
    .venv/bin/python scripts/bench_pagination.py --rows 20000 --databases sqlite

For each database it creates a scratch database (a temporary SQLite file; a PostgreSQL database named
``reexapi_bench_pagination`` on 127.0.0.1:5432, dropped and re-created), migrates it, bulk-creates the deals
(each with one commodity and one party), then requests pages in-process through the whole stack (middleware,
view, filters, serialisation, rendering) with the response cache emptied before every request, and prints
the median and worst of ``--repeat`` runs per page, plus the SQL time of the page query and of ``COUNT(*)``.

Cursor pages (``cursor=``, deals/api/pagination.py) are measured beside page numbers: the first, middle and last
page (reached as by following ``next``), and the ratios of the last page to the numbered first page (issue 9's
target: at most 1.5).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "reexapi_bench_pagination"


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG would record every query in memory
    # In-process caches: clearing them before each request must not flush a Redis that others share.
    os.environ["REDIS_URL"] = ""
    # Seeding 100k deals runs statements longer than the API's 3 s limit (the page requests stay far below it).
    os.environ["REEXAPI_DB_STATEMENT_TIMEOUT_MS"] = "600000"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reexapi.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _seed(rows: int) -> None:
    """Bulk-create ``rows`` deals with spread-out dates, statuses, values and countries (no signals, no history)."""
    import datetime
    import random
    from decimal import Decimal

    from django.db import connection

    from deals.models import Commodity, Company, DatePrecision, Deal, DealParty, PublicationStatus
    from deals.stats_keys import stats_keys_install, stats_keys_uninstall

    # Published, or the lists would be empty (new records are drafts by default).
    published = PublicationStatus.PUBLISHED

    rng = random.Random(42)
    commodities = Commodity.objects.bulk_create(
        Commodity(slug=f"bench-commodity-{i}", name=f"Bench commodity {i}", kind="element") for i in range(20)
    )
    companies = Company.objects.bulk_create(
        Company(
            slug=f"bench-company-{i:04d}",
            name=f"Bench company {i}",
            kind="company",
            country="US",
            publication_status=published,
        )
        for i in range(1000)
    )
    statuses = [s for s, _ in Deal.Status.choices]
    countries = ["US", "CN", "AU", "KR", "JP", "DE"]
    start = datetime.date(2015, 1, 1)
    batch: list[Deal] = []
    for i in range(rows):
        undated = i % 50 == 0
        valued = i % 3 != 0
        amount = Decimal(rng.randrange(1, 10_000)) * 100_000 if valued else None
        batch.append(
            Deal(
                slug=f"bench-deal-{i:06d}",
                publication_status=published,
                title=f"Bench deal {i} lithium offtake" if i % 10 == 0 else f"Bench deal {i}",
                deal_type="offtake",
                status=statuses[i % len(statuses)],
                announced_date=None if undated else start + datetime.timedelta(days=rng.randrange(0, 3900)),
                announced_date_precision="" if undated else DatePrecision.DAY,
                amount=amount,
                currency="USD" if valued else "",
                amount_usd=amount,
                value_qualifier="exact" if valued else "",
                countries=[countries[(i // 3) % len(countries)]],
            )
        )
    # The statistics' key-list triggers (deals/stats_keys.py) would recompute a deal per link row: drop them while
    # seeding, then reinstall them, which recomputes every deal once.
    stats_keys_uninstall()
    deals = Deal.objects.bulk_create(batch, batch_size=5000)
    through = Deal.commodities.through
    through.objects.bulk_create(
        (
            through(deal_id=deal.pk, commodity_id=commodities[(i // 7) % len(commodities)].pk)
            for i, deal in enumerate(deals)
        ),
        batch_size=5000,
    )
    DealParty.objects.bulk_create(
        (
            DealParty(deal_id=deal.pk, company_id=companies[i % len(companies)].pk, role="buyer")
            for i, deal in enumerate(deals)
        ),
        batch_size=5000,
    )
    if connection.vendor == "postgresql":
        # Fresh statistics first: planned on "empty" tables, the recompute's per-deal subqueries scan them whole.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    stats_keys_install()


def _time_request(client, url: str, repeat: int) -> tuple[float, float, int]:
    from django.core.cache import caches

    timings = []
    status = 0
    for _ in range(repeat):
        for alias in ("default", "responses"):  # measure the API, not the response cache in front of it
            caches[alias].clear()
        began = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
        status = response.status_code
    return statistics.median(timings), max(timings), status


def _cursor_url(client, base: str, *, offset: int) -> str:
    """The URL of the cursor page that starts at row ``offset`` of ``base``'s order: the ``next`` link a client
    gets on the page before it (the boundary row's ordering keys, signed for the same list and filters)."""
    from urllib.parse import parse_qs, urlsplit

    from django.db.models.query import QuerySet
    from rest_framework.request import Request

    from deals.api import cursor as keyset
    from deals.api.views import DealViewSet

    if offset == 0:
        return f"{base}&cursor="
    first = client.get(f"{base}&cursor=").json()
    token = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    fingerprint = keyset.cursor_fingerprint(token=token)
    # The list's own queryset after its filters (the view does it for the request), so the keys are its ordering.
    view = DealViewSet(action="list", format_kwarg=None)
    view.request = Request(client.get(f"{base}&cursor=").wsgi_request)
    queryset: QuerySet = view.filter_queryset(view.get_queryset())
    queryset, keys = keyset.ordering_keys(queryset)
    names = [key.name for key in keys]
    ordered = queryset.order_by(*(key.order_by() for key in keys)).prefetch_related(None)
    values = list(ordered.values_list(*names)[offset - 1])
    token = keyset.cursor_encode(
        cursor=keyset.Cursor(values=values, backwards=False, inclusive=False), fingerprint=fingerprint
    )
    return f"{base}&cursor={token}"


def _time_query(run, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def run_one(*, database_url: str, label: str, rows: int, repeat: int, page_size: int) -> None:
    """Seed and measure one database (runs in its own process so that Django is set up for that database)."""
    _setup_django(database_url)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from deals import selectors

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    _seed(rows)
    seeded = time.perf_counter() - began
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    last_page = -(-rows // page_size)
    middle_page = last_page // 2
    client = Client()
    base = f"/api/v1/deals/?page_size={page_size}"
    cases = [
        ("first page", base),
        (f"middle page ({middle_page})", f"{base}&page={middle_page}"),
        (f"last page ({last_page})", f"{base}&page={last_page}"),
        ("filtered: status+commodity+country", f"{base}&status=signed&commodity=bench-commodity-3&country=US"),
        ("filtered, page 5", f"{base}&status=signed&commodity=bench-commodity-3&country=US&page=5"),
        ("ordering=-amount_usd, middle page", f"{base}&ordering=-amount_usd&page={middle_page}"),
        ("search q=lithium, first page", f"{base}&q=lithium"),
        ("CSV first page", f"/api/v1/deals.csv?page_size={page_size}"),
    ]
    # Cursor pages: the first, and the middle and last as a client reaches them by following ``next`` (the cursor
    # of the row just before the page, built here instead of walking 4,000 pages).
    searched = -(-rows // 10)  # every tenth deal's title says lithium (see _seed)
    cursor_cases = [
        ("cursor: first page", f"{base}&cursor="),
        (f"cursor: middle page ({middle_page})", _cursor_url(client, base, offset=(middle_page - 1) * page_size)),
        (f"cursor: last page ({last_page})", _cursor_url(client, base, offset=(last_page - 1) * page_size)),
        (
            "cursor: ordering=-amount_usd, middle",
            _cursor_url(client, f"{base}&ordering=-amount_usd", offset=(middle_page - 1) * page_size),
        ),
        (
            "cursor: q=lithium, last",
            _cursor_url(client, f"{base}&q=lithium", offset=(searched - 1) // page_size * page_size),
        ),
    ]
    print(f"\n== {label}: {rows:,} deals (seeded in {seeded:.1f} s), page_size={page_size}, median/max of {repeat}")
    medians: dict[str, float] = {}
    for name, url in cases + cursor_cases:
        median, worst, status = _time_request(client, url, repeat)
        medians[name] = median
        print(f"  {name:<40} {median:8.1f} ms  (max {worst:7.1f})  HTTP {status}")
    first = medians["first page"]
    print(f"  ratios to the numbered first page ({first:.1f} ms; target for the cursor's last page: <= 1.5):")
    for name in (f"last page ({last_page})", "cursor: first page", f"cursor: last page ({last_page})"):
        print(f"    {name:<38} {medians[name] / first:6.2f}x")
    offset = (last_page - 1) * page_size
    deals = selectors.deal_list()
    print(f"  {'ORM count()':<40} {_time_query(lambda: deals.count(), repeat):8.1f} ms")
    # The page query alone (no prefetches): default order at the deepest offset.
    ids = deals.values_list("id", flat=True)[offset : offset + page_size]
    print(f"  {'ORM last page ids, default order':<40} {_time_query(lambda: list(ids.all()), repeat):8.1f} ms")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            sql, params = ids.query.sql_with_params()
            cursor.execute("EXPLAIN ANALYZE " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
        print("  plan of the last page ids query:\n    " + "\n    ".join(plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--page-size", type=int, default=25)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pg-database", default=PG_BENCH_DB, help="scratch PostgreSQL database (dropped, re-created)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        label, url = args.child.split("|", 1)
        run_one(database_url=url, label=label, rows=args.rows, repeat=args.repeat, page_size=args.page_size)
        return
    common = ["--rows", str(args.rows), "--repeat", str(args.repeat), "--page-size", str(args.page_size)]
    for database in args.databases.split(","):
        if database == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{tmp}/bench.sqlite3"
                subprocess.run([sys.executable, __file__, *common, "--child", f"SQLite|{url}"], check=True)
        elif database == "postgresql":
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {args.pg_database}")
                admin.execute(f"CREATE DATABASE {args.pg_database}")
            try:
                url = f"postgres://postgres@127.0.0.1:5432/{args.pg_database}"
                subprocess.run([sys.executable, __file__, *common, "--child", f"PostgreSQL|{url}"], check=True)
            finally:
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                    admin.execute(f"DROP DATABASE IF EXISTS {args.pg_database}")
        else:
            raise SystemExit(f"Unknown database {database!r}: use sqlite and/or postgresql.")


if __name__ == "__main__":
    main()
