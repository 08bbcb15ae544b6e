"""Usage records with every count and context of CONTRACT.md "Price dimensions" (issue 20):
validation by field, provider responses read with genai-prices, the digest of today's
records unchanged, rule 2′ prices at ingestion and in repricing, rollups per variant."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from billing.metering.reprice import usage_reprice
from billing.metering.rollups import UNIT_FIELDS
from billing.models import PriceVersion, QuarantinedRecord, UsageRequest, UsageRollup
from billing.pricing.cost import COUNT_FIELDS
from billing.pricing.pricemaps import price_maps_clean
from tests.billing.helpers import INGEST_URL, OMIT, ingest, shanghai, usage

pytestmark = pytest.mark.django_db

NOW = shanghai(2026, 10, 20, 12)


def post(client, records):
    with time_machine.travel(NOW, tick=False):
        response = client.post(INGEST_URL, {"records": records}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def version(provider: str, model: str, prices: dict, variants=(), currency: str = "USD") -> PriceVersion:
    clean, clean_variants, windows = price_maps_clean(prices, list(variants), [])
    return PriceVersion.objects.create(
        provider=provider,
        model=model,
        currency=currency,
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        prices=clean,
        variants=clean_variants,
        windows=windows,
    )


@pytest.fixture
def gpt5(db) -> PriceVersion:
    return version(
        "openai",
        "gpt-5",
        {"input_mtok": "1.25", "cache_read_mtok": "0.125", "output_mtok": "10", "web_searches_kcount": "10"},
        [
            {
                "when": {"service_tier": "flex"},
                "prices": {"input_mtok": "0.625", "cache_read_mtok": "0.0625", "output_mtok": "5"},
            },
            {
                "when": {"processing": "batch"},
                "prices": {"input_mtok": "0.625", "cache_read_mtok": "0.0625", "output_mtok": "5"},
            },
        ],
    )


@pytest.fixture
def sonnet(db) -> PriceVersion:
    return version(
        "anthropic",
        "claude-sonnet-4-5",
        {
            "input_mtok": "3",
            "cache_read_mtok": "0.3",
            "cache_write_mtok": "3.75",
            "cache_write_1h_mtok": "6",
            "output_mtok": "15",
            "web_searches_kcount": "10",
        },
    )


@pytest.fixture
def gemini(db) -> PriceVersion:
    return version(
        "google",
        "gemini-2.5-pro",
        {
            "input_mtok": {"base": "1.25", "tiers": [{"start": 200000, "price": "2.5"}]},
            "cache_read_mtok": {"base": "0.31", "tiers": [{"start": 200000, "price": "0.625"}]},
            "output_mtok": {"base": "10", "tiers": [{"start": 200000, "price": "15"}]},
        },
    )


def record(key, request_id, **fields):
    return usage(key.key_id, request_id, model="gpt-5", provider="openai", **fields)


def stored(request_id):
    from billing.models import UsageRecord

    return UsageRecord.objects.get(request_id=request_id)


# --- Every count and context, stored and priced ------------------------------------------


def test_every_count_and_context_is_stored_and_priced_by_rule_2_prime(gateway_client, acme_key, gpt5):
    counts = {
        "input_tokens": 10_000,
        "cached_input_tokens": OMIT,
        "cache_read_tokens": 4_000,
        "cache_write_tokens": 1_000,
        "cache_write_5m_tokens": 600,
        "cache_write_1h_tokens": 300,
        "input_audio_tokens": 500,
        "cache_audio_read_tokens": 0,
        "output_audio_tokens": 0,
        "input_image_tokens": 200,
        "output_image_tokens": 0,
        "output_tokens": 2_000,
        "output_reasoning_tokens": 1_500,
        "web_searches": 3,
    }
    body = post(gateway_client, [record(acme_key, "all-1", processing="batch", **counts)])

    assert (body["accepted"], body["unpriced"], body["rejected"]) == (1, 0, [])
    row = stored("all-1")
    assert (row.input_tokens, row.cached_input_tokens, row.output_tokens) == (10_000, 4_000, 2_000)
    assert (row.cache_write_tokens, row.cache_write_5m_tokens, row.cache_write_1h_tokens) == (1_000, 600, 300)
    assert (row.input_audio_tokens, row.input_image_tokens, row.output_reasoning_tokens) == (500, 200, 1_500)
    assert (row.web_searches, row.processing, row.service_tier, row.variant) == (3, "batch", None, "batch")
    assert row.output_audio_tokens is None  # 0 is stored as NULL
    # Batch prices; no cache-write, audio or image key: those leaves fall back to input_mtok
    # (input and its parts but the reads 6,000 × 0.625 + 4,000 × 0.0625 + 2,000 × 5) / 10^6
    # + 3 searches × 10 / 1,000 (the batch variant names no search price)
    assert row.cost == Decimal("0.014") + Decimal("0.03")


def test_the_unit_fields_are_the_counts_of_rule_2_prime():
    assert set(COUNT_FIELDS) == {"input_tokens", "output_tokens", "cache_read_tokens", *UNIT_FIELDS}


def test_rollups_sum_each_unit_per_variant(gateway_client, acme_key, gpt5):
    records = [
        record(acme_key, "v1", cache_write_tokens=100, web_searches=1),
        record(acme_key, "v2", cache_write_tokens=50, service_tier="default"),
        record(acme_key, "v3", service_tier="standard", web_searches=2),
        record(acme_key, "v4", service_tier="flex", output_reasoning_tokens=30),
        record(acme_key, "v5", service_tier="flex", output_reasoning_tokens=20, web_searches=4),
        record(acme_key, "v6", processing="batch", input_audio_tokens=7),
        record(acme_key, "v7", processing="batch", service_tier="priority"),
    ]
    body = post(gateway_client, records)
    # batch+priority: no variant names priority (batch+flex is priced: the flex variant names its one non-default)
    assert (body["accepted"], body["unpriced"]) == (7, 1)

    rows = {r.variant: r for r in UsageRollup.objects.filter(customer=acme_key.customer_id)}
    assert sorted(rows) == ["batch", "batch+priority", "flex", "standard"]
    assert (rows["standard"].requests, rows["standard"].cache_write_tokens, rows["standard"].web_searches) == (
        3,
        150,
        3,
    )
    assert (rows["flex"].requests, rows["flex"].output_reasoning_tokens, rows["flex"].web_searches) == (2, 50, 4)
    assert (rows["batch"].requests, rows["batch"].input_audio_tokens) == (1, 7)
    assert rows["batch+priority"].price_version_id is None and rows["batch+priority"].cost == 0
    # A second batch adds to the same rows (the merge covers every sum).
    post(gateway_client, [record(acme_key, "v8", service_tier="flex", output_reasoning_tokens=5)])
    flex = UsageRollup.objects.get(customer=acme_key.customer_id, variant="flex")
    assert (flex.requests, flex.output_reasoning_tokens) == (3, 55)


def test_an_unknown_context_is_unpriced_and_repriced_once_a_variant_names_it(gateway_client, acme_key, gpt5):
    body = post(
        gateway_client,
        [record(acme_key, "p1", service_tier="priority", input_tokens=1000, cached_input_tokens=0, output_tokens=0)],
    )
    assert (body["accepted"], body["unpriced"]) == (1, 1)
    assert stored("p1").price_version_id is None and stored("p1").cost is None
    assert usage_reprice(period=NOW.date().replace(day=1)) == {"repriced": 0, "unpriced": 1}

    gpt5.variants = [*gpt5.variants, {"when": {"service_tier": "priority"}, "prices": {"input_mtok": "2.5"}}]
    gpt5.save()

    assert usage_reprice(period=NOW.date().replace(day=1)) == {"repriced": 1, "unpriced": 0}
    assert stored("p1").cost == Decimal("0.0025")  # 1,000 × 2.5 / 10^6
    rollup = UsageRollup.objects.get(customer=acme_key.customer_id, requests__gt=0)
    assert (rollup.variant, rollup.price_version_id, rollup.cost) == ("priority", gpt5.pk, Decimal("0.0025"))


# --- Bad input: that record rejected by index, the field named, its neighbours kept ---------


BAD = {
    "5m+1h over writes": (
        {"cache_write_tokens": 10, "cache_write_5m_tokens": 8, "cache_write_1h_tokens": 8},
        ("cache_write_5m_tokens", "cache_write_1h_tokens"),
    ),
    "reads+writes over input": (
        {"input_tokens": 100, "cached_input_tokens": 60, "cache_write_tokens": 50},
        ("cached_input_tokens", "cache_write_tokens"),
    ),
    "reasoning over output": ({"output_tokens": 10, "output_reasoning_tokens": 11}, "output_reasoning_tokens"),
    "audio over input": (
        {"input_tokens": 10, "cached_input_tokens": 0, "input_audio_tokens": 11},
        "input_audio_tokens",
    ),
    "negative": ({"web_searches": -1}, "web_searches"),
    "fractional": ({"cache_write_tokens": 1.5}, "cache_write_tokens"),
    "unknown field": ({"reasoning_tokens": 300}, "reasoning_tokens"),
    "response with counts": (
        {"response": {"model": "gpt-5", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}, "api_flavor": "chat"},
        ("input_tokens", "output_tokens", "cached_input_tokens"),  # each count given
    ),
    "unreadable response": (
        {
            "response": {"model": "gpt-5", "choices": []},
            "api_flavor": "chat",
            "input_tokens": OMIT,
            "output_tokens": OMIT,
            "cached_input_tokens": OMIT,
        },
        "response",
    ),
    "unknown flavour": (
        {
            "response": {"model": "gpt-5"},
            "api_flavor": "telepathy",
            "input_tokens": OMIT,
            "output_tokens": OMIT,
            "cached_input_tokens": OMIT,
        },
        "response",
    ),
    "service_tier of 200 characters": ({"service_tier": "f" * 200}, "service_tier"),
    "service_tier not lowercase": ({"service_tier": "Flex"}, "service_tier"),
    "processing": ({"processing": "overnight"}, "processing"),
    "both cache reads, different": ({"cache_read_tokens": 10, "cached_input_tokens": 20}, "cache_read_tokens"),
    "api_flavor without response": ({"api_flavor": "chat"}, "api_flavor"),
    "cache_creation not an object": (
        {"cache_read_input_tokens": 1, "cached_input_tokens": OMIT, "cache_creation": [1]},
        "cache_creation",
    ),
    "cache_creation unknown TTL": (
        {
            "cache_creation_input_tokens": 1,
            "cached_input_tokens": OMIT,
            "cache_creation": {"ephemeral_1d_input_tokens": 1},
        },
        "cache_creation.ephemeral_1d_input_tokens",
    ),
    "Anthropic and own cache writes": (
        {"cache_creation_input_tokens": 1, "cached_input_tokens": OMIT, "cache_write_tokens": 1},
        "cache_write_tokens",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_record_is_rejected_by_index_naming_the_field_and_its_neighbours_kept(
    gateway_client, acme_key, gpt5, case
):
    fields, named = BAD[case]  # the field named (one of the parts, when several share the blame)
    named = (named,) if isinstance(named, str) else named
    bad = record(acme_key, "bad", **fields)

    body = post(gateway_client, [record(acme_key, "ok-1"), bad, record(acme_key, "ok-2")])

    assert body["accepted"] == 2
    assert [(r["index"], r["request_id"]) for r in body["rejected"]] == [(1, "bad")]
    errors = body["rejected"][0]["errors"]
    assert errors and set(errors) <= set(named), errors
    quarantined = QuarantinedRecord.objects.get()
    assert (quarantined.batch_index, quarantined.request_id) == (1, "bad")
    assert quarantined.errors == errors
    # What was refused is kept as sent (the response included).
    assert set(quarantined.payload) == set(bad)


def test_a_response_over_the_size_bound_is_rejected_naming_it(gateway_client, acme_key, gpt5):
    response = {"model": "gpt-5", "usage": {"prompt_tokens": 1, "completion_tokens": 1}, "padding": "x" * 70_000}
    bad = {
        "request_id": "big",
        "key_id": acme_key.key_id,
        "provider": "openai",
        "api_flavor": "chat",
        "response": response,
        "occurred_at": "2026-10-15T10:00:00+08:00",
    }

    body = post(gateway_client, [bad])

    assert list(body["rejected"][0]["errors"]) == ["response"]


# --- Provider responses, read with genai-prices' extractors --------------------------------


def from_response(key, request_id, provider, response, flavor=None, **fields):
    record = {
        "request_id": request_id,
        "key_id": key.key_id,
        "provider": provider,
        "response": response,
        "occurred_at": "2026-10-15T10:00:00+08:00",
        **fields,
    }
    if flavor:
        record["api_flavor"] = flavor
    return record


def test_openai_chat_and_responses_are_read_and_priced(gateway_client, acme_key, gpt5):
    chat = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-5",
        "service_tier": "flex",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
        "usage": {
            "prompt_tokens": 1000,
            "completion_tokens": 500,
            "prompt_tokens_details": {"cached_tokens": 400, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 300},
        },
    }
    responses = {
        "id": "resp_1",
        "object": "response",
        "model": "gpt-5",
        "usage": {
            "input_tokens": 2000,
            "input_tokens_details": {"cached_tokens": 1000},
            "output_tokens": 100,
            "output_tokens_details": {"reasoning_tokens": 50},
        },
    }
    body = post(
        gateway_client,
        [
            from_response(acme_key, "chat-1", "openai", chat, "chat"),
            from_response(acme_key, "resp-1", "openai", responses, "responses"),
            from_response(acme_key, "chat-2", "openai", chat, "chat", service_tier="default"),  # the record's tier wins
        ],
    )

    assert (body["accepted"], body["rejected"]) == (3, [])
    row = stored("chat-1")
    assert (row.model, row.input_tokens, row.cached_input_tokens, row.output_tokens) == ("gpt-5", 1000, 400, 500)
    assert (row.output_reasoning_tokens, row.service_tier, row.variant) == (300, "flex", "flex")
    assert row.cost == Decimal("0.0029")  # (600 × 0.625 + 400 × 0.0625 + 500 × 5) / 10^6 at flex
    row = stored("resp-1")
    assert (row.input_tokens, row.cached_input_tokens, row.output_tokens, row.output_reasoning_tokens) == (
        2000,
        1000,
        100,
        50,
    )
    assert row.cost == Decimal("0.002375")  # (1,000 × 1.25 + 1,000 × 0.125 + 100 × 10) / 10^6
    assert (stored("chat-2").service_tier, stored("chat-2").cost) == (None, Decimal("0.0058"))


def test_an_anthropic_message_is_read_with_cache_writes_by_ttl_and_web_searches(gateway_client, acme_key, sonnet):
    message = {
        "id": "msg_1",
        "type": "message",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "hi"}],
        "usage": {
            "input_tokens": 100,
            "cache_read_input_tokens": 1000,
            "cache_creation_input_tokens": 500,
            "cache_creation": {"ephemeral_5m_input_tokens": 300, "ephemeral_1h_input_tokens": 200},
            "output_tokens": 50,
            "server_tool_use": {"web_search_requests": 2},
            "service_tier": "standard",
        },
    }
    body = post(gateway_client, [from_response(acme_key, "msg-1", "anthropic", message)])

    assert (body["accepted"], body["unpriced"]) == (1, 0)
    row = stored("msg-1")
    assert (row.input_tokens, row.cached_input_tokens, row.output_tokens) == (1600, 1000, 50)
    assert (row.cache_write_tokens, row.cache_write_5m_tokens, row.cache_write_1h_tokens, row.web_searches) == (
        500,
        300,
        200,
        2,
    )
    assert (row.service_tier, row.variant) == ("standard", None)  # the default context: variant NULL (standard)
    # 100 × 3 + 1,000 × 0.3 + 300 × 3.75 + 200 × 6 + 50 × 15 = 3,675 per 10^6, + 2 × 10 / 1,000
    assert row.cost == Decimal("0.003675") + Decimal("0.02")


def test_a_gemini_response_is_read_and_its_long_context_tier_applies(gateway_client, acme_key, gemini):
    response = {
        "modelVersion": "gemini-2.5-pro",
        "candidates": [],
        "usageMetadata": {
            "promptTokenCount": 250_000,
            "cachedContentTokenCount": 50_000,
            "candidatesTokenCount": 1_000,
            "thoughtsTokenCount": 500,
            "totalTokenCount": 251_500,
        },
    }
    body = post(gateway_client, [from_response(acme_key, "gem-1", "google", response)])

    assert (body["accepted"], body["rejected"]) == (1, [])
    row = stored("gem-1")
    # thoughts are output (genai-prices adds them), and reasoning
    assert (row.input_tokens, row.cached_input_tokens, row.output_tokens, row.output_reasoning_tokens) == (
        250_000,
        50_000,
        1_500,
        500,
    )
    # above 200,000 input tokens the whole request at the tier: (200,000 × 2.5 + 50,000 × 0.625 + 1,500 × 15) / 10^6
    assert row.cost == Decimal("0.55375")


# --- The idempotency digest -----------------------------------------------------------------


def old_digest(request_id, key_id, provider, model, input_tokens, cached, output, occurred_at):
    """The digest as b5231b9 computed it (billing/metering/records.py there)."""
    text = "\x1f".join(map(str, [request_id, key_id, provider, model, input_tokens, cached, output, occurred_at]))
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def test_the_digest_of_a_record_in_todays_fields_is_byte_identical_and_a_retry_a_duplicate(acme_key, gpt5):
    today = usage(acme_key.key_id, "d1", model="gpt-5", provider="openai")
    anthropic = usage(
        acme_key.key_id,
        "d2",
        model="gpt-5",
        provider="openai",
        cached_input_tokens=OMIT,
        cache_read_input_tokens=10,
        cache_creation_input_tokens=20,
        cache_creation={"ephemeral_5m_input_tokens": 20},
    )
    with time_machine.travel(NOW, tick=False):
        assert ingest([today, anthropic]).accepted == 2

    ledger = {r.request_id: bytes(r.content_hash) for r in UsageRequest.objects.all()}
    when = "2026-10-15T02:00:00+00:00"
    assert ledger["d1"] == old_digest("d1", acme_key.key_id, "openai", "gpt-5", 1000, 200, 100, when)
    assert ledger["d2"] == old_digest("d2", acme_key.key_id, "openai", "gpt-5", 1030, 10, 100, when)
    with time_machine.travel(NOW, tick=False):
        again = ingest(
            [
                today,
                anthropic,
                dict(today, request_id="d1", processing="standard", service_tier="default", web_searches=0),
            ]
        )
    assert (again.accepted, again.duplicates, again.conflicts) == (0, 3, [])


@pytest.mark.parametrize(
    "change",
    [
        {"web_searches": 1},
        {"service_tier": "flex"},
        {"processing": "batch"},
        {"cache_write_tokens": 5},
        {"output_reasoning_tokens": 7},
    ],
)
def test_the_digest_covers_every_added_count_and_the_context(acme_key, gpt5, change):
    first = usage(acme_key.key_id, "c1", model="gpt-5", provider="openai")
    with time_machine.travel(NOW, tick=False):
        ingest([first])
        result = ingest([dict(first, **change)])
    assert (result.accepted, result.duplicates, [c["request_id"] for c in result.conflicts]) == (0, 0, ["c1"])
