"""Portal benchmark: server time of the overview and the usage page with millions of usage
records in the database, beside a bare ``SELECT`` of the same rollup rows.

What it does, on the PostgreSQL server ``DATABASE_URL`` names:

1. Creates a fresh database ``bench_portal`` (dropped first; not the other benchmarks'),
   migrates it and creates, through the app's services, the month-close benchmark's
   fixtures (``bench.close.create_fixtures``): customers with a contract, projects, keys,
   20 models priced in USD and CNY and the month's USD rate.
2. Generates ``--records`` usage records for last month in SQL, with their rollups
   (``bench.close.generate_usage``: records by ``generate_series`` into the month's
   partition, rollups as one ``GROUP BY`` over them, as ingestion leaves them).
3. Signs in a portal admin of the first customer (two projects, 30 model lines) and, with
   the clock on the last day of that month at 18:00 (so the month is "the current month"
   and the 30-day chart is full), times ``GET /portal/`` and ``GET /portal/usage/`` (by
   model, by day) through Django's test client in this process — the server's time from
   request to rendered page, no network — ``--repeat`` times after one warm-up each.
4. Times a bare ``SELECT`` of the rollup rows each page reads (the customer's rows of the
   month; for the overview, also the 28 days before), fetched, as the floor.
5. Prints a table and writes ``bench/results/portal.json`` (``portal-quick.json`` for
   ``--quick``) with the medians, the queries per page and the machine facts.

Target (issue 10): each page ≤ 100 ms median server time with 10,000,000 usage records.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.ingest import (
    RESULTS,
    database_url,
    drop_database,
    log,
    machine_facts,
    migrate,
    recreate_database,
    server_url,
)

BENCH_DB = "bench_portal"
TARGET_MS = 100.0
PAGES = {
    "overview": "/portal/",
    "usage by model": "/portal/usage/?group_by=model",
    "usage by day": "/portal/usage/?group_by=day",
}


def _median_ms(run, repeat: int) -> tuple[float, list[float]]:
    run()  # warm-up: connection, templates, caches of the first request
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2), [round(t, 2) for t in times]


def time_pages(customer, period, repeat: int) -> dict:
    """Median server time of each page for a portal admin of ``customer``."""
    import time_machine
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from billing.periods import billing_tz, next_period
    from customers.models import PortalUser

    user = get_user_model().objects.create_user(username="bench-portal-admin", email="bench@example.cn")
    PortalUser.objects.create(user=user, customer=customer, role=PortalUser.Role.ADMIN)
    last_day = next_period(period) - timedelta(days=1)
    results = {}
    with time_machine.travel(datetime.combine(last_day, datetime.min.time(), billing_tz()) + timedelta(hours=18)):
        client = Client()
        client.force_login(user)
        for name, url in PAGES.items():

            def get(url=url):
                answer = client.get(url)
                assert answer.status_code == 200, (url, answer.status_code)

            median, runs = _median_ms(get, repeat)
            with CaptureQueriesContext(connection) as queries:
                get()
            sql = " ".join(q["sql"] for q in queries.captured_queries)
            results[name] = {
                "url": url,
                "median_ms": median,
                "runs_ms": runs,
                "queries": len(queries.captured_queries),
                "reads_raw_usage_table": "billing_usagerecord" in sql,
            }
            log(f"  {name}: median {median} ms, {len(queries.captured_queries)} queries")
    return results


def time_bare_selects(customer, period, repeat: int) -> dict:
    """The floor: fetching the same rollup rows with one plain SELECT each."""
    from django.db import connection

    from billing.periods import next_period

    last_day = next_period(period) - timedelta(days=1)
    statements = {
        "month's rollups": (
            "SELECT * FROM billing_usagerollup WHERE customer_id = %s AND period = %s",
            [customer.pk, period],
        ),
        "overview's rollups (month + 28 days before)": (
            "SELECT * FROM billing_usagerollup WHERE customer_id = %s AND day BETWEEN %s AND %s",
            [customer.pk, min(period, last_day - timedelta(days=29)), last_day],
        ),
    }
    results = {}
    for name, (statement, params) in statements.items():
        rows = []

        def run(statement=statement, params=params, rows=rows):
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                rows[:] = cursor.fetchall()

        median, runs = _median_ms(run, repeat)
        results[name] = {"median_ms": median, "runs_ms": runs, "rows": len(rows)}
        log(f"  bare SELECT, {name}: median {median} ms, {len(rows):,} rows")
    return results


def print_table(result: dict) -> None:
    print()
    print(f"Portal pages with {result['usage']['records']:,} usage records ({result['usage']['rollups']:,} rollups)")
    print(f"{'page':<48} {'median ms':>10} {'queries':>8}")
    for name, page in result["pages"].items():
        print(f"{name:<48} {page['median_ms']:>10.2f} {page['queries']:>8}")
    for name, bare in result["bare_select"].items():
        print(f"{'bare SELECT, ' + name:<48} {bare['median_ms']:>10.2f} {'1':>8}  ({bare['rows']:,} rows)")
    verdict = "met" if result["summary"]["target_met"] else "NOT met"
    print(f"target ≤ {TARGET_MS:.0f} ms per page: {verdict}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench portal", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 100 customers, 300,000 records")
    parser.add_argument("--customers", type=int, default=None, help="customers (default 1,000)")
    parser.add_argument("--records", type=int, default=None, help="usage records (default 10,000,000)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--chunk", type=int, default=1_000_000, help="records per generating statement")
    parser.add_argument("--keep-db", action="store_true", help=f"keep the {BENCH_DB} database afterwards")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    customers, records = (100, 300_000) if args.quick else (1000, 10_000_000)
    args.customers = args.customers or customers
    args.records = args.records or records
    if args.output is None:
        args.output = RESULTS / ("portal-quick.json" if args.quick else "portal.json")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    base_url = server_url()
    if base_url is None:
        return 2
    url = database_url(base_url, BENCH_DB)
    started_at = datetime.now(UTC)
    log(f"database {BENCH_DB}: create and migrate")
    recreate_database(base_url, BENCH_DB)
    try:
        migrate(url)
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("PROCUREMENT_ENV", "test")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procurement.settings")
        import django

        django.setup()
        from bench.close import create_fixtures, generate_usage
        from billing.periods import previous_period
        from customers.models import Customer

        period = previous_period()
        log(f"fixtures: {args.customers:,} customers, 20 models, USD rate for {period:%Y-%m}")
        fixtures = create_fixtures(args.customers, 20, args.customers, period)
        log(f"usage: {args.records:,} records in {period:%Y-%m}")
        usage = generate_usage(fixtures, args.customers, args.records, period, tag="P", chunk=args.chunk)
        customer = Customer.objects.get(code="CL0000")
        log(f"pages, as a portal admin of {customer.code} ({args.repeat} timed requests each)")
        pages = time_pages(customer, period, args.repeat)
        bare = time_bare_selects(customer, period, args.repeat)
        result = {
            "benchmark": "portal",
            "started_at": started_at.isoformat(),
            "parameters": {"customers": args.customers, "records": args.records, "repeat": args.repeat},
            "usage": usage,
            "pages": pages,
            "bare_select": bare,
            "summary": {
                "target_ms": TARGET_MS,
                "target_met": all(p["median_ms"] <= TARGET_MS for p in pages.values()),
                "rollups_only": not any(p["reads_raw_usage_table"] for p in pages.values()),
            },
            "machine": machine_facts(url),
        }
        args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
        print_table(result)
        log(f"written {args.output}")
        return 0 if result["summary"]["target_met"] and result["summary"]["rollups_only"] else 1
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(base_url, BENCH_DB)
