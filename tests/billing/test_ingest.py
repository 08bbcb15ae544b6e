"""POST /api/v1/usage-records/: envelope, authentication, per-record rejection and quarantine,
idempotency, the Asia/Shanghai month boundary, rollups, and never half-written batches."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import ProgrammingError, connection

from billing.metering import ingest as ingest_module
from billing.metering.ingest import MAX_BODY_BYTES, MAX_RECORDS
from billing.models import ClosedPeriod, QuarantinedRecord, UsageRecord, UsageRequest, UsageRollup
from tests.billing.helpers import (
    INGEST_URL,
    OMIT,
    ingest,
    price,
    record_rows,
    record_totals,
    rollup_rows,
    rollup_totals,
    usage,
)
from tests.factories import api_key_for

pytestmark = pytest.mark.django_db


def post(client, records):
    return client.post(INGEST_URL, {"records": records}, format="json")


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    return body


# --- Envelope -------------------------------------------------------------------------


def test_it_answers_400_to_malformed_json(gateway_client):
    response = gateway_client.post(INGEST_URL, data='{"records": [', content_type="application/json")

    assert_error_shape(response, 400)
    assert QuarantinedRecord.objects.count() == 0


@pytest.mark.parametrize(
    "envelope",
    [{"items": []}, {"records": {"request_id": "r1"}}, {"records": "r1"}, {"records": None}, [{"request_id": "r1"}]],
    ids=["missing", "object", "string", "null", "top-level-list"],
)
def test_it_answers_400_to_an_envelope_without_a_records_list(gateway_client, envelope):
    response = gateway_client.post(INGEST_URL, envelope, format="json")

    body = assert_error_shape(response, 400)
    assert "records" in body["errors"]


def test_it_answers_400_to_an_empty_batch(gateway_client):
    body = assert_error_shape(post(gateway_client, []), 400)

    assert "records" in body["errors"]


def test_it_answers_413_to_more_than_10000_records(gateway_client, acme_key):
    records = [usage(acme_key.key_id, f"r{i}") for i in range(MAX_RECORDS + 1)]

    assert_error_shape(post(gateway_client, records), 413)
    assert UsageRecord.objects.count() == 0
    assert QuarantinedRecord.objects.count() == 0


def test_it_takes_exactly_10000_records(gateway_client):
    response = post(gateway_client, [7] * MAX_RECORDS)

    assert response.status_code == 200, response.content
    assert len(response.json()["rejected"]) == MAX_RECORDS


def test_it_answers_413_when_the_declared_length_is_over_10_mb(gateway_client, acme_key):
    body = json.dumps({"records": [usage(acme_key.key_id, "r1")]})

    response = gateway_client.post(
        INGEST_URL, data=body, content_type="application/json", CONTENT_LENGTH=str(MAX_BODY_BYTES + 1)
    )

    assert_error_shape(response, 413)
    assert UsageRecord.objects.count() == 0


def test_it_answers_413_to_a_body_over_10_mb(gateway_client, acme_key):
    head = json.dumps({"records": [usage(acme_key.key_id, "r1")]})
    body = head[:-1] + " " * (MAX_BODY_BYTES + 1 - len(head)) + "}"
    assert len(body) == MAX_BODY_BYTES + 1

    assert_error_shape(gateway_client.post(INGEST_URL, data=body, content_type="application/json"), 413)
    assert UsageRecord.objects.count() == 0


def test_it_takes_a_body_of_exactly_10_mb(gateway_client, acme_key, gpt4o):
    head = json.dumps({"records": [usage(acme_key.key_id, "r1")]})
    body = head[:-1] + " " * (MAX_BODY_BYTES - len(head)) + "}"

    response = gateway_client.post(INGEST_URL, data=body, content_type="application/json")

    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 1


def test_it_answers_401_without_a_token(client, acme_key):
    response = client.post(INGEST_URL, {"records": [usage(acme_key.key_id, "r1")]}, content_type="application/json")

    assert_error_shape(response, 401)
    assert UsageRecord.objects.count() == 0


def test_it_answers_401_to_an_invalid_token(gateway_client, acme_key):
    gateway_client.credentials(HTTP_AUTHORIZATION="Token pc_000000000000_not-the-secret")

    assert_error_shape(post(gateway_client, [usage(acme_key.key_id, "r1")]), 401)
    assert UsageRecord.objects.count() == 0


def test_it_answers_403_to_a_finance_token(finance_client, acme_key, gpt4o):
    assert_error_shape(post(finance_client, [usage(acme_key.key_id, "r1")]), 403)
    assert UsageRecord.objects.count() == 0


def test_it_answers_403_to_portal_tokens(alice_client, bob_client, charlie_client, acme_key, gpt4o):
    for portal_client in (alice_client, bob_client, charlie_client):
        assert_error_shape(post(portal_client, [usage(acme_key.key_id, "r1")]), 403)
    assert UsageRecord.objects.count() == 0


# --- Per-record rejection -------------------------------------------------------------

BAD_RECORDS = {
    "negative-input": ({"input_tokens": -1}, "input_tokens"),
    "negative-output": ({"output_tokens": -5}, "output_tokens"),
    "negative-cached": ({"cached_input_tokens": -1}, "cached_input_tokens"),
    "float-tokens": ({"output_tokens": 1.5}, "output_tokens"),
    "string-tokens": ({"input_tokens": "10"}, "input_tokens"),
    "bool-tokens": ({"output_tokens": True}, "output_tokens"),
    "null-tokens": ({"input_tokens": None}, "input_tokens"),
    "cached-over-input": ({"input_tokens": 100, "cached_input_tokens": 101}, "cached_input_tokens"),
    "naive-time": ({"occurred_at": "2026-10-15T10:00:00"}, "occurred_at"),
    "not-a-time": ({"occurred_at": "yesterday"}, "occurred_at"),
    "numeric-time": ({"occurred_at": 1792044000}, "occurred_at"),
    "before-2020": ({"occurred_at": "2019-12-31T23:59:59Z"}, "occurred_at"),
    "unknown-key": ({"key_id": "ak_00000000000000000000"}, "key_id"),
    "request-id-129": ({"request_id": "x" * 129}, "request_id"),
    "model-101": ({"model": "m" * 101}, "model"),
    "model-not-string": ({"model": 4}, "model"),
    "missing-request-id": ({"request_id": OMIT}, "request_id"),
    "empty-request-id": ({"request_id": ""}, "request_id"),
    "missing-key-id": ({"key_id": OMIT}, "key_id"),
    "missing-model": ({"model": OMIT}, "model"),
    "missing-input": ({"input_tokens": OMIT}, "input_tokens"),
    "missing-output": ({"output_tokens": OMIT}, "output_tokens"),
    "missing-time": ({"occurred_at": OMIT}, "occurred_at"),
    "negative-cache-read": ({"cache_read_input_tokens": -3}, "cache_read_input_tokens"),
    "beyond-64-bits": ({"output_tokens": 10**30}, "output_tokens"),
}


@pytest.mark.parametrize(("fields", "field"), list(BAD_RECORDS.values()), ids=list(BAD_RECORDS))
def test_it_rejects_a_bad_record_and_keeps_the_good_ones(gateway_client, acme_key, gpt4o, fields, field):
    good = usage(acme_key.key_id, "good-1")
    bad = usage(acme_key.key_id, "bad-1", **fields)
    later = usage(acme_key.key_id, "good-2", output_tokens=7)

    response = post(gateway_client, [good, bad, later])

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["unpriced"], body["conflicts"]) == (2, 0, 0, [])
    [rejected] = body["rejected"]
    assert rejected["index"] == 1
    assert rejected["request_id"] == bad.get("request_id")
    assert field in rejected["errors"]
    assert all(isinstance(m, str) and m for m in rejected["errors"][field])
    assert sorted(UsageRecord.objects.values_list("request_id", flat=True)) == ["good-1", "good-2"]
    assert UsageRollup.objects.get().requests == 2
    quarantined = QuarantinedRecord.objects.get()
    assert quarantined.batch_index == 1
    assert quarantined.payload == bad
    assert field in quarantined.errors
    assert quarantined.request_id == (bad.get("request_id") or "")
    assert quarantined.source.username == "gateway-test-gw"
    assert not UsageRequest.objects.filter(request_id=bad.get("request_id") or "").exists()


@pytest.mark.parametrize("value", [42, "r1", ["r1"], None], ids=["int", "string", "list", "null"])
def test_it_rejects_a_record_that_is_not_an_object(gateway_client, acme_key, gpt4o, value):
    response = post(gateway_client, [usage(acme_key.key_id, "good-1"), value])

    body = response.json()
    assert body["accepted"] == 1
    [rejected] = body["rejected"]
    assert (rejected["index"], rejected["request_id"], list(rejected["errors"])) == (1, None, ["non_field_errors"])
    quarantined = QuarantinedRecord.objects.get()
    assert quarantined.payload == {"value": value}
    assert "non_field_errors" in quarantined.errors


def test_it_names_every_bad_field_of_a_record(gateway_client, acme_key):
    bad = {"request_id": "r1", "key_id": acme_key.key_id, "model": "", "input_tokens": -1, "output_tokens": "x"}

    [rejected] = post(gateway_client, [bad]).json()["rejected"]

    assert set(rejected["errors"]) == {"model", "input_tokens", "output_tokens", "occurred_at"}


def test_it_rejects_only_records_more_than_5_minutes_in_the_future(gateway_client, acme_key, gpt4o):
    now = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    at_limit = usage(acme_key.key_id, "at-limit", occurred_at="2026-11-28T10:05:00+08:00")
    just_over = usage(acme_key.key_id, "just-over", occurred_at="2026-11-28T02:05:01Z")
    tomorrow = usage(acme_key.key_id, "tomorrow", occurred_at="2026-11-29T10:00:00+08:00")

    with time_machine.travel(now, tick=False):
        body = post(gateway_client, [at_limit, just_over, tomorrow]).json()

    assert body["accepted"] == 1
    assert [(r["index"], r["request_id"], list(r["errors"])) for r in body["rejected"]] == [
        (1, "just-over", ["occurred_at"]),
        (2, "tomorrow", ["occurred_at"]),
    ]
    assert list(UsageRecord.objects.values_list("request_id", flat=True)) == ["at-limit"]
    assert QuarantinedRecord.objects.count() == 2


def test_it_reports_rejections_in_batch_order(gateway_client, acme_key, gpt4o):
    records = [
        usage(acme_key.key_id, "unknown-key", key_id="ak_nope"),  # rejected after resolution
        usage(acme_key.key_id, "negative", input_tokens=-1),  # rejected by validation
        usage(acme_key.key_id, "good"),
    ]

    body = post(gateway_client, records).json()

    assert [(r["index"], r["request_id"]) for r in body["rejected"]] == [(0, "unknown-key"), (1, "negative")]
    assert sorted(QuarantinedRecord.objects.values_list("batch_index", flat=True)) == [0, 1]


def test_it_quarantines_a_batch_of_only_bad_records(gateway_client, acme_key):
    body = post(gateway_client, [usage(acme_key.key_id, "r1", input_tokens=-1)]).json()

    assert (body["accepted"], len(body["rejected"])) == (0, 1)
    assert QuarantinedRecord.objects.count() == 1
    assert UsageRecord.objects.count() == 0
    assert UsageRollup.objects.count() == 0


# --- Idempotency ----------------------------------------------------------------------


def test_it_counts_a_retried_record_as_a_duplicate(gateway_client, acme_key, gpt4o):
    records = [usage(acme_key.key_id, "r1"), usage(acme_key.key_id, "r2", output_tokens=50)]
    first = post(gateway_client, records).json()
    rollups, stored = rollup_rows(), record_rows()

    again = post(gateway_client, list(reversed(records))).json()

    assert (first["accepted"], first["duplicates"]) == (2, 0)
    assert again == {"accepted": 0, "duplicates": 2, "unpriced": 0, "conflicts": [], "rejected": []}
    assert rollup_rows() == rollups
    assert record_rows() == stored
    assert QuarantinedRecord.objects.count() == 0


def test_it_reports_a_conflict_and_changes_nothing(gateway_client, acme_key, gpt4o):
    post(gateway_client, [usage(acme_key.key_id, "r1")])
    rollups, stored = rollup_rows(), record_rows()
    changed = usage(acme_key.key_id, "r1", output_tokens=101)

    body = post(gateway_client, [usage(acme_key.key_id, "r2"), changed]).json()

    assert body["accepted"] == 1
    assert body["duplicates"] == 0
    assert body["conflicts"] == [{"index": 1, "request_id": "r1"}]
    assert UsageRecord.objects.get(request_id="r1").output_tokens == 100
    # only r2 was added
    [r1_after] = [row for row in record_rows() if row[0] == "r1"]
    assert r1_after == stored[0]
    assert rollup_rows()[0][10:] == (2, 2000, 400, 200, Decimal("0.00650"))
    assert rollups[0][10:] == (1, 1000, 200, 100, Decimal("0.00325"))
    quarantined = QuarantinedRecord.objects.get()
    assert (quarantined.batch_index, quarantined.request_id, quarantined.payload) == (1, "r1", changed)
    assert "request_id" in quarantined.errors


def test_it_leaves_rollups_unchanged_by_a_batch_of_conflicts(gateway_client, acme_key, gpt4o):
    post(gateway_client, [usage(acme_key.key_id, "r1"), usage(acme_key.key_id, "r2")])
    before = rollup_totals()

    body = post(
        gateway_client, [usage(acme_key.key_id, "r1", input_tokens=5000), usage(acme_key.key_id, "r2", model="o3")]
    ).json()

    assert body["accepted"] == 0
    assert [c["index"] for c in body["conflicts"]] == [0, 1]
    assert rollup_totals() == before
    assert UsageRecord.objects.count() == 2


def test_it_counts_the_first_of_repeated_request_ids_within_a_batch(gateway_client, acme_key, gpt4o):
    first = usage(acme_key.key_id, "r1")
    records = [
        first,
        usage(acme_key.key_id, "r2"),
        dict(first),
        usage(acme_key.key_id, "r1", output_tokens=999),
        usage(acme_key.key_id, "r2"),
        usage(acme_key.key_id, "r2", occurred_at="2026-10-16T10:00:00+08:00"),
    ]

    body = post(gateway_client, records).json()

    assert body["accepted"] == 2
    assert body["duplicates"] == 2
    assert body["conflicts"] == [{"index": 3, "request_id": "r1"}, {"index": 5, "request_id": "r2"}]
    assert UsageRecord.objects.get(request_id="r1").output_tokens == 100
    assert UsageRecord.objects.get(request_id="r2").day == date(2026, 10, 15)
    assert sorted(QuarantinedRecord.objects.values_list("batch_index", flat=True)) == [3, 5]


def test_it_reports_conflicts_across_batches_with_their_index(gateway_client, acme_key, gpt4o):
    post(gateway_client, [usage(acme_key.key_id, "r1")])

    body = post(
        gateway_client,
        [usage(acme_key.key_id, "n1"), usage(acme_key.key_id, "r1"), usage(acme_key.key_id, "r1", model="o3")],
    ).json()

    # index 1 repeats the stored record; index 2 is a conflict within the batch against index 1
    assert (body["accepted"], body["duplicates"]) == (1, 1)
    assert body["conflicts"] == [{"index": 2, "request_id": "r1"}]


@pytest.mark.parametrize(
    "same_instant", ["2026-10-15T02:00:00Z", "2026-10-15T02:00:00+00:00", "2026-10-15T03:00:00+01:00"]
)
def test_it_treats_the_same_instant_in_another_offset_as_the_same_content(
    gateway_client, acme_key, gpt4o, same_instant
):
    post(gateway_client, [usage(acme_key.key_id, "r1", occurred_at="2026-10-15T10:00:00+08:00")])

    body = post(gateway_client, [usage(acme_key.key_id, "r1", occurred_at=same_instant)]).json()

    assert (body["accepted"], body["duplicates"], body["conflicts"]) == (0, 1, [])


def test_it_treats_another_instant_as_a_conflict(gateway_client, acme_key, gpt4o):
    post(gateway_client, [usage(acme_key.key_id, "r1", occurred_at="2026-10-15T10:00:00+08:00")])

    body = post(gateway_client, [usage(acme_key.key_id, "r1", occurred_at="2026-10-15T10:00:00Z")]).json()

    assert body["conflicts"] == [{"index": 0, "request_id": "r1"}]


def test_it_keeps_request_ids_unique_across_customers(gateway_client, acme_key, other_key, gpt4o):
    post(gateway_client, [usage(acme_key.key_id, "shared-id")])

    body = post(gateway_client, [usage(other_key.key_id, "shared-id")]).json()

    assert body["conflicts"] == [{"index": 0, "request_id": "shared-id"}]
    assert list(UsageRecord.objects.values_list("customer_id", flat=True)) == [acme_key.customer_id]


# --- Periods and rollups ----------------------------------------------------------------


def test_it_puts_records_on_either_side_of_the_shanghai_month_end_in_their_periods(gateway_client, acme_key, gpt4o):
    october = usage(acme_key.key_id, "oct", occurred_at="2026-10-31T23:59:59+08:00")
    november = usage(acme_key.key_id, "nov", occurred_at="2026-10-31T16:00:00Z")

    post(gateway_client, [october, november])

    stored = {r.request_id: r for r in UsageRecord.objects.all()}
    assert (stored["oct"].period, stored["oct"].day) == (date(2026, 10, 1), date(2026, 10, 31))
    assert (stored["nov"].period, stored["nov"].day) == (date(2026, 11, 1), date(2026, 11, 1))
    assert stored["nov"].occurred_at == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    rollups = sorted(UsageRollup.objects.values_list("period", "day", "bill_period", "requests"))
    assert rollups == [
        (date(2026, 10, 1), date(2026, 10, 31), date(2026, 10, 1), 1),
        (date(2026, 11, 1), date(2026, 11, 1), date(2026, 11, 1), 1),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT request_id, tableoid::regclass::text FROM billing_usagerecord ORDER BY request_id")
        assert cursor.fetchall() == [("nov", "billing_usagerecord_p202611"), ("oct", "billing_usagerecord_p202610")]


def test_it_rolls_up_by_key_model_and_business_day(gateway_client, acme_project, acme_key, gpt4o):
    second_key, _secret = api_key_for(acme_project, name="staging")
    price(model="o3", input="2", cached="0.5", output="8")
    records = [
        usage(acme_key.key_id, "a1", occurred_at="2026-10-15T00:10:00+08:00"),
        usage(acme_key.key_id, "a2", occurred_at="2026-10-15T23:50:00+08:00"),
        usage(acme_key.key_id, "a3", occurred_at="2026-10-15T16:00:00Z"),  # 2026-10-16 in Shanghai
        usage(acme_key.key_id, "a4", model="o3", occurred_at="2026-10-15T12:00:00+08:00"),
        usage(second_key.key_id, "b1", occurred_at="2026-10-15T12:00:00+08:00"),
    ]

    post(gateway_client, records)

    rows = sorted(
        (r.api_key.name, r.model, r.day.isoformat(), r.requests, r.input_tokens, r.cost)
        for r in UsageRollup.objects.select_related("api_key")
    )
    assert rows == [
        ("production", "gpt-4o", "2026-10-15", 2, 2000, Decimal("0.0065")),
        ("production", "gpt-4o", "2026-10-16", 1, 1000, Decimal("0.00325")),
        # (800 × 2 + 200 × 0.5 + 100 × 8) / 1e6
        ("production", "o3", "2026-10-15", 1, 1000, Decimal("0.0025")),
        ("staging", "gpt-4o", "2026-10-15", 1, 1000, Decimal("0.00325")),
    ]


def test_it_keeps_rollups_equal_to_the_sums_of_the_records(gateway_client, acme_key, other_key, gpt4o):
    price(provider="anthropic", model="claude-x", input="3", cached="0.3", output="15")
    batches = [
        [
            usage(acme_key.key_id, "a1"),
            usage(acme_key.key_id, "a2", model="mystery", occurred_at="2026-10-31T23:59:59+08:00"),
            usage(other_key.key_id, "o1", model="claude-x", occurred_at="2026-10-31T16:00:00Z"),
            usage(acme_key.key_id, "bad", input_tokens=-1),
        ],
        [
            usage(acme_key.key_id, "a1"),  # duplicate
            usage(acme_key.key_id, "a2", model="gpt-4o"),  # conflict
            usage(acme_key.key_id, "a3", input_tokens=123457, cached_input_tokens=3, output_tokens=77),
            usage(
                other_key.key_id,
                "o2",
                model="claude-x",
                cache_read_input_tokens=10,
                input_tokens=5,
                cached_input_tokens=OMIT,
            ),
        ],
        [usage(other_key.key_id, f"o{i}", output_tokens=i) for i in range(3, 40)],
    ]

    results = [post(gateway_client, batch).json() for batch in batches]

    assert [r["accepted"] for r in results] == [3, 2, 37]
    assert record_totals() == rollup_totals()
    assert UsageRecord.objects.count() == 42
    assert sum(r.requests for r in UsageRollup.objects.all()) == 42
    acme_october = rollup_totals()[(acme_key.customer_id, date(2026, 10, 1))]
    # a1: 0.00325; a2: unpriced; a3: (123454 × 2.5 + 3 × 1.25 + 77 × 10) / 1e6 = 0.30940875
    assert acme_october == (3, 125457, 403, 277, Decimal("0.31265875"))


def test_it_carries_late_usage_of_a_closed_period_to_the_next_bill(gateway_client, acme, acme_key, gpt4o):
    ClosedPeriod.objects.create(customer=acme, period=date(2026, 10, 1))

    post(gateway_client, [usage(acme_key.key_id, "late", occurred_at="2026-10-20T10:00:00+08:00")])

    record = UsageRecord.objects.get()
    assert (record.period, record.bill_period) == (date(2026, 10, 1), date(2026, 11, 1))
    assert UsageRollup.objects.get().bill_period == date(2026, 11, 1)


# --- Never half-written -----------------------------------------------------------------


def _nothing_written() -> None:
    assert UsageRequest.objects.count() == 0
    assert UsageRecord.objects.count() == 0
    assert UsageRollup.objects.count() == 0
    assert QuarantinedRecord.objects.count() == 0


def _batch(key):
    return [
        usage(key.key_id, "r1"),
        usage(key.key_id, "r2", model="mystery"),
        usage(key.key_id, "r3", input_tokens=-1),
    ]


@pytest.mark.django_db(transaction=True)
def test_it_writes_nothing_when_the_rollup_upsert_fails(clean_usage, acme_key, gpt4o, monkeypatch):
    monkeypatch.setattr(ingest_module, "ROLLUP_SQL", "INSERT INTO billing_usagerollup_nope SELECT 1")

    with pytest.raises(ProgrammingError):
        ingest(_batch(acme_key))

    _nothing_written()


@pytest.mark.django_db(transaction=True)
def test_it_writes_nothing_when_the_quarantine_fails(clean_usage, acme_key, gpt4o, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(QuarantinedRecord.objects, "bulk_create", fail)

    with pytest.raises(RuntimeError):
        ingest(_batch(acme_key))

    _nothing_written()


@pytest.mark.django_db(transaction=True)
def test_it_takes_the_whole_batch_when_it_is_retried_after_a_failure(clean_usage, acme_key, gpt4o, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(ingest_module, "ROLLUP_SQL", "SELECT no_such_function()")
        with pytest.raises(ProgrammingError):
            ingest(_batch(acme_key))

    result = ingest(_batch(acme_key))

    assert (result.accepted, result.duplicates, result.unpriced, len(result.rejected)) == (2, 0, 1, 1)
    assert record_totals() == rollup_totals()
    assert QuarantinedRecord.objects.count() == 1


def test_it_gives_the_answer_the_contract_shows(gateway_client, acme_key, gpt4o):
    response = gateway_client.post(
        INGEST_URL,
        {"records": [usage(acme_key.key_id, "r1"), usage(acme_key.key_id, "r2", model="gpt-unknown")]},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "unpriced": 1, "conflicts": [], "rejected": []}


def test_it_lets_a_valid_record_count_after_a_rejected_one_with_the_same_request_id(acme_key, gpt4o):
    from billing.metering.ingest import usage_ingest_batch
    from billing.models import UsageRecord

    result = usage_ingest_batch(
        records=[usage("ak_unknown_key", "same-id"), usage(acme_key.key_id, "same-id")],
    )

    assert result.accepted == 1
    assert result.duplicates == 0 and result.conflicts == []
    assert [r["index"] for r in result.rejected] == [0]
    assert UsageRecord.objects.get().request_id == "same-id"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_non_finite_number_is_rejected_alone(gateway_client, acme_key, gpt4o, literal):
    good = json.dumps(usage(acme_key.key_id, "good-1"))
    bad = json.dumps(usage(acme_key.key_id, "bad-1", output_tokens=123456789)).replace("123456789", literal)

    response = gateway_client.post(INGEST_URL, data=f'{{"records": [{good}, {bad}]}}', content_type="application/json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 1
    [rejected] = body["rejected"]
    assert "output_tokens" in rejected["errors"]
    assert QuarantinedRecord.objects.get().request_id == "bad-1"


def test_a_non_finite_request_id_is_rejected_and_reported_readably(gateway_client, acme_key, gpt4o):
    bad = json.dumps(usage(acme_key.key_id, "bad-1")).replace('"bad-1"', "NaN")

    response = gateway_client.post(INGEST_URL, data=f'{{"records": [{bad}]}}', content_type="application/json")

    assert response.status_code == 200, response.content
    [rejected] = response.json()["rejected"]
    assert "request_id" in rejected["errors"]


def test_a_request_id_whose_ledger_key_is_taken_by_another_id_is_a_conflict_not_lost(gateway_client, acme_key, gpt4o):
    # An MD5 collision cannot be produced here; a ledger row under r-new's key with another
    # id stands in for one.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_usagerequest (key, request_id, content_hash, received_at) "
            "VALUES (md5('r-new')::uuid, 'someone-else', '\\x00', now())"
        )
    record = usage(acme_key.key_id, "r-new")

    body = post(gateway_client, [usage(acme_key.key_id, "r-ok"), record]).json()

    assert (body["accepted"], body["duplicates"]) == (1, 0)
    assert body["conflicts"] == [{"index": 1, "request_id": "r-new"}]
    assert QuarantinedRecord.objects.get().request_id == "r-new"
    assert not UsageRecord.objects.filter(request_id="r-new").exists()
