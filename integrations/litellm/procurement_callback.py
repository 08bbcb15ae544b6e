"""Procurement Center's callback for the LiteLLM proxy (CONTRACT "Gateway connectors").

Standard library + litellm + fastapi only (no Django): copy this file next to the proxy's
config and name it there::

    litellm_settings:
      callbacks: procurement_callback.proxy_handler_instance

Environment:
  PROCUREMENT_URL              the app's base URL, e.g. https://billing.example.com
  PROCUREMENT_GATEWAY_TOKEN    a gateway token (manage.py create_gateway_token NAME)
  PROCUREMENT_SPOOL_DIR        where unsent batches wait (default ~/.cache/procurement-litellm)
  PROCUREMENT_ALLOW_WHEN_DOWN  "1" (default): a call goes ahead when the allowance cannot be
                               asked (its usage is still recorded); "0": refused with 429

Each successful call (sync or async) becomes one usage record: request id = LiteLLM's call
id, the key = the virtual key's metadata ``procurement_key_id``, every count of the
response's usage. Records are sent in batches (after at most 1 s, or at 500 records) by one
background thread; a batch that cannot be delivered is written to the spool directory and
sent again (at start, and every few seconds) until our API takes it. Our API is idempotent on
the request id, so a batch sent again — after a crash between sending and deleting its
spool file — is counted as duplicates, never twice.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger

logger = logging.getLogger("procurement_callback")

BATCH_SECONDS = 1.0
BATCH_RECORDS = 500
ALLOWANCE_SECONDS = 5.0
RESEND_SECONDS = 5.0
HTTP_TIMEOUT = 10.0
KEY_FIELD = "procurement_key_id"

# usage detail → our count (CONTRACT "Price dimensions"); cache reads go as
# cached_input_tokens, the name every ingestion version accepts.
PROMPT_DETAILS = {
    "cached_tokens": "cached_input_tokens",
    "audio_tokens": "input_audio_tokens",
    "image_tokens": "input_image_tokens",
}
COMPLETION_DETAILS = {
    "reasoning_tokens": "output_reasoning_tokens",
    "audio_tokens": "output_audio_tokens",
    "image_tokens": "output_image_tokens",
}


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _count(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0


def usage_fields(usage: Any) -> dict[str, int]:
    """Our counts from a LiteLLM ``Usage`` (OpenAI shape, as LiteLLM normalises every
    provider: prompt_tokens includes cache reads and writes). Zero counts are left out."""
    fields = {
        "input_tokens": _count(_get(usage, "prompt_tokens")),
        "output_tokens": _count(_get(usage, "completion_tokens")),
    }
    prompt = _get(usage, "prompt_tokens_details")
    for name, ours in PROMPT_DETAILS.items():
        fields[ours] = _count(_get(prompt, name))
    if not fields["cached_input_tokens"]:
        fields["cached_input_tokens"] = _count(_get(usage, "cache_read_input_tokens"))
    writes = (
        _count(_get(prompt, "cache_write_tokens"))
        or _count(_get(prompt, "cache_creation_tokens"))
        or _count(_get(usage, "cache_creation_input_tokens"))
    )
    ttl = _get(prompt, "cache_creation_token_details")
    fields["cache_write_5m_tokens"] = _count(_get(ttl, "ephemeral_5m_input_tokens"))
    fields["cache_write_1h_tokens"] = _count(_get(ttl, "ephemeral_1h_input_tokens"))
    fields["cache_write_tokens"] = max(writes, fields["cache_write_5m_tokens"] + fields["cache_write_1h_tokens"])
    completion = _get(usage, "completion_tokens_details")
    for name, ours in COMPLETION_DETAILS.items():
        fields[ours] = _count(_get(completion, name))
    fields["web_searches"] = _count(_get(_get(usage, "server_tool_use"), "web_search_requests")) or _count(
        _get(prompt, "web_search_requests")
    )
    return {k: v for k, v in fields.items() if v or k in ("input_tokens", "output_tokens")}


def key_id_of(kwargs: dict) -> str:
    """Our key: the virtual key's metadata ``procurement_key_id`` (the proxy copies the key's
    metadata into the call's metadata as ``user_api_key_metadata``)."""
    params = kwargs.get("litellm_params") or {}
    slo = kwargs.get("standard_logging_object") or {}
    for metadata in (params.get("metadata"), params.get("litellm_metadata"), slo.get("metadata")):
        if not isinstance(metadata, dict):
            continue
        for holder in (metadata.get("user_api_key_metadata"), metadata.get("user_api_key_auth_metadata"), metadata):
            if isinstance(holder, dict) and isinstance(holder.get(KEY_FIELD), str) and holder[KEY_FIELD]:
                return holder[KEY_FIELD]
    return ""


def record_of(kwargs: dict, response_obj: Any, start_time: Any) -> dict[str, Any]:
    """The usage record of one successful call."""
    slo = kwargs.get("standard_logging_object") or {}
    started = slo.get("startTime")
    if not isinstance(started, (int, float)):
        started = start_time.timestamp() if isinstance(start_time, datetime) else time.time()
    record: dict[str, Any] = {
        "request_id": str(kwargs.get("litellm_call_id") or slo.get("litellm_call_id") or slo.get("id")),
        "key_id": key_id_of(kwargs),
        "model": slo.get("model") or _get(response_obj, "model") or kwargs.get("model") or "",
        "occurred_at": datetime.fromtimestamp(started, UTC).isoformat(),
        **usage_fields(_get(response_obj, "usage")),
    }
    tier = _get(response_obj, "service_tier")
    if isinstance(tier, str) and tier:
        record["service_tier"] = tier
    call_type = str(kwargs.get("call_type") or slo.get("call_type") or "")
    if "batch" in call_type:
        record["processing"] = "batch"
    return record


class ProcurementCallback(CustomLogger):
    """Sends usage to Procurement Center and asks it before each call; see the module doc."""

    def __init__(
        self,
        *,
        url: str | None = None,
        token: str | None = None,
        spool_dir: str | os.PathLike | None = None,
        batch_seconds: float = BATCH_SECONDS,
        batch_records: int = BATCH_RECORDS,
        allow_when_down: bool | None = None,
        clock=time.monotonic,
        start: bool = True,
    ):
        super().__init__()
        self.url = (url if url is not None else os.environ.get("PROCUREMENT_URL", "")).rstrip("/")
        self.token = token if token is not None else os.environ.get("PROCUREMENT_GATEWAY_TOKEN", "")
        default_spool = Path.home() / ".cache" / "procurement-litellm"
        self.spool = Path(spool_dir or os.environ.get("PROCUREMENT_SPOOL_DIR") or default_spool)
        self.batch_seconds = batch_seconds
        self.batch_records = batch_records
        if allow_when_down is None:
            allow_when_down = os.environ.get("PROCUREMENT_ALLOW_WHEN_DOWN", "1") != "0"
        self.allow_when_down = allow_when_down
        self.clock = clock
        self._pending: list[dict] = []
        self._first_at: float | None = None
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._allowance: dict[str, tuple[float, bool, str | None]] = {}
        self._thread: threading.Thread | None = None
        if start:
            self.start()

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the sender thread (it first sends what an earlier run left in the spool)."""
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self.spool.mkdir(parents=True, exist_ok=True)
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="procurement-sender", daemon=True)
            self._thread.start()
        atexit.register(self.close)

    def close(self) -> None:
        """Send what is buffered (or spool it) and stop the sender thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=HTTP_TIMEOUT + 5)
            self._thread = None
        self._flush()

    # --- LiteLLM hooks ------------------------------------------------------------------

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._add(kwargs, response_obj, start_time)

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._add(kwargs, response_obj, start_time)

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        """Refuse a key our allowance refuses (HTTP 429 with the reason); answers are cached
        for up to 5 s per key."""
        import asyncio

        metadata = _get(user_api_key_dict, "metadata") or {}
        key_id = metadata.get(KEY_FIELD) if isinstance(metadata, dict) else None
        if not key_id:
            return data  # a key not billed through Procurement Center
        if self._thread is None and not self._stop.is_set():
            self.start()  # also sends what an earlier run spooled
        allowed, reason = await asyncio.to_thread(self.allowance, key_id)
        if not allowed:
            raise HTTPException(
                status_code=429, detail=f"Procurement Center does not allow this key: {reason} (reason: {reason})"
            )
        return data

    # --- the allowance ------------------------------------------------------------------

    def allowance(self, key_id: str) -> tuple[bool, str | None]:
        """(allowed, reason) for our key, from the cache when asked less than 5 s ago."""
        now = self.clock()
        cached = self._allowance.get(key_id)
        if cached is not None and cached[0] > now:
            return cached[1], cached[2]
        quoted = urllib.parse.quote(key_id, safe="")
        try:
            status, body = self._http("GET", f"/api/v1/api-keys/{quoted}/allowance/")
        except OSError as exc:
            logger.warning("procurement allowance unavailable: %s", exc)
            return self.allow_when_down, None if self.allow_when_down else "unavailable"
        if status == 404:
            answer = (False, "unknown_key")
        elif status != 200 or not isinstance(body, dict):
            logger.warning("procurement allowance answered %s", status)
            return self.allow_when_down, None if self.allow_when_down else "unavailable"
        else:
            answer = (bool(body.get("allowed")), body.get("reason"))
        self._allowance[key_id] = (now + ALLOWANCE_SECONDS, *answer)
        return answer

    # --- batching and sending -----------------------------------------------------------

    def _add(self, kwargs: dict, response_obj: Any, start_time: Any) -> None:
        try:
            record = record_of(kwargs, response_obj, start_time)
        except Exception:  # a logging callback must never fail the call
            logger.exception("procurement: could not read a call's usage")
            return
        if self._thread is None and not self._stop.is_set():
            self.start()
        if self._stop.is_set():  # closed (the proxy is shutting down): keep it for the next run
            self._spool_write([record])
            return
        with self._lock:
            if not self._pending:
                self._first_at = self.clock()
            self._pending.append(record)
            full = len(self._pending) >= self.batch_records
        if full:
            self._wake.set()

    def _take(self, *, due_only: bool) -> list[dict]:
        with self._lock:
            if not self._pending:
                return []
            due = len(self._pending) >= self.batch_records or (
                self._first_at is not None and self.clock() - self._first_at >= self.batch_seconds
            )
            if due_only and not due:
                return []
            batch, self._pending = self._pending[: self.batch_records], self._pending[self.batch_records :]
            self._first_at = self.clock() if self._pending else None
            return batch

    def _flush(self) -> None:
        while batch := self._take(due_only=False):
            self._deliver(batch)

    def _run(self) -> None:
        last_resend = 0.0
        while not self._stop.is_set():
            if self.clock() - last_resend >= RESEND_SECONDS:
                self.resend_spooled()
                last_resend = self.clock()
            while batch := self._take(due_only=True):
                self._deliver(batch)
            self._wake.wait(timeout=0.05)
            self._wake.clear()

    def _deliver(self, batch: list[dict]) -> None:
        if not self._post(batch):
            self._spool_write(batch)

    def _post(self, batch: list[dict]) -> bool:
        """True when our API took the batch (200: accepted, duplicates and rejected alike —
        rejected records are kept by the server for finance); False to spool it."""
        try:
            status, body = self._http("POST", "/api/v1/usage-records/", {"records": batch})
        except OSError as exc:
            logger.warning("procurement: usage not delivered (%s); spooled", exc)
            return False
        if status == 200:
            if isinstance(body, dict) and (body.get("rejected") or body.get("conflicts")):
                logger.warning(
                    "procurement: %d records rejected, %d conflicts",
                    len(body.get("rejected") or []),
                    len(body.get("conflicts") or []),
                )
            return True
        logger.warning("procurement: usage answered HTTP %s; spooled", status)
        return False

    def _http(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        if not self.url:
            raise OSError("PROCUREMENT_URL is not set")
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", f"Token {self.token}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:  # noqa: S310 - our own URL
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, None

    # --- the spool ----------------------------------------------------------------------

    def _spool_write(self, batch: list[dict]) -> None:
        """One file per batch, written whole (temporary name, fsync, rename)."""
        self.spool.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex}.json"
        temporary = self.spool / f".{name}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump({"records": batch}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.spool / name)

    def spooled(self) -> list[Path]:
        return sorted(self.spool.glob("[0-9]*.json")) if self.spool.exists() else []

    def resend_spooled(self) -> int:
        """Send the spooled batches, oldest first; a file is deleted once our API took it.
        Each file is locked while it is sent, so proxy workers sharing the spool never send
        the same file at once. Returns the batches delivered."""
        delivered = 0
        for path in self.spooled():
            try:
                handle = open(path, "r+", encoding="utf-8")  # noqa: SIM115 - closed by the with below
            except FileNotFoundError:
                continue  # another worker delivered it
            with handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                if not path.exists():
                    continue
                try:
                    batch = json.load(handle)["records"]
                except (ValueError, KeyError, TypeError):
                    logger.error("procurement: unreadable spool file %s kept aside", path)
                    os.replace(path, path.with_suffix(".bad"))
                    continue
                if not self._post(batch):
                    break  # still down: keep the order, try later
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                delivered += 1
        return delivered

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until nothing is buffered (tests and shutdown); True when idle."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    return True
            self._wake.set()
            time.sleep(0.02)
        return False


# What LiteLLM's `callbacks:` names. Its sender thread starts with the first call (not at
# import: the proxy may fork its workers after importing the config's callbacks).
proxy_handler_instance = ProcurementCallback(start=False)
