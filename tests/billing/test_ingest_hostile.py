"""Usage batches an attacker or a broken gateway might send (issue 14, found by the fuzz
run): a NUL in any string of a record is refused for that record alone, quarantined in a
storable form, and the rest of the batch is kept; a body nested beyond MAX_DEPTH is a 400
for the whole envelope, never a RecursionError."""

from __future__ import annotations

import json

import pytest
import time_machine

from billing.metering.ingest import MAX_DEPTH
from billing.models import QuarantinedRecord, UsageRecord
from tests.billing.helpers import INGEST_URL, shanghai, usage

pytestmark = pytest.mark.django_db

NOW = shanghai(2026, 10, 20, 12)


def post_raw(client, body: bytes):
    with time_machine.travel(NOW, tick=False):
        return client.post(INGEST_URL, data=body, content_type="application/json")


def batch(*records) -> bytes:
    return json.dumps({"records": list(records)}).encode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model", "gpt\u00004o"),
        ("provider", "open\u0000ai"),
        ("request_id", "bad\u00001"),
        ("key_id", "ak_\u0000"),
        ("note", "an extra field \u0000"),
        ("meta", {"trace": ["x\u0000"]}),
    ],
)
def test_a_nul_in_any_string_rejects_that_record_alone(gateway_client, acme_key, gpt4o, field, value):
    bad = usage(acme_key.key_id, "bad-1", **{field: value})

    response = post_raw(gateway_client, batch(usage(acme_key.key_id, "ok-1"), bad, usage(acme_key.key_id, "ok-2")))

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["accepted"], [r["index"] for r in body["rejected"]]) == (2, [1])
    assert list(body["rejected"][0]["errors"]) == [field]
    assert sorted(UsageRecord.objects.values_list("request_id", flat=True)) == ["ok-1", "ok-2"]
    quarantined = QuarantinedRecord.objects.get()
    assert quarantined.batch_index == 1
    assert field in quarantined.errors
    assert "\x00" not in json.dumps(quarantined.payload, ensure_ascii=False)
    assert "\\u0000" in json.dumps(quarantined.payload, ensure_ascii=False)


def test_a_raw_nul_byte_inside_a_string_rejects_that_record_alone(gateway_client, acme_key, gpt4o):
    """A raw 0x00 is not valid JSON text; the lenient parser reads it so that only the record
    that holds it is refused."""
    body = batch(usage(acme_key.key_id, "ok-1"), usage(acme_key.key_id, "bad-1", model="MARK"))
    body = body.replace(b"MARK", b"gpt\x004o")

    response = post_raw(gateway_client, body)

    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["accepted"], result["rejected"][0]["index"], list(result["rejected"][0]["errors"])) == (
        1,
        1,
        ["model"],
    )
    assert QuarantinedRecord.objects.get().payload["model"] == "gpt\\u00004o"


def test_a_nul_in_the_name_of_an_extra_field_is_named_escaped(gateway_client, acme_key, gpt4o):
    bad = usage(acme_key.key_id, "bad-1", **{"x\u0000y": 1})

    result = post_raw(gateway_client, batch(bad)).json()

    assert list(result["rejected"][0]["errors"]) == ["x\\u0000y"]
    assert QuarantinedRecord.objects.get().payload["x\\u0000y"] == 1


def test_a_record_rejected_for_another_reason_is_quarantined_with_its_nul_escaped(gateway_client, gpt4o):
    """An unknown field and an unknown key: rejected; its stored copy still cannot hold the NUL."""
    record = usage("ak_unknown", "r\u00001")
    record["request_id"] = "r1"
    record["comment"] = "fine"
    record["model"] = "gpt-4o"

    response = post_raw(gateway_client, batch(record, usage("ak_unknown", "r2", provider="open\u0000ai")))

    assert response.status_code == 200, response.content
    assert [list(r["errors"]) for r in response.json()["rejected"]] == [["comment"], ["provider"]]
    assert QuarantinedRecord.objects.order_by("batch_index").last().payload["provider"] == "open\\u0000ai"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 200_000])
def test_a_body_nested_too_deep_is_a_400_for_the_whole_envelope(gateway_client, acme_key, gpt4o, depth):
    nested = "[" * depth + "]" * depth
    body = f'{{"records": [{json.dumps(usage(acme_key.key_id, "ok-1"))}, {{"x": {nested}}}]}}'.encode()

    response = post_raw(gateway_client, body)

    assert response.status_code == 400, response.content
    result = response.json()
    assert set(result) == {"detail", "errors"} and list(result["errors"]) == ["records"]
    assert UsageRecord.objects.count() == QuarantinedRecord.objects.count() == 0


def test_a_body_within_the_depth_limit_is_read(gateway_client, acme_key, gpt4o):
    nested = "[" * (MAX_DEPTH - 3) + "]" * (MAX_DEPTH - 3)
    body = f'{{"records": [{json.dumps(usage(acme_key.key_id, "ok-1"))}, {{"x": {nested}}}]}}'.encode()

    response = post_raw(gateway_client, body)

    assert response.status_code == 200, response.content
    assert (response.json()["accepted"], len(response.json()["rejected"])) == (1, 1)


@pytest.mark.parametrize(("depth", "status"), [(MAX_DEPTH - 3, 200), (MAX_DEPTH - 1, 400)])
def test_nested_objects_count_like_nested_arrays(gateway_client, acme_key, gpt4o, depth, status):
    # Flat records are recognised without being stacked; a record holding objects is walked.
    nested = '{"a": ' * depth + "1" + "}" * depth
    body = f'{{"records": [{json.dumps(usage(acme_key.key_id, "ok-1"))}, {{"x": {nested}}}]}}'.encode()

    assert post_raw(gateway_client, body).status_code == status


def test_the_garbage_collector_runs_again_after_a_batch_accepted_or_refused(gateway_client, acme_key, gpt4o):
    import gc

    assert post_raw(gateway_client, batch(usage(acme_key.key_id, "gc-1"))).status_code == 200
    assert gc.isenabled()
    assert post_raw(gateway_client, b'{"records": []}').status_code == 400
    assert gc.isenabled()
