"""The LiteLLM callback driven by the real ``litellm`` package (mock responses carrying usage,
no network) against the app served by a live server: every call recorded exactly once, a
server down for a while → spooled and delivered once after a restart, a revoked key → 429
(CONTRACT "Gateway connectors")."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time

import litellm
import pytest
from fastapi import HTTPException
from litellm import ModelResponse, Usage

from billing.models import UsageRecord
from customers import services
from tests.integrations.conftest import MODULE

pytestmark = pytest.mark.django_db(transaction=True)

DOWN = "http://127.0.0.1:9"  # nothing listens there: the app "down"
MESSAGES = [{"role": "user", "content": "你好"}]


def answer(prompt=1000, completion=50, **extra) -> ModelResponse:
    usage = Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion, **extra)
    return ModelResponse(model="gpt-4o", choices=[{"message": {"role": "assistant", "content": "好"}}], usage=usage)


def call(key_id: str, response: ModelResponse) -> str:
    reply = litellm.completion(
        model="gpt-4o",
        messages=MESSAGES,
        mock_response=response,
        metadata={"user_api_key_metadata": {"procurement_key_id": key_id}},
    )
    return reply._hidden_params["litellm_call_id"]


async def acall(key_id: str, response: ModelResponse) -> str:
    reply = await litellm.acompletion(
        model="gpt-4o",
        messages=MESSAGES,
        mock_response=response,
        metadata={"user_api_key_metadata": {"procurement_key_id": key_id}},
    )
    return reply._hidden_params["litellm_call_id"]


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_every_call_sync_and_async_is_recorded_exactly_once(
    callback_module, callbacks, live_server, clean_usage, gateway_token, acme_key, gpt4o, tmp_path
):
    callback = callbacks(
        callback_module.ProcurementCallback(url=live_server.url, token=gateway_token, spool_dir=tmp_path)
    )
    sent: list[dict] = []
    http = callback._http

    def capture(method, path, payload=None):
        if payload is not None:
            sent.extend(payload["records"])
        return http(method, path, payload)

    callback._http = capture
    cached = answer(prompt_tokens_details={"cached_tokens": 300}, completion_tokens_details={"reasoning_tokens": 20})

    ids = [call(acme_key.key_id, cached) for _ in range(3)]

    async def two():
        made = [await acall(acme_key.key_id, answer(200, 10)) for _ in range(2)]
        # litellm logs an async call from a task on the running loop (the proxy's loop lives
        # on; this one ends with asyncio.run): let those tasks run first.
        deadline = time.monotonic() + 10
        while not set(made) <= {r["request_id"] for r in [*sent, *callback._pending]} and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return made

    ids += asyncio.run(two())

    assert wait_for(lambda: UsageRecord.objects.count() == 5), UsageRecord.objects.count()
    records = {r.request_id: r for r in UsageRecord.objects.all()}
    assert set(records) == set(ids)
    assert sorted((r.input_tokens, r.cached_input_tokens, r.output_tokens) for r in records.values()) == [
        (200, 0, 10),
        (200, 0, 10),
        (1000, 300, 50),
        (1000, 300, 50),
        (1000, 300, 50),
    ]
    assert all(r.api_key_id == acme_key.pk and r.price_version_id == gpt4o.pk for r in records.values())
    reasoning = [r for r in sent if r["request_id"] == ids[0]][0]
    assert reasoning["output_reasoning_tokens"] == 20 and reasoning["cached_input_tokens"] == 300
    assert [r.output_reasoning_tokens for r in records.values()].count(20) == 3

    # LiteLLM firing a success event twice for one call (its issue #5118) counts once.
    before = len(sent)
    kwargs = {
        "litellm_call_id": ids[0],
        "litellm_params": {"metadata": {"user_api_key_metadata": {"procurement_key_id": acme_key.key_id}}},
        "standard_logging_object": {"model": "gpt-4o", "startTime": time.time() - 5},
    }
    callback.log_success_event(kwargs, cached, None, None)
    assert wait_for(lambda: len(sent) > before)
    assert callback.wait_idle()
    time.sleep(0.2)
    assert UsageRecord.objects.count() == 5


def test_usage_counts_cache_writes_by_ttl_reasoning_service_tier_and_batch(callback_module):
    usage = Usage(
        prompt_tokens=1000,
        completion_tokens=50,
        total_tokens=1050,
        prompt_tokens_details={
            "cached_tokens": 300,
            "cache_creation_tokens": 100,
            "cache_creation_token_details": {"ephemeral_5m_input_tokens": 60, "ephemeral_1h_input_tokens": 40},
            "audio_tokens": 7,
        },
        completion_tokens_details={"reasoning_tokens": 20},
    )
    response = ModelResponse(model="claude-sonnet-4", usage=usage, service_tier="priority")
    kwargs = {
        "litellm_call_id": "call-1",
        "call_type": "aretrieve_batch",
        "litellm_params": {"metadata": {"user_api_key_metadata": {"procurement_key_id": "ak_1"}}},
        "standard_logging_object": {"model": "claude-sonnet-4", "startTime": 1_790_000_000.5},
    }

    record = callback_module.record_of(kwargs, response, None)

    assert record == {
        "request_id": "call-1",
        "key_id": "ak_1",
        "model": "claude-sonnet-4",
        "occurred_at": "2026-09-21T14:13:20.500000+00:00",
        "input_tokens": 1000,
        "output_tokens": 50,
        "cached_input_tokens": 300,
        "input_audio_tokens": 7,
        "cache_write_tokens": 100,
        "cache_write_5m_tokens": 60,
        "cache_write_1h_tokens": 40,
        "output_reasoning_tokens": 20,
        "service_tier": "priority",
        "processing": "batch",
    }


def test_a_server_down_spools_and_a_restart_delivers_once(
    callback_module, callbacks, live_server, clean_usage, gateway_token, acme_key, gpt4o, tmp_path
):
    down = callbacks(callback_module.ProcurementCallback(url=DOWN, token=gateway_token, spool_dir=tmp_path))
    ids = [call(acme_key.key_id, answer(100 + i, 10)) for i in range(3)]
    assert wait_for(lambda: any(p.stat().st_size > 0 for p in down.spooled()) and down.wait_idle())
    down.close()  # the proxy stops while our app is down
    assert UsageRecord.objects.count() == 0
    spooled = down.spooled()
    assert spooled
    kept = tmp_path.parent / "kept-copy.json"
    shutil.copy(spooled[0], kept)

    restarted = callbacks(
        callback_module.ProcurementCallback(url=live_server.url, token=gateway_token, spool_dir=tmp_path)
    )

    assert wait_for(lambda: UsageRecord.objects.count() == 3 and not restarted.spooled())
    assert set(UsageRecord.objects.values_list("request_id", flat=True)) == set(ids)

    # A crash after our API took a batch but before its file was deleted: sent again, once.
    shutil.copy(kept, spooled[0])
    assert restarted.resend_spooled() == 1
    assert not restarted.spooled()
    assert UsageRecord.objects.count() == 3
    assert sorted(UsageRecord.objects.values_list("input_tokens", flat=True)) == [100, 101, 102]


def test_a_revoked_key_is_refused_with_429_after_the_cached_answer_expires(
    callback_module, live_server, gateway_token, acme_key, gpt4o, tmp_path
):
    from litellm.proxy._types import UserAPIKeyAuth

    now = [1000.0]
    callback = callback_module.ProcurementCallback(
        url=live_server.url, token=gateway_token, spool_dir=tmp_path, clock=lambda: now[0], start=False
    )
    callback._stop.set()  # no sender thread: this test asks the allowance only
    key = UserAPIKeyAuth(api_key="sk-virtual", metadata={"procurement_key_id": acme_key.key_id})
    data = {"model": "gpt-4o", "messages": MESSAGES}

    assert asyncio.run(callback.async_pre_call_hook(key, None, data, "completion")) is data

    services.api_key_revoke(key=acme_key)
    now[0] += 4  # still the cached answer
    assert asyncio.run(callback.async_pre_call_hook(key, None, data, "completion")) is data

    now[0] += 2
    with pytest.raises(HTTPException) as refused:
        asyncio.run(callback.async_pre_call_hook(key, None, data, "completion"))
    assert refused.value.status_code == 429
    assert "revoked" in str(refused.value.detail)

    unmapped = UserAPIKeyAuth(api_key="sk-other", metadata={})
    assert asyncio.run(callback.async_pre_call_hook(unmapped, None, data, "completion")) is data


def test_the_callback_adds_less_than_a_millisecond_to_a_call(callback_module, callbacks, tmp_path):
    callback = callbacks(callback_module.ProcurementCallback(url=DOWN, token="t", spool_dir=tmp_path))
    response = answer(prompt_tokens_details={"cached_tokens": 300})
    kwargs = {
        "litellm_call_id": "x",
        "litellm_params": {"metadata": {"user_api_key_metadata": {"procurement_key_id": "ak_1"}}},
        "standard_logging_object": {"model": "gpt-4o", "startTime": time.time()},
    }
    started = time.perf_counter()
    for i in range(2000):
        kwargs["litellm_call_id"] = f"x{i}"
        callback.log_success_event(kwargs, response, None, None)
    per_call = (time.perf_counter() - started) / 2000

    assert per_call < 0.001, f"{per_call * 1e6:.0f} µs per call"


def test_the_module_imports_without_django(tmp_path):
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('procurement_callback', {str(MODULE)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "from litellm.integrations.custom_logger import CustomLogger\n"
        "assert isinstance(m.proxy_handler_instance, CustomLogger)\n"
        "assert not [n for n in sys.modules if n == 'django' or n.startswith('django.')], 'django imported'\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
