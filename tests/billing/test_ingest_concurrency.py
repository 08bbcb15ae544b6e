"""Concurrent batches with overlapping request_ids, on real PostgreSQL connections: every
record is counted exactly once and the totals equal one clean submission."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection

from billing.metering.ingest import BatchResult
from billing.models import QuarantinedRecord, UsageRecord
from tests.billing.helpers import ingest, price, record_totals, rollup_rows, rollup_totals, usage, usage_tables_clear

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 4


def run_together(batches: list[list[dict]]) -> list[BatchResult]:
    """Ingest each batch in its own thread (its own connection), all starting at once."""
    barrier = threading.Barrier(len(batches))
    results: list[BatchResult | None] = [None] * len(batches)
    errors: list[BaseException] = []

    def work(position: int, batch: list[dict]) -> None:
        try:
            barrier.wait(timeout=30)
            results[position] = ingest(batch)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, batch)) for i, batch in enumerate(batches)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return results  # type: ignore[return-value]


@pytest.fixture
def corpus(clean_usage, acme_key, other_key):
    """240 distinct records over two customers, two models (one unpriced) and the October/November
    boundary in Shanghai."""
    price(model="gpt-4o")
    times = ["2026-10-05T10:00:00+08:00", "2026-10-31T23:59:59+08:00", "2026-10-31T16:00:00Z", "2026-11-02T08:00:00Z"]
    records = []
    for i in range(240):
        key = acme_key if i % 3 else other_key
        records.append(
            usage(
                key.key_id,
                f"req-{i:04d}",
                model="gpt-4o" if i % 5 else "mystery-1",
                input_tokens=1000 + i,
                cached_input_tokens=i % 200,
                output_tokens=7 * i,
                occurred_at=times[i % len(times)],
            )
        )
    return records


def clean_submission(records: list[dict]) -> list[tuple]:
    """The rollups after submitting ``records`` once, alone, into empty tables."""
    usage_tables_clear()
    result = ingest(records)
    assert result.accepted == len(records)
    return rollup_rows()


def test_it_counts_each_record_once_under_overlapping_concurrent_batches(corpus):
    rng = random.Random(3)
    # each thread sends an overlapping window of 120 records (plus retries within it), shuffled
    batches = []
    for t in range(THREADS):
        window = corpus[t * 30 : t * 30 + 120]
        batch = window + rng.sample(window, 15)
        rng.shuffle(batch)
        batches.append(batch)
    sent_ids = {r["request_id"] for batch in batches for r in batch}

    results = run_together(batches)

    assert sum(r.accepted for r in results) == len(sent_ids) == 210
    assert sum(r.accepted + r.duplicates for r in results) == sum(len(b) for b in batches)
    assert all(r.conflicts == [] and r.rejected == [] for r in results)
    assert UsageRecord.objects.count() == len(sent_ids)
    assert UsageRecord.objects.values("request_id").distinct().count() == len(sent_ids)
    assert record_totals() == rollup_totals()
    concurrent = rollup_rows()

    assert concurrent == clean_submission([r for r in corpus if r["request_id"] in sent_ids])


def test_it_counts_each_record_once_when_every_thread_sends_everything(corpus):
    rng = random.Random(11)
    batches = []
    for _ in range(THREADS):
        batch = list(corpus)
        rng.shuffle(batch)
        batches.append(batch)

    results = run_together(batches)

    assert sum(r.accepted for r in results) == len(corpus)
    assert sum(r.duplicates for r in results) == (THREADS - 1) * len(corpus)
    assert UsageRecord.objects.count() == len(corpus)
    assert record_totals() == rollup_totals()
    concurrent = rollup_rows()

    assert concurrent == clean_submission(corpus)


def test_it_keeps_exactly_one_version_of_a_conflicting_record(corpus):
    # every thread sends the same 60 request_ids, each thread with its own output_tokens
    batches = [[dict(r, output_tokens=t) for r in corpus[:60]] for t in range(THREADS)]

    results = run_together(batches)

    assert sum(r.accepted for r in results) == 60
    assert sum(r.accepted + len(r.conflicts) for r in results) == THREADS * 60
    assert all(r.duplicates == 0 for r in results)
    assert UsageRecord.objects.count() == 60
    # each request_id kept one thread's content; the others' went to quarantine
    assert QuarantinedRecord.objects.count() == (THREADS - 1) * 60
    assert set(QuarantinedRecord.objects.values_list("request_id", flat=True)) == {r["request_id"] for r in corpus[:60]}
    assert record_totals() == rollup_totals()


def test_it_counts_each_record_once_over_repeated_rounds(corpus):
    """Many small overlapping batches, several rounds: more interleavings."""
    rng = random.Random(5)
    for _round in range(3):
        batches = [rng.sample(corpus, 40) for _ in range(THREADS * 2)]
        run_together(batches)
    stored = set(UsageRecord.objects.values_list("request_id", flat=True))

    assert record_totals() == rollup_totals()
    assert UsageRecord.objects.count() == len(stored)
    concurrent = rollup_rows()
    assert concurrent == clean_submission([r for r in corpus if r["request_id"] in stored])
