"""Alerts benchmark: the gateway's allowance endpoint under load, and the anomaly rule's
precision and recall on synthetic series with known anomalies.

1. Allowance latency. Creates a fresh database ``bench_alerts`` on the server ``DATABASE_URL``
   names (dropped first if it exists; not the ingest benchmark's, so both can run at once),
   migrates it, and creates fixtures through the app's services: customers with contracts
   (some ended), API keys (some revoked), hard-limit budgets (some reached, through real
   ingestion and evaluation) and a gateway token. Starts gunicorn and sends
   ``GET /api/v1/api-keys/{key_id}/allowance/`` open-loop at a fixed rate (default 1,000/s for
   20 s) over keep-alive connections from an asyncio client, measuring each request from
   send to the last byte (and, separately, how late it left against its schedule). Every
   answer is checked against the reason the fixtures imply. Target: median ≤ 5 ms.
2. Anomaly precision/recall. Generates daily spend series (weekday/weekend pattern, noise,
   trends, sparse series; default 300 series × 120 days) with injected spikes of known
   sizes, runs ``billing.budgets.forecasting.robust_anomaly`` on every day against its trailing
   28 days for k in 3, 4, 5, 6 and counts hits and false alarms.
3. Prints a table and writes ``bench/results/alerts.json`` (``alerts-quick.json`` for
   ``--quick``) with the figures and machine facts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.ingest import (
    RESULTS,
    ROOT,
    Server,
    child_pids,
    connect,
    cpu_seconds,
    database_url,
    drop_database,
    log,
    machine_facts,
    migrate,
    percentile,
    recreate_database,
    server_url,
)

BENCH_DB = "bench_alerts"
TARGET_MEDIAN_MS = 5.0
LIGHT_RATE, LIGHT_SECONDS = 100.0, 5.0  # a reference run far from saturation
KS = (3, 4, 5, 6)
MIN_ABSOLUTE = Decimal("50")
SPIKE_FACTORS = (1.5, 2.0, 3.0, 5.0, 10.0)


# --- Database ---------------------------------------------------------------------------


# --- Fixtures (through the app's services) ----------------------------------------------


def create_fixtures(customers: int, keys_per_customer: int) -> tuple[str, dict[str, str | None]]:
    """Customers in four kinds, by index: contract ended (no_contract), hard limit reached
    (hard_limit), under budget, no budget; one key in seven revoked. Returns the gateway
    token and each key's expected reason."""
    from django.db import connections
    from django.utils import timezone

    from billing.budgets.budgets import budget_create, budgets_evaluate_customer
    from billing.metering.ingest import usage_ingest_batch
    from billing.periods import billing_tz, next_period
    from billing.pricing.services import price_version_set
    from customers import services
    from customers.validators import uscc_check_character

    now = timezone.now()
    today = now.astimezone(billing_tz()).date()
    month = today.replace(day=1)
    price_version_set(
        provider="meter",
        model="spend-meter",
        effective_from=datetime(2020, 1, 1, tzinfo=UTC),
        currency="CNY",
        input_per_mtok=Decimal("1000"),
        output_per_mtok=Decimal("0"),
    )
    expected: dict[str, str | None] = {}
    serial = 0
    for c in range(customers):
        kind = ("no_contract", "hard_limit", "under", "none")[c % 4]
        first17 = f"9131000{c + 1:010d}"
        customer = services.customer_create(
            code=f"ALRT{c:03d}",
            name=f"告警基准客户 {c:03d} 有限公司",
            tax_id=first17 + uscc_check_character(first17),
            email=f"ap@alrt{c:03d}.example.cn",
        )
        services.contract_create(
            customer=customer,
            number=f"HT-ALRT-{c:03d}",
            starts_on=next_period(month, -12),
            ends_on=today - timedelta(days=1) if kind == "no_contract" else None,
            price_currency="CNY",
        )
        project = services.project_create(customer=customer, code="main", name="Main")
        keys = []
        for k in range(keys_per_customer):
            key, _secret = services.api_key_create(project=project, name=f"key {k}")
            serial += 1
            if serial % 7 == 0:
                services.api_key_revoke(key=key)
                expected[key.key_id] = "revoked"
            else:
                expected[key.key_id] = {"no_contract": "no_contract", "hard_limit": "hard_limit"}.get(kind)
            keys.append(key)
        if kind in {"no_contract", "hard_limit", "under"}:
            budget_create(
                customer=customer, scope="customer", target=None, monthly_amount=Decimal("1000"), hard_limit=True
            )
            amount = 1200 if kind in {"no_contract", "hard_limit"} else 300
            usage_ingest_batch(
                records=[
                    {
                        "request_id": f"alrt-{c}-{i}",
                        "key_id": keys[i % len(keys)].key_id,
                        "provider": "meter",
                        "model": "spend-meter",
                        "input_tokens": amount * 1000 // 4,
                        "output_tokens": 0,
                        "occurred_at": (now - timedelta(minutes=5)).isoformat(),
                    }
                    for i in range(4)
                ]
            )
            budgets_evaluate_customer(customer_id=customer.pk)
    _identity, token = services.gateway_identity_create(name="bench-alerts")
    connections.close_all()
    return token, expected


# --- CPU accounting ----------------------------------------------------------------------


def _machine_busy_seconds() -> float:
    """CPU seconds all processes have used since boot (every core)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _cpu_by_pid(pids: list[int]) -> dict[int, float]:
    return {pid: cpu_seconds([pid]) for pid in pids}


class CpuMeter:
    """CPU used by gunicorn, the bench database's backends and this client over a run, and
    by everything else on the machine (other work competing for the same cores)."""

    def __init__(self, server: Server, url: str):
        self.server = server
        self.url = url

    def _processes(self) -> dict[str, list[int]]:
        with connect(self.url) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [BENCH_DB]
            ).fetchall()
        return {
            "gunicorn": [self.server.process.pid, *child_pids(self.server.process.pid)],
            "postgres": [r[0] for r in rows],
            "client": [os.getpid()],
        }

    def __enter__(self) -> CpuMeter:
        self.start = {k: _cpu_by_pid(v) for k, v in self._processes().items()}
        self.start_machine, self.start_wall = _machine_busy_seconds(), time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        self.end_machine, self.end_wall = _machine_busy_seconds(), time.monotonic()
        # Processes that started during the run count from zero; one that ended is missed.
        self.used = {
            kind: sum(cpu - self.start[kind].get(pid, 0.0) for pid, cpu in _cpu_by_pid(pids).items())
            for kind, pids in self._processes().items()
        }

    def report(self, requests: int) -> dict:
        ours = sum(self.used.values())
        wall = self.end_wall - self.start_wall
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        return {
            "cpu_ms_per_request": {
                k: round(1000 * v / requests, 3) if requests else None for k, v in self.used.items()
            },
            "other_processes_cpu_share": round(
                max(0.0, self.end_machine - self.start_machine - ours) / (wall * cores), 3
            ),
        }


# --- Open-loop load over keep-alive connections -----------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:
        body = await reader.read()
    close = headers.get("connection", "").lower() == "close" or "content-length" not in headers
    return status, body, close


async def _load(port: int, requests: list[tuple[str, bytes]], rate: float, duration: float, connections: int) -> dict:
    """Send ``rate × duration`` requests at their scheduled times, round-robin over ``requests``."""
    loop = asyncio.get_running_loop()
    total = int(rate * duration)
    state = {"next": 0}
    samples: list[tuple[float, float]] = []  # (latency, lateness against the schedule)
    answers: dict[str, Counter] = defaultdict(Counter)
    errors: list[str] = []
    reconnects = [0]
    start = loop.time() + 0.2

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while state["next"] < total:
            index = state["next"]
            state["next"] += 1
            due = start + index / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            key_id, payload = requests[index % len(requests)]
            sent = time.perf_counter()
            lateness = max(0.0, loop.time() - due)
            try:
                writer.write(payload)
                status, body, close = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError) as exc:
                errors.append(f"{key_id}: {exc!r}")
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                reconnects[0] += 1
                continue
            samples.append((time.perf_counter() - sent, lateness))
            if status != 200:
                errors.append(f"{key_id}: HTTP {status} {body[:200]!r}")
            else:
                data = json.loads(body)
                answers[key_id][(data["allowed"], data["reason"])] += 1
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                reconnects[0] += 1
        writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    wall = time.perf_counter() - began - 0.2
    return {"samples": samples, "answers": answers, "errors": errors, "wall": wall, "reconnects": reconnects[0]}


def allowance_run(
    port: int,
    token: str,
    expected: dict[str, str | None],
    rate: float,
    duration: float,
    connections: int,
    meter: CpuMeter | None = None,
) -> dict:
    requests = [
        (
            key_id,
            (
                f"GET /api/v1/api-keys/{key_id}/allowance/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Token {token}\r\nConnection: keep-alive\r\n\r\n"
            ).encode(),
        )
        for key_id in expected
    ]
    random.Random(1).shuffle(requests)
    if meter is None:
        outcome = asyncio.run(_load(port, requests, rate, duration, connections))
    else:
        with meter:
            outcome = asyncio.run(_load(port, requests, rate, duration, connections))
    latencies = sorted(s[0] for s in outcome["samples"])
    lateness = sorted(s[1] for s in outcome["samples"])
    wrong = {}
    for key_id, seen in outcome["answers"].items():
        reason = expected[key_id]
        if set(seen) != {(reason is None, reason)}:
            wrong[key_id] = {"expected": reason, "seen": [list(k) for k in seen]}
    sent = len(outcome["samples"])
    return {
        "target_rate": rate,
        "duration_s": duration,
        "connections": connections,
        "requests": sent,
        "achieved_rate": round(sent / outcome["wall"], 1),
        "median_ms": round(percentile(latencies, 0.50) * 1000, 3),
        "p90_ms": round(percentile(latencies, 0.90) * 1000, 3),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
        "max_ms": round(latencies[-1] * 1000, 3) if latencies else None,
        "schedule_lateness_p99_ms": round(percentile(lateness, 0.99) * 1000, 3),
        "reconnects": outcome["reconnects"],
        "errors": len(outcome["errors"]),
        "error_samples": outcome["errors"][:5],
        "answers_checked": sum(sum(c.values()) for c in outcome["answers"].values()),
        "wrong_answers": wrong,
        "verified": not outcome["errors"] and not wrong,
        **(meter.report(sent) if meter is not None else {}),
    }


# --- Anomaly precision / recall ---------------------------------------------------------


def synthetic_series(rng: random.Random, days: int, start: date) -> tuple[list[Decimal], dict[int, float]]:
    """One customer's daily spend in CNY and its injected anomalies {day index: factor}.

    Level from 5 to 20,000 CNY a day (log-uniform); weekends at 5–100 % of weekdays; noise
    with a coefficient of variation of 3–30 %; a trend of −1 % to +1.5 % a day for a third
    of the series; one series in eight is sparse (a quiet day is often zero). Spikes multiply
    one day by 1.5–10 and land after the first 28 days; none on two consecutive days.
    """
    level = math.exp(rng.uniform(math.log(5), math.log(20_000)))
    weekend = rng.uniform(0.05, 1.0)
    noise = rng.uniform(0.03, 0.30)
    trend = rng.uniform(-0.01, 0.015) if rng.random() < 1 / 3 else 0.0
    sparse = rng.random() < 1 / 8
    anomalies: dict[int, float] = {}
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        day = rng.randrange(28, days)
        if day - 1 not in anomalies and day + 1 not in anomalies:
            anomalies[day] = rng.choice(SPIKE_FACTORS)
    series = []
    for i in range(days):
        weekday = (start + timedelta(days=i)).weekday()
        expected = level * (1 + trend) ** i * (weekend if weekday >= 5 else 1.0)
        value = max(0.0, rng.gauss(expected, expected * noise))
        if sparse and rng.random() < 0.3:
            value = 0.0
        if i in anomalies:
            value = max(value, expected) * anomalies[i]
        series.append(Decimal(f"{value:.2f}"))
    return series, anomalies


def anomaly_benchmark(count: int, days: int, seed: int) -> dict:
    from billing.budgets.forecasting import day_anomaly

    rng = random.Random(seed)
    start = date(2026, 1, 5)
    dataset = [synthetic_series(rng, days, start) for _ in range(count)]
    injected = sum(len(a) for _s, a in dataset)
    results = {}
    started = time.perf_counter()
    for k in KS:
        tp = fp = fn = 0
        by_factor: dict[float, list[int]] = {f: [0, 0] for f in SPIKE_FACTORS}  # [found, injected]
        material = [0, 0]
        for series, anomalies in dataset:
            for day in range(28, days):
                daily = {start + timedelta(days=i): series[i] for i in range(day - 28, day + 1)}
                verdict = day_anomaly(daily, start + timedelta(days=day), k=Decimal(k), min_absolute=MIN_ABSOLUTE)
                factor = anomalies.get(day)
                if factor is not None:
                    by_factor[factor][1] += 1
                    excess = verdict.value - verdict.median
                    if excess >= MIN_ABSOLUTE:
                        material[1] += 1
                    if verdict.anomalous:
                        tp += 1
                        by_factor[factor][0] += 1
                        if excess >= MIN_ABSOLUTE:
                            material[0] += 1
                    else:
                        fn += 1
                elif verdict.anomalous:
                    fp += 1
        results[str(k)] = {
            "true_positives": tp,
            "false_positives": fp,
            "false_negatives": fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
            "recall_by_spike_factor": {str(f): round(v[0] / v[1], 4) if v[1] else None for f, v in by_factor.items()},
            "recall_material": round(material[0] / material[1], 4) if material[1] else None,
            "false_alarms_per_1000_series_days": round(1000 * fp / (count * (days - 28)), 3),
        }
    return {
        "series": count,
        "days_per_series": days,
        "evaluated_days": count * (days - 28),
        "injected_anomalies": injected,
        "min_absolute_cny": str(MIN_ABSOLUTE),
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 2),
        "generator": synthetic_series.__doc__.strip().replace("\n    ", " "),
        "recall_material_means": "recall over injected spikes at least min_absolute above the trailing median",
        "by_k": results,
    }


# --- Report -----------------------------------------------------------------------------


def print_table(result: dict) -> None:
    allowance = result.get("allowance")
    if allowance:
        print()
        print(f"allowance endpoint ({allowance['server']}, keep-alive connections)")
        print(
            f"{'target/s':>10}{'achieved/s':>12}{'median ms':>11}{'p90 ms':>9}{'p99 ms':>9}{'errors':>8}"
            f"{'CPU ms/req app+db':>19}{'others':>8}  verified"
        )
        for run in (allowance["light"], allowance["run"]):
            cpu = run["cpu_ms_per_request"]
            print(
                f"{run['target_rate']:>10,.0f}{run['achieved_rate']:>12,.0f}{run['median_ms']:>11.2f}"
                f"{run['p90_ms']:>9.2f}{run['p99_ms']:>9.2f}{run['errors']:>8}"
                f"{cpu['gunicorn']:>12.2f}+{cpu['postgres']:<6.2f}{run['other_processes_cpu_share']:>8.0%}"
                f"  {'yes' if run['verified'] else 'NO'}"
            )
        met = "met" if allowance["target_met"] else "MISSED"
        print(f"median ≤ {TARGET_MEDIAN_MS:g} ms at {allowance['run']['target_rate']:,.0f}/s: {met}")
    anomaly = result.get("anomaly")
    if anomaly:
        print()
        print(
            f"anomaly rule: {anomaly['series']} series × {anomaly['days_per_series']} days, "
            f"{anomaly['injected_anomalies']} injected spikes, min absolute {anomaly['min_absolute_cny']} CNY"
        )
        factors = list(anomaly["by_k"]["3"]["recall_by_spike_factor"])
        header = "".join(f"{'×' + f:>7}" for f in factors)
        print(f"{'k':>3}{'precision':>11}{'recall':>8}{'material':>10}{'FP':>6}  recall by spike size:{header}")
        for k, row in anomaly["by_k"].items():
            sizes = "".join(
                f"{v:>7.2f}" if v is not None else f"{'—':>7}" for v in row["recall_by_spike_factor"].values()
            )
            print(
                f"{k:>3}{row['precision']:>11.3f}{row['recall']:>8.3f}{row['recall_material']:>10.3f}"
                f"{row['false_positives']:>6}  {'':21}{sizes}"
            )
    m = result["machine"]
    print(
        f"\nmachine: {m['nproc']} CPU ({m['cpu_model']}), {m['ram_gb']} GB RAM, PostgreSQL {m['postgresql']}, "
        f"Python {m['python']}; load average at start {result['load_average_at_start']}"
    )


# --- Main -------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench alerts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 s of load, 200 series")
    parser.add_argument("--rate", type=float, default=1000.0, help="allowance requests per second (default 1,000)")
    parser.add_argument("--duration", type=float, default=None, help="seconds of load (default 20)")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive client connections (default 16)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument(
        "--worker-class", default="gthread", help="gunicorn worker class (default gthread: keeps connections alive)"
    )
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker (default 1)")
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--keys", type=int, default=10, help="API keys per customer (default 10)")
    parser.add_argument("--series", type=int, default=None, help="synthetic series (default 300)")
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--skip-allowance", action="store_true")
    parser.add_argument("--skip-anomaly", action="store_true")
    parser.add_argument("--keep-db", action="store_true", help=f"keep the {BENCH_DB} database afterwards")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 5.0 if args.quick else 20.0
    if args.series is None:
        args.series = 200 if args.quick else 300
    if args.output is None:
        args.output = RESULTS / ("alerts-quick.json" if args.quick else "alerts.json")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    base_url = server_url()
    if base_url is None:
        return 2
    url = database_url(base_url, BENCH_DB)
    started_at = datetime.now(UTC)
    load_average = [round(x, 2) for x in os.getloadavg()]
    log(f"database {BENCH_DB}: create and migrate")
    recreate_database(base_url, BENCH_DB)
    try:
        migrate(url)
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("PROCUREMENT_ENV", "test")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procurement.settings")
        import django

        django.setup()
        result: dict = {
            "benchmark": "alerts",
            "timestamp": started_at.isoformat(),
            "quick": args.quick,
            "machine": machine_facts(url),
            "load_average_at_start": load_average,
        }
        ok = True
        if not args.skip_allowance:
            log(f"fixtures: {args.customers} customers × {args.keys} keys")
            token, expected = create_fixtures(args.customers, args.keys)
            reasons = Counter(str(r) for r in expected.values())
            server = Server(
                url,
                args.workers,
                args.worker_class,
                args.threads,
                extra_args=("--keep-alive", "30"),
                log_path=RESULTS / "alerts-gunicorn.log",
            )
            label = f"gunicorn {args.workers} × {args.worker_class}" + (
                f" ({args.threads} threads)" if args.worker_class == "gthread" else ""
            )
            try:
                log(f"warm-up, then {LIGHT_RATE:g} requests/s for {LIGHT_SECONDS:g} s (latency without queueing)")
                allowance_run(server.port, token, expected, min(args.rate, 200), 2, args.connections)
                light = allowance_run(server.port, token, expected, LIGHT_RATE, LIGHT_SECONDS, 4, CpuMeter(server, url))
                log(f"{args.rate:,.0f} requests/s for {args.duration:g} s ({label})")
                run = allowance_run(
                    server.port, token, expected, args.rate, args.duration, args.connections, CpuMeter(server, url)
                )
            finally:
                server.stop()
            for figures in (light, run):
                log(
                    f"  target {figures['target_rate']:,.0f}/s: achieved {figures['achieved_rate']:,.0f}/s, "
                    f"median {figures['median_ms']} ms, p99 {figures['p99_ms']} ms, verified {figures['verified']}"
                )
            result["allowance"] = {
                "server": label,
                "keys": len(expected),
                "expected_reasons": dict(reasons),
                "light": light,
                "run": run,
                "target_median_ms": TARGET_MEDIAN_MS,
                "target_met": run["median_ms"] <= TARGET_MEDIAN_MS,
                "note": (
                    "open-loop asyncio client on the same machine; latency from send to the last byte. "
                    "cpu_ms_per_request: CPU time of gunicorn, of the bench database's backends and of the "
                    "client per request; other_processes_cpu_share: the share of all cores used by everything "
                    "else on the machine during the run."
                ),
            }
            ok = ok and run["verified"] and light["verified"]
        if not args.skip_anomaly:
            log(f"anomaly rule on {args.series} synthetic series × {args.days} days, k in {KS}")
            result["anomaly"] = anomaly_benchmark(args.series, args.days, args.seed)
        args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
        print_table(result)
        print(f"\nwritten: {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
        return 0 if ok else 1
    finally:
        if not args.keep_db:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: BLE001 - Django may not be set up yet
                pass
            drop_database(base_url, BENCH_DB)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
