"""Month-close benchmark: bills for every customer from the rollups, and bill PDFs.

What it does, on the PostgreSQL server ``DATABASE_URL`` names:

1. Creates a fresh database ``bench_close`` (dropped first if it exists; not the other
   benchmarks', so they can run at once), migrates it, and creates fixtures through the
   app's services: customers with one active contract (discounts 0/5/10 %, a minimum
   commitment for a few), a project and an API key each (a second project for the first
   30, so their bills have 30 lines), 20 models priced in USD and CNY (three with a price
   change in the month) and the USD exchange rate of the month closed (last month).
2. For each size — (A) 1,000 customers × 20 models with 5,000,000 records, (B) the same
   with 1,000,000 records (same rollup rows), (C) 250 customers with 5,000,000 records —
   generates the month's usage in SQL: records (``INSERT … SELECT generate_series`` into
   the month's partition), the ``request_id`` ledger, and the rollups as one
   ``INSERT … SELECT … GROUP BY`` over the records (so rollups = Σ records exactly), stored
   day by day with the customers interleaved, as ingestion leaves them (a customer's
   rollups scattered over the table; the same layout at every size).
3. Times the close of every customer ``customers_to_close`` returns, as the Celery task
   does it (load the customer, ``month_close_customer``), PDF/e-mail tasks not run (their
   ``delay`` is replaced by a counter): in one process, then again from scratch with two
   processes each closing half (production fans out one task per customer). Each three
   times from scratch; the median is reported (other work on the machine adds noise).
4. Checks every run: one issued bill per customer, every record on a bill line, and each
   customer's subtotal and total equal to an independent computation from the rollups
   (Σ cost × (1 − discount) × rate, rounded half up once per project × model line;
   minimum-commitment top-up; VAT rounded once).
5. Renders the PDF of 30 bills of 30 lines (``bill_render_pdf``, temporary MEDIA_ROOT):
   one warm-up render, reported separately, then the 30 timed.
6. Prints a table and writes ``bench/results/close.json`` (``close-quick.json`` for
   ``--quick``) with the figures, parameters and machine facts.

Targets (issue 4): size A closes in ≤ 60 s; close time follows customers × models, not
records (B ≈ A, C ≈ A / 4); PDF median ≤ 0.5 s per bill.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from unittest import mock

from pypdf import PdfReader

from bench.ingest import MODELS as INGEST_MODELS
from bench.ingest import (
    RESULTS,
    ROOT,
    database_url,
    drop_database,
    log,
    machine_facts,
    migrate,
    percentile,
    recreate_database,
    server_url,
)

BENCH_DB = "bench_close"
TARGET_CLOSE_SECONDS = 60.0
TARGET_PDF_MEDIAN = 0.5
TWO_PROJECT_CUSTOMERS = 30  # the first 30 customers: 20 + 10 lines → the 30-line bills for the PDF run
SECOND_PROJECT_MODELS = 10
CHANGED_MODELS = (0, 7, 14)  # models whose price changes on the 16th
CHANGE_DAY = 15  # day index (0-based) of the change
COMMITMENT = Decimal("800.00")  # CNY, for customers 33, 43, … below the smallest size

# (provider, model, currency, input, cached input, output) per million tokens: ingest's ten and ten more.
MODELS = INGEST_MODELS + [
    ("openai", "gpt-4.1-mini", "USD", "0.40", "0.10", "1.60"),
    ("openai", "o4-mini", "USD", "1.10", "0.275", "4.40"),
    ("anthropic", "claude-opus-4", "USD", "15.00", "1.50", "75.00"),
    ("anthropic", "claude-3-7-sonnet", "USD", "3.00", "0.30", "15.00"),
    ("google", "gemini-2.0-flash", "USD", "0.10", "0.025", "0.40"),
    ("mistral", "mistral-large", "USD", "2.00", "2.00", "6.00"),
    ("qwen", "qwen-max", "CNY", "2.40", "0.96", "9.60"),
    ("qwen", "qwen-plus", "CNY", "0.80", "0.32", "2.00"),
    ("moonshot", "kimi-k2", "CNY", "4.00", "1.00", "16.00"),
    ("zhipu", "glm-4.5", "CNY", "2.00", "0.40", "8.00"),
]


# --- Database ---------------------------------------------------------------------------


def sql(statement: str, params=None, *, fetch: bool = False):
    """Run one statement on Django's connection (autocommit outside atomic blocks)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if fetch else None


# --- Fixtures (through the app's services) ----------------------------------------------


def create_fixtures(customers: int, models: int, commitment_below: int, period: date) -> dict:
    """Customers, contracts, projects, keys, price versions and the month's USD rate."""
    from djmoney.money import Money

    from billing.periods import next_period, period_start
    from billing.pricing.services import exchange_rate_set, price_version_set
    from customers import services
    from customers.validators import uscc_check_character

    combos = []  # (customer index, customer pk, project pk, key pk, model index)
    for c in range(customers):
        first17 = f"9131000{c + 1:010d}"
        customer = services.customer_create(
            code=f"CL{c:04d}",
            name=f"月结基准客户 {c:04d} 有限公司",
            tax_id=first17 + uscc_check_character(first17),
            email=f"ap@close{c:04d}.example.cn",
            address=f"上海市浦东新区张江路 {c + 1} 号",
            phone="021-5555 0000",
            bank_name="招商银行上海分行",
            bank_account=f"6214 0000 {c:08d}",
        )
        terms = {"price_currency": "USD", "discount_percent": Decimal(5 * (c % 3))}
        if c % 10 == 3 and TWO_PROJECT_CUSTOMERS <= c < commitment_below:
            terms["minimum_monthly_commitment"] = Money(COMMITMENT, "CNY")
        services.contract_create(
            customer=customer, number=f"HT-CL-{c:04d}", starts_on=next_period(period, -12), **terms
        )
        projects = 2 if c < TWO_PROJECT_CUSTOMERS else 1
        for p in range(projects):
            project = services.project_create(customer=customer, code=f"p{p}", name=f"智能客服项目 {p}")
            key, _secret = services.api_key_create(project=project, name="prod")
            for m in range(models if p == 0 else min(SECOND_PROJECT_MODELS, models)):
                combos.append((c, customer.pk, project.pk, key.pk, m))
        if (c + 1) % 250 == 0:
            log(f"  {c + 1:,}/{customers:,} customers")

    versions = []  # per model: (old id, new id or None)
    for i, (provider, model, currency, inp, cached, out) in enumerate(MODELS[:models]):
        old, _ = price_version_set(
            provider=provider,
            model=model,
            effective_from=period_start(next_period(period, -12)),
            currency=currency,
            input_per_mtok=Decimal(inp),
            cached_input_per_mtok=Decimal(cached),
            output_per_mtok=Decimal(out),
        )
        new = None
        if i in CHANGED_MODELS:
            new, _ = price_version_set(
                provider=provider,
                model=model,
                effective_from=period_start(period) + timedelta(days=CHANGE_DAY),
                currency=currency,
                input_per_mtok=Decimal(inp) * Decimal("0.8"),
                cached_input_per_mtok=Decimal(cached) * Decimal("0.8"),
                output_per_mtok=Decimal(out) * Decimal("0.8"),
            )
        versions.append((old, new))
    rate, _ = exchange_rate_set(currency="USD", period=period, rate=Decimal("7.1234"))
    return {"combos": combos, "versions": versions, "usd_rate": rate.rate}


# --- Usage ------------------------------------------------------------------------------

RECORDS_SQL = """
WITH src AS (
    SELECT g, c.*, (g / %(ncombos)s) %% %(ndays)s AS day_index
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
    JOIN bench_combo c ON c.n = g %% %(ncombos)s
), timed AS (
    SELECT s.*,
           %(start)s::timestamptz + s.day_index * interval '1 day' + ((g * 2654435761) %% 86400) * interval '1 second'
               AS at,
           50 + (g * 7919) %% 8000 AS inp,
           10 + (g * 104729) %% 2000 AS outp,
           s.day_index >= %(change_day)s AND s.new_id IS NOT NULL AS changed
    FROM src s
), priced AS (
    SELECT t.*,
           CASE WHEN g %% 10 < 3 THEN inp * (g %% 50) / 100 ELSE 0 END AS cached,
           CASE WHEN changed THEN new_id ELSE old_id END AS version_id,
           CASE WHEN changed THEN new_in ELSE old_in END AS p_in,
           CASE WHEN changed THEN new_cached ELSE old_cached END AS p_cached,
           CASE WHEN changed THEN new_out ELSE old_out END AS p_out
    FROM timed t
), ins AS (
    INSERT INTO billing_usagerecord (request_id, customer_id, project_id, api_key_id, provider, model,
        input_tokens, cached_input_tokens, output_tokens, occurred_at, day, period, bill_period,
        price_version_id, currency, cost, received_at)
    SELECT 'req_' || %(tag)s || '_' || g, customer_id, project_id, api_key_id, provider, model,
           inp, cached, outp, at, (at AT TIME ZONE %(tz)s)::date, %(period)s, %(period)s,
           version_id, currency, ((inp - cached) * p_in + cached * p_cached + outp * p_out) / 1000000,
           at + interval '1 second'
    FROM priced
    RETURNING request_id, received_at
)
INSERT INTO billing_usagerequest (key, request_id, content_hash, received_at)
SELECT md5(request_id)::uuid, request_id, decode(md5(request_id), 'hex'), received_at FROM ins
"""


def rollups_sql() -> str:
    """The rollups of the period's records, as ingestion keys and sums them (every unit column
    and the variant, from billing.metering.rollups), stored day by day with customers interleaved."""
    from billing.metering.rollups import RECORD_GROUP_SQL, RECORD_KEY_SQL, RECORD_SUMS_SQL, ROLLUP_KEY, ROLLUP_SUMS

    return f"""
INSERT INTO billing_usagerollup ({", ".join(ROLLUP_KEY)}, currency, period, {", ".join(ROLLUP_SUMS)})
SELECT {RECORD_KEY_SQL}, coalesce(currency, ''), period, {RECORD_SUMS_SQL}
FROM billing_usagerecord
WHERE period = %(period)s
GROUP BY {RECORD_GROUP_SQL}, currency, period
ORDER BY day, md5(api_key_id::text || model)
"""


def generate_usage(fixtures: dict, customers: int, records: int, period: date, tag: str, chunk: int) -> dict:
    """Replace all usage with ``records`` records of the first ``customers`` customers."""
    from billing.metering.partitions import ensure_partitions
    from billing.models import PriceVersion
    from billing.periods import billing_tz, next_period, period_start

    ensure_partitions([period])
    sql("TRUNCATE billing_usagerecord, billing_usagerequest, billing_usagerollup")
    versions = {v.pk: v for pair in fixtures["versions"] for v in pair if v is not None}
    assert len(versions) == PriceVersion.objects.count()
    rows = []
    for c, customer_pk, project_pk, key_pk, m in fixtures["combos"]:
        if c >= customers:
            continue
        old, new = fixtures["versions"][m]
        rows.append(
            (
                len(rows),
                customer_pk,
                project_pk,
                key_pk,
                old.provider,
                old.model,
                old.currency,
                old.pk,
                old.input_per_mtok,
                old.effective_cached_input_per_mtok,
                old.output_per_mtok,
                new.pk if new else None,
                new.input_per_mtok if new else None,
                new.effective_cached_input_per_mtok if new else None,
                new.output_per_mtok if new else None,
            )
        )
    sql(
        "DROP TABLE IF EXISTS bench_combo; CREATE TABLE bench_combo (n int PRIMARY KEY, customer_id bigint, "
        "project_id bigint, api_key_id bigint, provider text, model text, currency text, old_id bigint, "
        "old_in numeric, old_cached numeric, old_out numeric, new_id bigint, new_in numeric, new_cached numeric, "
        "new_out numeric)"
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.executemany("INSERT INTO bench_combo VALUES (" + ", ".join(["%s"] * 15) + ")", rows)
    sql("ANALYZE bench_combo")
    ndays = (next_period(period) - period).days
    started = time.perf_counter()
    done = 0
    while done < records:
        size = min(chunk, records - done)
        sql(
            RECORDS_SQL,
            {
                "ncombos": len(rows),
                "ndays": ndays,
                "lo": done,
                "hi": done + size - 1,
                "start": period_start(period),
                "change_day": CHANGE_DAY,
                "tag": tag,
                "tz": str(billing_tz()),
                "period": period,
            },
        )
        done += size
        elapsed = time.perf_counter() - started
        log(
            f"  records {done:,}/{records:,} ({done / elapsed:,.0f}/s, ~{elapsed / done * (records - done):,.0f} s to go)"
        )
    records_seconds = time.perf_counter() - started
    sql(rollups_sql(), {"period": period})
    rollup_seconds = time.perf_counter() - started - records_seconds
    sql("DROP TABLE bench_combo")
    sql("VACUUM ANALYZE billing_usagerecord, billing_usagerequest, billing_usagerollup")
    sql("CHECKPOINT")
    ((rollups, rollup_requests),) = sql(
        "SELECT count(*), coalesce(sum(requests), 0) FROM billing_usagerollup", fetch=True
    )
    ((stored,),) = sql("SELECT count(*) FROM billing_usagerecord", fetch=True)
    ((ledger,),) = sql("SELECT count(*) FROM billing_usagerequest", fetch=True)
    ((correlation,),) = sql(
        "SELECT correlation FROM pg_stats WHERE tablename = 'billing_usagerollup' AND attname = 'customer_id'",
        fetch=True,
    )
    log(
        f"  {stored:,} records, {ledger:,} ledger rows, {rollups:,} rollups; records {records_seconds:.0f} s, "
        f"rollups {rollup_seconds:.0f} s"
    )
    return {
        "records": stored,
        "ledger_rows": ledger,
        "rollups": rollups,
        "rollup_requests": int(rollup_requests),
        "line_combinations": len(rows),
        "rollup_customer_correlation": round(correlation, 3),
        "records_seconds": round(records_seconds, 1),
        "rollups_seconds": round(rollup_seconds, 1),
        "checks": {
            "records_stored": stored == records,
            "ledger_rows": ledger == records,
            "rollups_sum_to_records": int(rollup_requests) == records,
        },
    }


# --- The close --------------------------------------------------------------------------


def reset_close() -> None:
    """Remove every bill and what closing left, so the next run starts from the same state."""
    sql(
        "TRUNCATE billing_billevent, billing_billline, billing_creditentry, billing_payment, billing_bill, "
        "billing_closedperiod CASCADE"
    )
    sql("UPDATE billing_priceversion SET locked_at = NULL")
    sql("UPDATE billing_exchangerate SET locked_at = NULL")
    sql("VACUUM ANALYZE billing_bill, billing_billline, billing_billevent, billing_closedperiod")
    sql("CHECKPOINT")


def _close_some(customer_ids: list[int], period: date, today: date) -> dict:
    """What the Celery task does for each customer; the tasks it enqueues on commit (PDF and
    e-mail, the credit re-evaluation) are counted by name, not sent."""
    from billing.bills.close import month_close_customer
    from customers.models import Customer

    enqueued: Counter = Counter()
    durations = []
    issued = 0
    with mock.patch("common.tasks.enqueue", side_effect=lambda name, *args, **options: enqueued.update([name])):
        for customer_id in customer_ids:
            started = time.perf_counter()
            customer = Customer.objects.get(pk=customer_id)
            outcomes = month_close_customer(customer=customer, period=period, today=today)
            durations.append(time.perf_counter() - started)
            issued += sum(1 for o in outcomes if o.action == "issued")
    return {"issued": issued, "queued": enqueued["billing.tasks.bill_render_and_send"], "durations": durations}


def _worker(customer_ids: list[int], period: date, today: date, results) -> None:
    from django.db import connections

    connections.close_all()  # never share the parent's socket
    try:
        started = time.perf_counter()
        outcome = _close_some(customer_ids, period, today)
        outcome["seconds"] = time.perf_counter() - started
        results.put(outcome)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        results.put({"error": repr(exc)})
        raise
    finally:
        connections.close_all()


def run_close(period: date, today: date, processes: int, profile: Path | None = None) -> dict:
    """Close every customer of ``period``; wall time from listing the customers to the last bill."""
    from django.db import connections

    from billing.bills.close import customers_to_close

    started = time.perf_counter()
    ids = customers_to_close(period)
    listed = time.perf_counter() - started
    if processes == 1:
        if profile is not None:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        outcome = _close_some(ids, period, today)
        if profile is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        outcomes = [outcome]
    else:
        connections.close_all()
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        workers = [
            context.Process(target=_worker, args=(ids[i::processes], period, today, results)) for i in range(processes)
        ]
        for w in workers:
            w.start()
        outcomes = [results.get() for _ in workers]
        for w in workers:
            w.join()
        errors = [o["error"] for o in outcomes if "error" in o]
        if errors:
            raise RuntimeError(f"close worker failed: {errors}")
    seconds = time.perf_counter() - started
    durations = sorted(d for o in outcomes for d in o["durations"])
    return {
        "processes": processes,
        "customers": len(ids),
        "seconds": round(seconds, 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "list_customers_seconds": round(listed, 3),
        "bills_issued": sum(o["issued"] for o in outcomes),
        "pdf_tasks_queued": sum(o["queued"] for o in outcomes),
        "customer_ms_p50": round(percentile(durations, 0.5) * 1000, 1),
        "customer_ms_p99": round(percentile(durations, 0.99) * 1000, 1),
        "customer_ms_max": round(durations[-1] * 1000, 1) if durations else None,
    }


def expected_bills(period: date) -> dict[int, dict]:
    """Each customer's subtotal, VAT, total and line count, computed from the rollups
    independently of billing.bills.close (money rules 5–8, docs/money-rules.md)."""
    from customers.models import Contract

    ((rate,),) = sql(
        "SELECT rate FROM billing_exchangerate WHERE currency = 'USD' AND period = %s", [period], fetch=True
    )
    terms = {c.customer_id: c for c in Contract.objects.filter(status=Contract.Status.ACTIVE)}
    lines: dict[tuple, Decimal] = defaultdict(Decimal)
    for customer_id, project_id, provider, model, currency, cost in sql(
        "SELECT customer_id, project_id, provider, model, currency, sum(cost) FROM billing_usagerollup "
        "WHERE bill_period = %s AND requests > 0 GROUP BY 1, 2, 3, 4, 5",
        [period],
        fetch=True,
    ):
        contract = terms[customer_id]
        with localcontext(prec=80):
            value = cost * (100 - contract.discount_percent) / 100 * (rate if currency == "USD" else 1)
        lines[(customer_id, project_id, provider, model)] += value
    cent = Decimal("0.01")
    bills: dict[int, dict] = {}
    for (customer_id, *_rest), value in lines.items():
        bill = bills.setdefault(customer_id, {"subtotal": Decimal(0), "lines": 0})
        bill["subtotal"] += value.quantize(cent, rounding=ROUND_HALF_UP)
        bill["lines"] += 1
    for customer_id, bill in bills.items():
        contract = terms[customer_id]
        commitment = contract.minimum_monthly_commitment.amount
        if commitment > bill["subtotal"]:
            bill["subtotal"] = commitment
            bill["lines"] += 1
        bill["vat"] = (bill["subtotal"] * contract.vat_rate).quantize(cent, rounding=ROUND_HALF_UP)
        bill["total"] = bill["subtotal"] + bill["vat"]
    return bills


def verify_close(period: date, expected: dict[int, dict], records: int) -> dict:
    from django.db.models import Count, Sum

    from billing.models import Bill, BillLine

    bills = list(
        Bill.objects.filter(period=period)
        .annotate(n_lines=Count("lines"))
        .values("customer_id", "status", "subtotal", "vat", "total", "n_lines", "number")
    )
    by_customer = defaultdict(list)
    for b in bills:
        by_customer[b["customer_id"]].append(b)
    mismatched = [
        cid
        for cid, want in expected.items()
        if len(by_customer.get(cid, [])) != 1
        or (got := by_customer[cid][0])["subtotal"] != want["subtotal"]
        or got["vat"] != want["vat"]
        or got["total"] != want["total"]
        or got["n_lines"] != want["lines"]
    ]
    line_requests = BillLine.objects.filter(bill__period=period).aggregate(s=Sum("requests"))["s"] or 0
    sum_subtotals = sum((b["subtotal"] for b in bills), Decimal(0))
    sum_expected = sum((b["subtotal"] for b in expected.values()), Decimal(0))
    checks = {
        "one_issued_bill_per_customer": len(bills) == len(expected)
        and all(b["status"] == Bill.Status.ISSUED and b["number"] for b in bills)
        and set(by_customer) == set(expected),
        "every_customer_total_exact": not mismatched,
        "sum_of_subtotals_exact": sum_subtotals == sum_expected,
        "every_record_on_a_line": line_requests == records,
    }
    return {
        "bills": len(bills),
        "sum_subtotals": str(sum_subtotals),
        "sum_totals": str(sum((b["total"] for b in bills), Decimal(0))),
        "lines": sum(b["n_lines"] for b in bills),
        "mismatched_customers": mismatched[:10],
        "checks": checks,
        "verified": all(checks.values()),
    }


def run_size(label: str, fixtures: dict, customers: int, records: int, args, period: date, today: date) -> dict:
    log(f"size {label}: {customers:,} customers × {args.models} models, {records:,} records")
    usage = generate_usage(fixtures, customers, records, period, tag=label, chunk=args.chunk)
    expected = expected_bills(period)
    runs = {}
    for processes in dict.fromkeys((1, args.processes)):
        attempts = []
        for attempt in range(args.repeat):
            reset_close()
            profile = (
                args.profile_dir / f"close-{label}.prof"
                if args.profile_dir and processes == 1 and attempt == 0
                else None
            )
            run = run_close(period, today, processes, profile)
            run["verification"] = verify_close(period, expected, records)
            run["verified"] = run["verification"]["verified"] and run["bills_issued"] == run["pdf_tasks_queued"]
            status = "ok" if run["verified"] else f"FAILED {run['verification']}"
            log(
                f"  close, {processes} process(es) #{attempt + 1}: {run['seconds']:.1f} s for {run['customers']:,} "
                f"customers ({run['bills_issued']:,} bills, p50 {run['customer_ms_p50']} ms/customer, load "
                f"{run['load_average_1min']}); verification {status}"
            )
            attempts.append(run)
        median = sorted(attempts, key=lambda r: r["seconds"])[len(attempts) // 2]
        runs[processes] = {
            **median,
            "seconds_all_runs": [r["seconds"] for r in attempts],
            "verified": all(r["verified"] for r in attempts),
        }
    return {
        "label": label,
        "customers": customers,
        "models": args.models,
        "usage": usage,
        "close_serial": runs[1],
        "close_parallel": runs.get(args.processes),
        "verified": all(r["verified"] for r in runs.values()) and all(usage["checks"].values()),
    }


# --- PDF --------------------------------------------------------------------------------


def run_pdfs(period: date, count: int) -> dict:
    from django.db.models import Count
    from django.test import override_settings

    from billing.bills.documents import bill_render_pdf
    from billing.models import Bill

    bills = list(
        Bill.objects.filter(period=period, status=Bill.Status.ISSUED)
        .annotate(n=Count("lines"))
        .filter(n__lte=30)
        .order_by("-n", "customer__code")
        .values_list("pk", "n")[:count]
    )
    with tempfile.TemporaryDirectory(prefix="bench-close-media-") as media, override_settings(MEDIA_ROOT=media):
        started = time.perf_counter()
        bill = bill_render_pdf(bill_id=bills[0][0])  # loads WeasyPrint and the fonts
        warm_up = time.perf_counter() - started
        times, cpu, sizes, pages, fonts = [], [], [], [], set()
        for pk, _n in bills:
            started, started_cpu = time.perf_counter(), time.process_time()
            bill = bill_render_pdf(bill_id=pk)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            with bill.pdf.open("rb") as handle:
                data = handle.read()
            sizes.append(len(data))
            reader = PdfReader(io.BytesIO(data))
            pages.append(len(reader.pages))
            for page in reader.pages:
                for font in (page["/Resources"].get("/Font") or {}).values():
                    fonts.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    ordered = sorted(times)
    return {
        "bills": len(bills),
        "lines_per_bill": sorted({n for _pk, n in bills}),
        "warm_up_seconds": round(warm_up, 3),
        "median_seconds": round(statistics.median(times), 3),
        "p90_seconds": round(percentile(ordered, 0.9), 3),
        "max_seconds": round(ordered[-1], 3),
        "median_cpu_seconds": round(statistics.median(cpu), 3),
        "median_bytes": int(statistics.median(sizes)),
        "pages": sorted(set(pages)),
        "fonts": sorted(fonts),
        "note": "bill_render_pdf: bill and lines from the database, daily-spend chart query, WeasyPrint, "
        "storage write; warm-up is the first render in the process (not in the median)",
    }


# --- Report -----------------------------------------------------------------------------


def print_table(result: dict) -> None:
    sizes = result["sizes"]
    base = sizes[0]["close_serial"]["seconds"]
    header = (
        f"{'size':<36}{'records':>11}{'rollups':>10}{'bills':>7}{'1 proc s':>10}{'× A':>7}"
        f"{'2 procs s':>11}{'ms/cust p50':>13}"
    )
    print()
    print(header)
    print("-" * len(header))
    for size in sizes:
        serial, parallel = size["close_serial"], size["close_parallel"]
        label = f"{size['label']}: {size['customers']:,} customers × {size['models']} models"
        print(
            f"{label:<36}{size['usage']['records']:>11,}{size['usage']['rollups']:>10,}{serial['bills_issued']:>7,}"
            f"{serial['seconds']:>10.1f}{serial['seconds'] / base:>7.2f}"
            f"{parallel['seconds'] if parallel else float('nan'):>11.1f}{serial['customer_ms_p50']:>13.1f}"
        )
    print()
    summary = result["summary"]
    print(
        f"close of A: {summary['close_seconds']:.1f} s ({summary['close_processes']} process(es)); "
        f"target ≤ {TARGET_CLOSE_SECONDS:.0f} s: {'met' if summary['close_target_met'] else 'MISSED'}"
    )
    if summary.get("records_ratio") is not None:
        print(f"B / A (1/5 of the records, same rollups): {summary['records_ratio']:.2f}")
    if summary.get("customers_ratio") is not None:
        print(f"C / A (1/4 of the customers, same records): {summary['customers_ratio']:.2f}")
    pdf = result.get("pdf")
    if pdf:
        print(
            f"PDF ({pdf['bills']} bills of {'/'.join(map(str, pdf['lines_per_bill']))} lines, {pdf['pages']} pages): "
            f"median {pdf['median_seconds']:.3f} s (CPU {pdf['median_cpu_seconds']:.3f} s), p90 {pdf['p90_seconds']:.3f} s, max {pdf['max_seconds']:.3f} s, "
            f"warm-up {pdf['warm_up_seconds']:.3f} s; target median ≤ {TARGET_PDF_MEDIAN} s: "
            f"{'met' if summary['pdf_target_met'] else 'MISSED'}"
        )
    print(f"verified (bills exact against the rollups): {'yes' if summary['verified'] else 'NO'}")
    m = result["machine"]
    print(
        f"machine: {m['nproc']} CPU ({m['cpu_model']}), {m['ram_gb']} GB RAM, PostgreSQL {m['postgresql']}, "
        f"Python {m['python']}; load average {m['load_average_at_start'][1]} → {m['load_average_at_end'][1]} "
        "(5 min, other work on the machine)"
    )


# --- Main -------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench close", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 100 customers, 300k/60k records")
    parser.add_argument("--customers", type=int, default=None, help="customers of sizes A and B (default 1,000)")
    parser.add_argument("--small-customers", type=int, default=None, help="customers of size C (default 250)")
    parser.add_argument("--models", type=int, default=20, choices=range(SECOND_PROJECT_MODELS, len(MODELS) + 1))
    parser.add_argument("--records", type=int, default=None, help="records of sizes A and C (default 5,000,000)")
    parser.add_argument("--small-records", type=int, default=None, help="records of size B (default 1,000,000)")
    parser.add_argument("--processes", type=int, default=2, help="parallel close processes (default 2)")
    parser.add_argument("--repeat", type=int, default=None, help="closes per size and process count (default 3)")
    parser.add_argument("--pdf-bills", type=int, default=30)
    parser.add_argument("--chunk", type=int, default=1_000_000, help="records per generating statement")
    parser.add_argument("--only", choices=["A", "B", "C"], action="append", help="run only these sizes")
    parser.add_argument("--profile-dir", type=Path, default=None, help="write cProfile stats of serial closes here")
    parser.add_argument("--keep-db", action="store_true", help=f"keep the {BENCH_DB} database afterwards")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    defaults = (100, 25, 300_000, 60_000) if args.quick else (1000, 250, 5_000_000, 1_000_000)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    for name, value in zip(("customers", "small_customers", "records", "small_records"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.output is None:
        args.output = RESULTS / ("close-quick.json" if args.quick else "close.json")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    base_url = server_url()
    if base_url is None:
        return 2
    url = database_url(base_url, BENCH_DB)
    started_at = datetime.now(UTC)
    load_at_start = os.getloadavg()
    log(f"database {BENCH_DB}: create and migrate")
    recreate_database(base_url, BENCH_DB)
    try:
        migrate(url)
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("PROCUREMENT_ENV", "test")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procurement.settings")
        import django

        django.setup()
        from django.conf import settings

        from billing.periods import next_period, previous_period

        settings.CELERY_TASK_ALWAYS_EAGER = False  # and common.tasks.enqueue is replaced in _close_some
        period = previous_period()
        today = next_period(period)  # the 1st, as the beat schedule runs it
        log(
            f"fixtures: {args.customers:,} customers ({TWO_PROJECT_CUSTOMERS} with two projects), "
            f"{args.models} models, USD rate for {period:%Y-%m}"
        )
        fixture_started = time.perf_counter()
        fixtures = create_fixtures(args.customers, args.models, args.small_customers, period)
        fixture_seconds = time.perf_counter() - fixture_started
        log(f"  fixtures in {fixture_seconds:.0f} s")

        plan = [
            ("A", args.customers, args.records),
            ("B", args.customers, args.small_records),
            ("C", args.small_customers, args.records),
        ]
        sizes, pdf = [], None
        for label, customers, records in plan:
            if args.only and label not in args.only:
                continue
            sizes.append(run_size(label, fixtures, customers, records, args, period, today))
            if label == "A" or (pdf is None and args.only and "A" not in args.only):
                log(f"PDF: {args.pdf_bills} bills")
                pdf = run_pdfs(period, args.pdf_bills)
                log(
                    f"  median {pdf['median_seconds']} s, p90 {pdf['p90_seconds']} s, warm-up {pdf['warm_up_seconds']} s"
                )

        by_label = {s["label"]: s for s in sizes}
        head = sizes[0]
        close_seconds = head["close_serial"]["seconds"]
        close_processes = 1
        if head["close_parallel"] and head["close_parallel"]["seconds"] < close_seconds:
            close_seconds, close_processes = head["close_parallel"]["seconds"], args.processes
        a = by_label.get("A")
        summary = {
            "close_seconds": close_seconds,
            "close_processes": close_processes,
            "close_serial_seconds": head["close_serial"]["seconds"],
            "close_target_seconds": TARGET_CLOSE_SECONDS,
            "close_target_met": close_seconds <= TARGET_CLOSE_SECONDS,
            "records_ratio": (
                round(by_label["B"]["close_serial"]["seconds"] / a["close_serial"]["seconds"], 3)
                if a and "B" in by_label
                else None
            ),
            "customers_ratio": (
                round(by_label["C"]["close_serial"]["seconds"] / a["close_serial"]["seconds"], 3)
                if a and "C" in by_label
                else None
            ),
            "pdf_median_seconds": pdf["median_seconds"] if pdf else None,
            "pdf_target_seconds": TARGET_PDF_MEDIAN,
            "pdf_target_met": bool(pdf and pdf["median_seconds"] <= TARGET_PDF_MEDIAN),
            "verified": all(s["verified"] for s in sizes),
        }
        result = {
            "benchmark": "close",
            "timestamp": started_at.isoformat(),
            "parameters": {
                "period": period.isoformat(),
                "customers": args.customers,
                "small_customers": args.small_customers,
                "models": args.models,
                "records": args.records,
                "small_records": args.small_records,
                "processes": args.processes,
                "pdf_bills": args.pdf_bills,
                "two_project_customers": TWO_PROJECT_CUSTOMERS,
                "price_changes_in_month": len(CHANGED_MODELS),
                "minimum_commitment": f"{COMMITMENT} CNY for customers with index % 10 == 3 from "
                f"{TWO_PROJECT_CUSTOMERS} to {args.small_customers}",
                "quick": args.quick,
                "note": "close timed as the Celery task runs it (load customer, month_close_customer), "
                "from customers_to_close to the last bill; PDF/e-mail tasks not run (delay replaced by a counter)",
            },
            "machine": machine_facts(url)
            | {
                "load_average_at_start": [round(x, 2) for x in load_at_start],
                "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            },
            "fixtures_seconds": round(fixture_seconds, 1),
            "sizes": sizes,
            "pdf": pdf,
            "summary": summary,
        }
        args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
        print_table(result)
        print(f"\nwritten: {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
        return 0 if summary["verified"] else 1
    finally:
        if not args.keep_db:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: BLE001 - Django may not be set up yet
                pass
            drop_database(base_url, BENCH_DB)
