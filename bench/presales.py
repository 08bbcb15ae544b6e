"""Presales benchmark: the proposal PDF (报价方案) of a three-option proposal.

On the PostgreSQL server ``DATABASE_URL`` names:

1. Creates a fresh database ``bench_presales`` (dropped first if it exists; not the other
   benchmarks', so they can run at once) and migrates it.
2. Through the app's services: three models priced in USD, the USD rate, the standard
   proposal template, an estimate of three workloads × three candidate models, and a
   proposal version choosing one model per workload (three options).
3. Renders the PDF as the first request does (``proposal_pdf_render``: version and
   options from the database, the 12-month chart, WeasyPrint): one warm-up render (loads
   WeasyPrint and the fonts; reported, not in the median), then ``--renders`` timed, each
   checked for its number and 人民币大写 total by pypdf.
4. Prints a line and writes ``bench/results/presales.json`` (``presales-quick.json`` for
   ``--quick``) with the figures and machine facts.

Target (issue 11): median ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader

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

BENCH_DB = "bench_presales"
TARGET_MEDIAN_SECONDS = 0.5
# (model, input, cached input, output) USD per million tokens
MODELS = [("gpt-4o", "2.50", "1.25", "10"), ("gpt-4o-mini", "0.15", "0.075", "0.60"), ("gpt-4.1", "2", "0.5", "8")]


def create_proposal():
    """An estimate of three workloads × three models and a proposal choosing one each."""
    from django.utils import timezone

    from billing.periods import current_period
    from billing.pricing.services import exchange_rate_set, price_version_set
    from presales.demo import TEMPLATE
    from presales.estimates import estimate_create
    from presales.models import ProposalTemplate
    from presales.proposals import Choice, proposal_version_create
    from presales.rules import EstimateInput, WorkloadInput

    for model, input_price, cached, output in MODELS:
        price_version_set(
            provider="openai",
            model=model,
            effective_from=datetime(2020, 1, 1, tzinfo=UTC),
            currency="USD",
            input_per_mtok=Decimal(input_price),
            cached_input_per_mtok=Decimal(cached),
            output_per_mtok=Decimal(output),
        )
    exchange_rate_set(currency="USD", period=current_period(), rate=Decimal("7.1"))
    ProposalTemplate.objects.create(**TEMPLATE)
    candidates = [("openai", m[0]) for m in MODELS]
    workloads = [
        WorkloadInput(name="商品描述生成", daily_requests=50_000, input_tokens=800, output_tokens=300,
                      cached_share=Decimal("0.3"), models=candidates),
        WorkloadInput(name="智能客服", average_qps=Decimal("2.5"), input_tokens=2400, output_tokens=400,
                      cached_share=Decimal("0.6"), models=candidates),
        WorkloadInput(name="工单摘要", daily_requests=8000, input_tokens=3000, output_tokens=250, models=candidates),
    ]  # fmt: skip
    estimate = estimate_create(
        request=EstimateInput(
            prospect="杭州云栖电商有限公司",
            scenario="商品描述、客服与工单",
            workloads=workloads,
            monthly_growth_percent=Decimal("5"),
            discount_percent=Decimal("8"),
            as_of=timezone.now(),
        )
    )
    chosen = [
        Choice(w.name, "openai", model)
        for w, model in zip(workloads, ("gpt-4o-mini", "gpt-4o", "gpt-4.1"), strict=True)
    ]
    return proposal_version_create(
        estimate=estimate, valid_until=date.today() + timedelta(days=30), chosen=chosen, notes="基准测试"
    )


def run_pdfs(renders: int) -> dict:
    from presales.documents import proposal_pdf_render
    from presales.models import ProposalVersion

    version = create_proposal()
    started = time.perf_counter()
    proposal_pdf_render(ProposalVersion.objects.get(pk=version.pk))
    warm_up = time.perf_counter() - started
    times, cpu, sizes, pages = [], [], [], []
    for _ in range(renders):
        fresh = ProposalVersion.objects.get(pk=version.pk)  # from the database, as a request does
        started, started_cpu = time.perf_counter(), time.process_time()
        data = proposal_pdf_render(fresh)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        reader = PdfReader(io.BytesIO(data))
        text = "".join(page.extract_text() for page in reader.pages)
        if version.proposal.number not in text or "大写" not in text:
            raise AssertionError("the PDF lacks its number or its 人民币大写 total")
        sizes.append(len(data))
        pages.append(len(reader.pages))
    ordered = sorted(times)
    return {
        "options": version.options.count(),
        "renders": renders,
        "warm_up_seconds": round(warm_up, 3),
        "median_seconds": round(statistics.median(times), 3),
        "p90_seconds": round(percentile(ordered, 0.9), 3),
        "max_seconds": round(ordered[-1], 3),
        "median_cpu_seconds": round(statistics.median(cpu), 3),
        "median_bytes": int(statistics.median(sizes)),
        "pages": sorted(set(pages)),
        "note": "proposal_pdf_render (what the first request renders and stores): version, options and estimate from the database, 12-month chart, "
        "WeasyPrint; warm-up is the first render in the process (not in the median)",
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench presales", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 renders")
    parser.add_argument("--renders", type=int, default=None, help="timed renders (default 30)")
    parser.add_argument("--keep-db", action="store_true", help=f"keep the {BENCH_DB} database afterwards")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.renders is None:
        args.renders = 5 if args.quick else 30
    if args.output is None:
        args.output = RESULTS / ("presales-quick.json" if args.quick else "presales.json")
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
        log(f"proposal PDF: 3 options, {args.renders} renders")
        pdf = run_pdfs(args.renders)
        met = pdf["median_seconds"] <= TARGET_MEDIAN_SECONDS
        result = {
            "benchmark": "presales",
            "timestamp": started_at.isoformat(),
            "parameters": {"renders": args.renders, "quick": args.quick},
            "machine": machine_facts(url)
            | {
                "load_average_at_start": [round(x, 2) for x in load_at_start],
                "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            },
            "pdf": pdf,
            "summary": {
                "pdf_median_seconds": pdf["median_seconds"],
                "pdf_target_seconds": TARGET_MEDIAN_SECONDS,
                "pdf_target_met": met,
            },
        }
        args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
        print(
            f"\nproposal PDF ({pdf['options']} options, {pdf['pages']} pages, {pdf['renders']} renders): "
            f"median {pdf['median_seconds']:.3f} s (CPU {pdf['median_cpu_seconds']:.3f} s), "
            f"p90 {pdf['p90_seconds']:.3f} s, warm-up {pdf['warm_up_seconds']:.3f} s; "
            f"target median ≤ {TARGET_MEDIAN_SECONDS} s: {'met' if met else 'MISSED'}"
        )
        print(f"written: {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
        return 0 if met else 1
    finally:
        if not args.keep_db:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: BLE001 - Django may not be set up yet
                pass
            drop_database(base_url, BENCH_DB)
