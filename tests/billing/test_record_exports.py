"""The records behind a bill line or a usage-summary row, as streamed CSV (issue 20 item 7):
the file holds exactly the figure's records, and money rules 2′ and 5 (docs/money-rules.md) over its rows give the
figure back; same readers as the figure; bad parameters name the field.

alice = ACME portal admin, bob = ACME developer, charlie = admin of another customer.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse

from billing.models import UsageRecord
from billing.pricing.cost import COUNT_FIELDS, line_amount
from billing.pricing.services import price_version_set
from tests.billing.close_helpers import (
    NOV,
    SHANGHAI,
    close,
    ingest,
    key_for,
    only,
    price,
    rate,
    record,
    set_terms,
    shanghai,
    travel,
)

pytestmark = pytest.mark.django_db

DISCOUNT = Decimal("8")
RATE = Decimal("7.1456")
COLUMNS = [
    "request_id",
    "occurred_at",
    "key_id",
    "project",
    "provider",
    "model",
    "variant",
    "processing",
    "service_tier",
    *COUNT_FIELDS,
    "price_version",
    "currency",
    "cost",
]


def sonnet_price():
    """claude-sonnet-4-5 as Anthropic lists it: cache writes (5 m at 1.25×, 1 h at 2×), the
    200k long-context tier, Batch at half price."""
    version, _created = price_version_set(
        provider="anthropic",
        model="claude-sonnet-4-5",
        effective_from=datetime(2026, 1, 1, tzinfo=SHANGHAI),
        currency="USD",
        prices={
            "input_mtok": {"base": "3", "tiers": [{"start": 200000, "price": "6"}]},
            "output_mtok": {"base": "15", "tiers": [{"start": 200000, "price": "22.5"}]},
            "cache_read_mtok": "0.3",
            "cache_write_mtok": "3.75",
            "cache_write_1h_mtok": "6",
            "web_searches_kcount": "10",
        },
        variants=[{"when": {"processing": "batch"}, "prices": {"input_mtok": "1.5", "output_mtok": "7.5"}}],
    )
    return version


def agent_call(key, n: int, **extra):
    data = record(
        key,
        model="claude-sonnet-4-5",
        provider="anthropic",
        input=12_000 + 37 * n,
        cached=4_000,
        output=800 + n,
        at=shanghai(2026, 11, 1 + n % 28, n % 24, n % 60),
    )
    data.update(extra)
    return data


@pytest.fixture
def world(acme, other_customer):
    return november_world(acme, other_customer)


def november_world(acme, other_customer):
    """ACME in November: an agent on claude-sonnet-4-5 (cache writes of both lengths, one
    long-context call, Batch calls, web searches) and gpt-4o chat, in two projects; usage of
    December and another customer's that no November figure may carry. Closed on 1 December."""
    set_terms(acme, discount_percent=DISCOUNT)
    price()
    sonnet_price()
    rate(NOV, str(RATE))
    agent, search = key_for(acme, "ops"), key_for(acme, "search")
    calls = [agent_call(agent, n, cache_write_tokens=2_000, cache_write_1h_tokens=500 * (n % 3)) for n in range(30)]
    calls += [agent_call(agent, 100 + n, processing="batch") for n in range(5)]
    calls += [agent_call(agent, 200, input_tokens=250_000, cached_input_tokens=150_000)]  # long context
    calls += [agent_call(search, 300 + n, web_searches=2) for n in range(4)]
    calls += [record(search, input=5_000 + n, output=300, at=shanghai(2026, 11, 3 + n, 9)) for n in range(6)]
    calls += [agent_call(agent, 400, occurred_at=shanghai(2026, 12, 2, 9).isoformat())]
    calls += [record(key_for(other_customer, "main"), model="claude-sonnet-4-5", provider="anthropic")]
    ingest(*calls, now=shanghai(2026, 12, 5))
    with travel(2026, 12, 1):
        bill = only(close(acme))
    return bill


def rows_of(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == COLUMNS
    return list(reader)


def recomputed(rows: list[dict]) -> tuple[Decimal, Decimal]:
    """(Σ cost in USD, money rule 5 over it): what a customer does with the file."""
    assert {row["currency"] for row in rows} == {"USD"}
    total = sum((Decimal(row["cost"]) for row in rows), Decimal(0))
    return total, line_amount({"USD": total}, discount_percent=DISCOUNT, rates={"USD": RATE})


def line_url(bill, line) -> str:
    return f"/api/v1/bills/{bill.number}/lines/{line.position}/records/"


# --- A bill line ------------------------------------------------------------------------------


def test_it_gives_each_usage_line_of_a_bill_its_records_and_the_line_back(world, alice_client):
    lines = [line for line in world.lines.order_by("position") if line.kind == "usage"]
    assert len(lines) >= 3  # ops × claude, search × claude, search × gpt-4o (× variant, once merged)
    seen: set[str] = set()
    for line in lines:
        response = alice_client.get(line_url(world, line))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = rows_of(response)

        expected = UsageRecord.objects.filter(
            customer_id=world.customer_id, project_id=line.project_id, model=line.model, period=NOV
        )
        if hasattr(line, "variant"):
            expected = [r for r in expected if (r.variant or "standard") == line.variant]
        assert sorted(row["request_id"] for row in rows) == sorted(r.request_id for r in expected)
        assert len(rows) == line.requests
        assert sum(int(row["input_tokens"]) for row in rows) == line.input_tokens
        assert sum(int(row["cache_read_tokens"]) for row in rows) == line.cached_input_tokens
        total, amount = recomputed(rows)
        assert total == Decimal(line.costs["USD"])  # unrounded, as stored
        assert amount == line.amount.amount
        seen |= {row["request_id"] for row in rows}
    # every November record of ACME is on exactly one line; December's and the other customer's on none
    november = UsageRecord.objects.filter(customer_id=world.customer_id, period=NOV)
    assert seen == set(november.values_list("request_id", flat=True))


def test_a_row_shows_every_count_the_variant_and_the_time_in_the_billing_zone(world, finance_client):
    line = world.lines.get(kind="usage", model="claude-sonnet-4-5", project__code="ops", **variant_standard(world))
    rows = {row["request_id"]: row for row in rows_of(finance_client.get(line_url(world, line)))}
    stored = UsageRecord.objects.get(request_id=next(iter(rows)))
    row = rows[stored.request_id]

    assert row["occurred_at"] == stored.occurred_at.astimezone(SHANGHAI).isoformat()
    assert row["occurred_at"].endswith("+08:00")
    assert (row["key_id"], row["project"], row["provider"]) == (stored.api_key.key_id, "ops", "anthropic")
    assert Decimal(row["cost"]) == stored.cost and row["cost"] == f"{stored.cost:f}"
    assert row["price_version"] == str(stored.price_version_id)
    written = [r for r in rows.values() if r["cache_write_1h_tokens"] == "1000"]
    assert written and all(r["cache_write_tokens"] == "2000" for r in written)
    long_context = [r for r in rows.values() if r["input_tokens"] == "250000"]
    assert len(long_context) == 1
    # (250,000 − 150,000) × 6 + 150,000 × 0.3 + 1,000 × 22.5, per million: the 200k tier
    assert Decimal(long_context[0]["cost"]) == Decimal("0.6675")


def variant_standard(bill) -> dict:
    return {"variant": "standard"} if hasattr(bill.lines.model, "variant") else {}


def test_batch_calls_carry_their_variant(world, finance_client):
    claude = world.lines.filter(kind="usage", model="claude-sonnet-4-5", project__code="ops")
    rows = [row for line in claude for row in rows_of(finance_client.get(line_url(world, line)))]
    batch = [row for row in rows if row["processing"] == "batch"]
    assert len(batch) == 5
    assert {(row["variant"], row["service_tier"]) for row in batch} == {("batch", "default")}
    assert {row["variant"] for row in rows if row["processing"] == "standard"} == {"standard"}


def test_a_line_without_usage_has_the_header_alone(world, finance_client):
    top_up = world.lines.create(kind="minimum_commitment", period=NOV, position=99, amount=1)

    assert rows_of(finance_client.get(line_url(world, top_up))) == []


def test_it_answers_404_for_another_customers_line_and_an_unknown_position(world, charlie_client, finance_client):
    line = world.lines.get(kind="usage", model="gpt-4o")

    assert charlie_client.get(line_url(world, line)).status_code == 404
    assert finance_client.get(f"/api/v1/bills/{world.number}/lines/999/records/").status_code == 404
    assert finance_client.get("/api/v1/bills/BILL-NOPE-202611/lines/0/records/").status_code == 404


def test_a_developer_may_not_read_a_bills_records(world, bob_client, gateway_client):
    line = world.lines.get(kind="usage", model="gpt-4o")

    assert bob_client.get(line_url(world, line)).status_code == 403
    assert gateway_client.get(line_url(world, line)).status_code == 403


def test_the_bill_answer_gives_each_line_its_position(world, finance_client):
    lines = finance_client.get(f"/api/v1/bills/{world.number}/").json()["lines"]

    assert [line["position"] for line in lines] == list(range(len(lines)))


# --- A usage-summary row ------------------------------------------------------------------------


@pytest.mark.parametrize("group_by", ["model", "project", "api_key", "day"])
def test_each_summary_row_has_its_records_and_its_cost_back(world, bob_client, group_by):
    summary = bob_client.get(f"/api/v1/usage-summary/?customer=ACME&period=2026-11&group_by={group_by}").json()
    assert summary["rows"]
    requests = 0
    for row in summary["rows"]:
        provider = f"&provider={row['provider']}" if "provider" in row else ""
        response = bob_client.get(
            f"/api/v1/usage-records/?customer=ACME&period=2026-11&group_by={group_by}&key={row['key']}{provider}"
        )
        assert response.status_code == 200
        rows = rows_of(response)
        assert len(rows) == row["requests"]
        assert sum(int(r["output_tokens"]) for r in rows) == row["output_tokens"]
        assert f"{recomputed(rows)[1]:.2f}" == row["cost"]
        requests += len(rows)
    whole = rows_of(bob_client.get(f"/api/v1/usage-records/?period=2026-11&group_by={group_by}"))
    assert len(whole) == requests == UsageRecord.objects.filter(customer_id=world.customer_id, period=NOV).count()


def test_a_project_narrows_the_rows_as_the_summary_does(world, alice_client):
    rows = rows_of(alice_client.get("/api/v1/usage-records/?period=2026-11&group_by=model&key=gpt-4o&project=search"))
    assert len(rows) == 6 and {row["project"] for row in rows} == {"search"}
    assert rows_of(alice_client.get("/api/v1/usage-records/?period=2026-11&key=gpt-4o&project=ops")) == []


def test_it_answers_404_for_another_customers_usage(world, charlie_client):
    assert charlie_client.get("/api/v1/usage-records/?customer=ACME&period=2026-11").status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ("period=2026-13", "period"),
        ("period=1999-12", "period"),
        ("group_by=customer", "group_by"),
        ("group_by=day&key=2026-12-01", "key"),
        ("group_by=day&key=yesterday", "key"),
        ("group_by=api_key&key=ak_nope", "key"),
        ("group_by=project&key=nope", "key"),
        ("project=nope", "project"),
        ("key=" + "x" * 201, "key"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(world, alice_client, params, field):
    response = alice_client.get(f"/api/v1/usage-records/?period=2026-11&{params}")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_the_gateway_still_posts_and_may_not_read(world, gateway_client, acme):
    assert gateway_client.get("/api/v1/usage-records/?customer=ACME&period=2026-11").status_code == 403
    posted = gateway_client.post("/api/v1/usage-records/", {"records": [record(key_for(acme, "ops"))]}, format="json")
    assert posted.status_code == 200 and posted.json()["accepted"] == 1


def test_a_text_cell_a_spreadsheet_would_run_is_neutralised(world, alice_client, acme):
    ingest(record(key_for(acme, "ops"), request_id="=HYPERLINK(1)", at=shanghai(2026, 12, 3, 9)))

    rows = rows_of(alice_client.get("/api/v1/usage-records/?period=2026-12&key=gpt-4o"))
    assert [row["request_id"] for row in rows] == ["'=HYPERLINK(1)"]


# --- A million calls: streamed, read from one partition through the index ---------------------

BULK_SQL = """
INSERT INTO billing_usagerecord (request_id, customer_id, project_id, api_key_id, provider, model,
    input_tokens, cached_input_tokens, output_tokens, occurred_at, day, period, bill_period,
    price_version_id, currency, cost, received_at)
SELECT %(tag)s || g, %(customer)s, %(project)s, %(key)s, 'openai', 'gpt-4o', 1000 + g %% 500, 0, 100, at,
    (at AT TIME ZONE 'Asia/Shanghai')::date, '2026-11-01', '2026-11-01', %(version)s, 'USD',
    ((1000 + g %% 500) * 2.5 + 100 * 10) / 1000000.0, now()
FROM generate_series(1, %(n)s) AS g, LATERAL (SELECT %(start)s::timestamptz + g * interval '7 seconds' AS at) AS t
"""


def bulk_records(key, version, n: int, tag: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            BULK_SQL,
            {
                "tag": tag,
                "customer": key.customer_id,
                "project": key.project_id,
                "key": key.pk,
                "version": version.pk,
                "n": n,
                "start": shanghai(2026, 11, 1, 0, 1),
            },
        )


def resident_bytes() -> int:
    """This process's resident memory now (Linux)."""
    import os

    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_200k_records_stream_in_bounded_memory(acme, finance_client):
    """The file is never built whole: while 200,000 rows (over 30 MB of CSV; far more as Python
    objects) are read, the process grows by a fraction of the file. (Measured with tracemalloc
    instead: a peak of 3.1 MB of Python allocations for the 32 MB file — ten times slower to
    run, so the test reads the resident size.)"""
    version = price()
    bulk_records(key_for(acme, "ops"), version, 200_000, "bulk-")
    response = finance_client.get("/api/v1/usage-records/?customer=ACME&period=2026-11&key=gpt-4o")
    assert isinstance(response, StreamingHttpResponse)

    before = resident_bytes()
    size = lines = growth = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
        growth = max(growth, resident_bytes() - before)

    assert lines == 200_001  # the header and every record
    assert size > 30_000_000
    assert growth < 12_000_000, f"grew {growth / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"


def test_the_read_uses_one_partition_and_the_index_in_time_order(acme, other_customer):
    """EXPLAIN of a summary row's read among other customers' usage: only November's partition,
    the (customer_id, occurred_at) index, no sort."""
    from django.db import connection

    from billing.metering.record_exports import summary_row_records

    version = price()
    bulk_records(key_for(other_customer, "main"), version, 50_000, "other-")
    bulk_records(key_for(acme, "ops"), version, 500, "acme-")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE billing_usagerecord")
    records = summary_row_records(customer=acme, period=NOV, group_by="model", key="gpt-4o")

    plan = records.order_by("occurred_at", "id").explain()
    assert "billing_usagerecord_p202611" in plan
    assert "billing_usagerecord_p202610" not in plan and "billing_usagerecord_p202612" not in plan
    assert "customer_id_occurred_at_idx" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert records.count() == 500


def test_late_usage_is_on_the_next_bills_adjustment_line_not_in_the_closed_months_rows(world, acme, finance_client):
    """A November call that arrives after November's close is billed in December as an
    adjustment (rule 6): its record is that line's, and the November summary row's file, as the
    November bill, leaves it out (CONTRACT "One figure")."""
    from tests.billing.close_helpers import DEC

    late = record(key_for(acme, "search"), request_id="late-1", at=shanghai(2026, 11, 20, 9))
    ingest(late, now=shanghai(2026, 12, 10))
    rate(DEC, "7.1325")
    with travel(2027, 1, 1):
        december = only(close(acme, DEC))

    november_rows = rows_of(finance_client.get("/api/v1/usage-records/?customer=ACME&period=2026-11&key=gpt-4o"))
    assert len(november_rows) == 6 and "late-1" not in {row["request_id"] for row in november_rows}
    adjustment = december.lines.get(kind="adjustment")
    rows = rows_of(
        finance_client.get(f"/api/v1/bills/{december.number or december.pk}/lines/{adjustment.position}/records/")
    )
    assert [row["request_id"] for row in rows] == ["late-1"]
    assert recomputed(rows)[1] == adjustment.amount.amount
