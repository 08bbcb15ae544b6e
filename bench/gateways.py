"""Gateway connector benchmark: ``sync_gateway_logs newapi`` over 1,000,000 new-api log rows
against the ingestion API's own rate, measured in the same run on the same server.

1. A fresh ``bench_gateways`` database (migrated; fixtures through the app's services, as
   the ingestion benchmark makes them), every key mapped to a gateway token
   (``bench:{n}``), and a ``bench_newapi`` database holding new-api's ``logs`` table filled
   in SQL: consume rows over the last days, a tenth of them on the Claude path with cache
   counts in ``other``, some error rows the sync must skip.
2. The ingestion API's rate: gunicorn (2 workers) and 2 clients post records in batches
   of 2,000 (bench/ingest.py's HTTP run), then the usage tables are emptied.
3. The sync: ``manage.py sync_gateway_logs newapi`` as a process, timed; then every row is
   checked to be stored exactly once.
4. Prints a table and writes ``bench/results/gateways.json`` (``gateways-quick.json`` for
   ``--quick``). The goal: the sync at ≥ 50 % of the API's records/s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.ingest import (
    ROOT,
    Server,
    Workload,
    connect,
    create_fixtures,
    database_url,
    drop_database,
    http_run,
    load_average,
    log,
    migrate,
    recreate_database,
    server_url,
    truncate_usage,
)

RESULTS = ROOT / "bench" / "results"
GATEWAY_DB = os.environ.get("BENCH_GATEWAY_DATABASE", "bench_gateways")
NEWAPI_DB = os.environ.get("BENCH_NEWAPI_DATABASE", "bench_newapi")

LOGS_DDL = """
CREATE TABLE logs (
    id bigserial PRIMARY KEY, user_id bigint, created_at bigint, type bigint, content text,
    username text DEFAULT '', token_name text DEFAULT '', model_name text DEFAULT '',
    quota bigint DEFAULT 0, prompt_tokens bigint DEFAULT 0, completion_tokens bigint DEFAULT 0,
    use_time bigint DEFAULT 0, is_stream boolean, channel_id bigint, token_id bigint DEFAULT 0,
    "group" text, ip text DEFAULT '', other text);
CREATE INDEX idx_created_at_id ON logs (id, created_at);
CREATE INDEX idx_created_at_type ON logs (created_at, type);
"""
# Rows in created_at order (as the gateway writes them); every 10th on the Claude path, every
# 50th an error row (type 5) the sync skips.
FILL_SQL = """
INSERT INTO logs (user_id, created_at, type, content, token_name, model_name, quota, prompt_tokens,
                  completion_tokens, use_time, is_stream, channel_id, token_id, "group", other)
SELECT 1, %(start)s::bigint + (g::bigint * %(span)s) / %(n)s, CASE WHEN g %% 50 = 0 THEN 5 ELSE 2 END, '倍率：1.00 × 1.00 × 1.00',
       'k', (%(models)s::text[])[1 + g %% array_length(%(models)s::text[], 1)], 100,
       CASE WHEN g %% 10 = 0 THEN 20 + g %% 300 ELSE 100 + g %% 4000 END, 10 + g %% 900, 2, false, 1,
       1 + g %% %(nkeys)s, 'default',
       CASE WHEN g %% 10 = 0
            THEN '{"claude":true,"cache_tokens":' || (g %% 2000) || ',"cache_creation_tokens":' || (g %% 300) ||
                 ',"model_ratio":1.5,"group_ratio":1}'
            ELSE '{"cache_tokens":' || (g %% 100) || ',"model_ratio":1.25,"group_ratio":1}' END
FROM generate_series(1, %(n)s) AS g
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench gateways", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 100k log rows, 20k API records")
    parser.add_argument("--rows", type=int, default=None, help="new-api log rows (default 1,000,000)")
    parser.add_argument("--records", type=int, default=None, help="records posted to the API (default 100,000)")
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    args.rows = args.rows or (100_000 if args.quick else 1_000_000)
    args.records = args.records or (20_000 if args.quick else 100_000)
    return args


def fill_newapi(url: str, *, rows: int, keys: int, models: list[str], now: int) -> int:
    """The new-api database; returns the consume rows it holds."""
    with connect(url, autocommit=True) as conn:
        conn.execute(LOGS_DDL)
        span = 2 * 86400
        conn.execute(FILL_SQL, {"start": now - span - 600, "span": span, "n": rows, "models": models, "nkeys": keys})
        conn.execute("VACUUM ANALYZE logs")
        return conn.execute("SELECT count(*) FROM logs WHERE type = 2").fetchone()[0]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    base_url = server_url()
    if base_url is None:
        return 2
    url = database_url(base_url, GATEWAY_DB)
    newapi_url = database_url(base_url, NEWAPI_DB)
    load_start = load_average()
    log(f"database {GATEWAY_DB}: create and migrate; {NEWAPI_DB}: new-api logs")
    recreate_database(base_url, GATEWAY_DB)
    recreate_database(base_url, NEWAPI_DB)
    try:
        migrate(url)
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("PROCUREMENT_ENV", "test")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procurement.settings")
        import django

        django.setup()
        from customers.models import ApiKey

        now = datetime.now(UTC)
        fixtures = create_fixtures(args.customers, 2, 2, now)
        for n, (key_id, *_ids) in enumerate(fixtures.keys, start=1):
            ApiKey.objects.filter(key_id=key_id).update(external_id=f"bench:{n}")
        models = [model for _provider, model in fixtures.models]
        log(f"filling {args.rows:,} log rows")
        consume = fill_newapi(
            newapi_url, rows=args.rows, keys=len(fixtures.keys), models=models, now=int(now.timestamp())
        )

        log(f"the ingestion API: {args.records:,} records, batches of 2,000, 2 clients, 2 gunicorn workers")
        server = Server(url, 2)
        try:
            api = http_run(server, url, Workload(fixtures, args.seed, now), args.records, 2000, 2, "API")
        finally:
            server.stop()
        truncate_usage(url)

        log(f"sync_gateway_logs newapi over {consume:,} consume rows")
        env = dict(os.environ, DATABASE_URL=url, PROCUREMENT_ENV="test")
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "sync_gateway_logs",
                "newapi",
                "--database-url",
                newapi_url,
                "--source",
                "bench",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - started
        line = done.stdout.strip().splitlines()[-1]
        with connect(url) as conn:
            stored, distinct = conn.execute(
                "SELECT count(*), count(DISTINCT request_id) FROM billing_usagerecord WHERE request_id LIKE 'bench:%%'"
            ).fetchone()
        sync_rate = consume / seconds
        result = {
            "benchmark": "gateways",
            "timestamp": datetime.now(UTC).isoformat(),
            "parameters": {"rows": args.rows, "consume_rows": consume, "api_records": args.records},
            "api_records_per_s": api["records_per_s"],
            "sync_seconds": round(seconds, 1),
            "sync_rows_per_s": round(sync_rate, 1),
            "sync_output": line,
            "ratio": round(sync_rate / api["records_per_s"], 3),
            "meets_goal": sync_rate >= 0.5 * api["records_per_s"],
            "stored_once": stored == distinct == consume,
            "load_average": {"start": load_start, "end": load_average()},
        }
        print()
        print(f"{'ingestion API':<28}{api['records_per_s']:>12,.0f} records/s")
        print(f"{'sync_gateway_logs newapi':<28}{sync_rate:>12,.0f} rows/s   ({seconds:,.1f} s for {consume:,} rows)")
        print(f"{'ratio (goal ≥ 0.50)':<28}{result['ratio']:>12.2f}")
        print(f"{'stored exactly once':<28}{str(result['stored_once']):>12}   {line}")
        name = "gateways-quick.json" if args.quick else "gateways.json"
        RESULTS.mkdir(parents=True, exist_ok=True)
        Path(RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
        return 0 if result["stored_once"] else 1
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            drop_database(base_url, GATEWAY_DB)
            drop_database(base_url, NEWAPI_DB)
