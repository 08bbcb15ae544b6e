"""Validating one usage record: the field errors a batch reports, the record a batch stores.

Two validators give the same answers (pinned by a property test): ``_validate_fast`` for
the common well-formed record, ``_validate_full`` to collect every field's error.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.utils.translation import gettext as _

from billing.models import PriceVersion

MAX_TOKENS = 10**12

FUTURE_TOLERANCE = timedelta(minutes=5)

EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)

# The fields of a record in our own convention; a record with others (Anthropic's cache
# counts, fields of the gateway's own) goes through the full check, which also refuses a
# NUL in them (PostgreSQL text and jsonb cannot hold U+0000).
FIELDS = frozenset(
    {
        "request_id",
        "key_id",
        "model",
        "provider",
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "occurred_at",
    }
)
NUL = "\x00"


class KeyIds(NamedTuple):
    """What a batch needs of an API key."""

    id: int
    customer_id: int
    project_id: int


@dataclass(slots=True)
class ValidRecord:
    index: int
    request_id: str
    key_id: str
    provider: str  # as sent ("" when absent)
    model: str  # as sent
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    occurred_at: datetime
    digest: bytes
    # filled by resolution
    api_key: KeyIds | None = None
    resolved_provider: str = ""
    resolved_model: str = ""
    price: PriceVersion | None = None
    cost: Decimal | None = None


# --- Validation -----------------------------------------------------------------------


def _int_field(record: dict, name: str, errors: dict, *, required: bool = True) -> int:
    if name not in record or record[name] is None:
        if required:
            errors[name] = [_("This field is required.")]
        return 0
    value = record[name]
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = [_("Must be a whole number of tokens.")]
        return 0
    if value < 0:
        errors[name] = [_("Must not be negative.")]
        return 0
    if value >= MAX_TOKENS:
        errors[name] = [_("Too large to be a token count.")]
        return 0
    return value


def _str_field(record: dict, name: str, errors: dict, *, max_length: int, required: bool = True) -> str:
    value = record.get(name)
    if value is None or value == "":
        if required:
            errors[name] = [_("This field is required.")]
        return ""
    if not isinstance(value, str):
        errors[name] = [_("Must be a string.")]
        return ""
    if len(value) > max_length:
        errors[name] = [_("At most %(n)d characters.") % {"n": max_length}]
        return ""
    if NUL in value:
        errors[name] = [_("Must not contain a NUL character (U+0000).")]
        return ""
    return value


def _nul_fields(record: dict) -> dict[str, list[str]]:
    """The other fields of a record (kept as sent in quarantine) whose name or any string
    inside holds a NUL: the record is refused, naming them."""
    message = _("Must not contain a NUL character (U+0000).")
    return {
        name.replace(NUL, "\\u0000"): [message]
        for name, value in record.items()
        if name not in FIELDS and (NUL in name or _holds_nul(value))
    }


def _holds_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _parse_time(value: Any, errors: dict, now: datetime) -> datetime | None:
    if not isinstance(value, str) or not value:
        errors["occurred_at"] = [_("Required: an RFC 3339 time with an offset, e.g. 2026-11-28T09:30:00+08:00.")]
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors["occurred_at"] = [_("Not an RFC 3339 time: %(value)s.") % {"value": value[:40]}]
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        errors["occurred_at"] = [_("The time has no offset; add Z or +08:00 so it is unambiguous.")]
        return None
    if moment > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = [_("More than 5 minutes in the future.")]
        return None
    if moment < EARLIEST:
        errors["occurred_at"] = [_("Before 2020; this cannot be a real call.")]
        return None
    return moment


def _digest(*parts: Any) -> bytes:
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).digest()


def _validate_fast(record: dict, index: int, latest: datetime) -> ValidRecord | None:
    """The common case, a well-formed record in our own token convention, checked without
    building error dicts. None sends the record to the full check, which names every error.
    Accepts exactly what the full check accepts and normalises identically (same digest)."""
    if not record.keys() <= FIELDS:
        return None
    get = record.get
    request_id = get("request_id")
    key_id = get("key_id")
    model = get("model")
    provider = get("provider")
    if provider is None:
        provider = ""
    input_tokens = get("input_tokens")
    output_tokens = get("output_tokens")
    cached = get("cached_input_tokens")
    if cached is None:
        cached = 0
    occurred = get("occurred_at")
    if not (
        type(request_id) is str
        and 0 < len(request_id) <= 128
        and type(key_id) is str
        and 0 < len(key_id) <= 40
        and type(model) is str
        and 0 < len(model) <= 100
        and type(provider) is str
        and len(provider) <= 40
        and type(input_tokens) is int
        and 0 <= input_tokens < MAX_TOKENS
        and type(output_tokens) is int
        and 0 <= output_tokens < MAX_TOKENS
        and type(cached) is int
        and 0 <= cached <= input_tokens
        and type(occurred) is str
        and occurred
        and NUL not in request_id
        and NUL not in key_id
        and NUL not in model
        and NUL not in provider
    ):
        return None
    try:
        moment = datetime.fromisoformat(occurred)
    except ValueError:
        return None
    if moment.utcoffset() is None:
        return None
    utc = moment.astimezone(UTC)  # compared in UTC: cheaper than across time zones
    if utc > latest or utc < EARLIEST:
        return None
    digest = hashlib.blake2b(
        f"{request_id}\x1f{key_id}\x1f{provider}\x1f{model}\x1f{input_tokens}\x1f{cached}\x1f{output_tokens}"
        f"\x1f{utc.isoformat()}".encode(),
        digest_size=16,
    ).digest()
    return ValidRecord(index, request_id, key_id, provider, model, input_tokens, cached, output_tokens, utc, digest)


def validate_record(record: Any, index: int, now: datetime) -> tuple[ValidRecord | None, dict]:
    """Check one record; return it normalised, or the field errors."""
    if type(record) is dict:
        fast = _validate_fast(record, index, now + FUTURE_TOLERANCE)
        if fast is not None:
            return fast, {}
    return _validate_full(record, index, now)


def _validate_full(record: Any, index: int, now: datetime) -> tuple[ValidRecord | None, dict]:
    """The full check, naming every error; ``_validate_fast`` must agree with it wherever it
    answers (tests/billing/test_ingest_properties.py pins the two together)."""
    if not isinstance(record, dict):
        return None, {"non_field_errors": [_("Each record must be a JSON object.")]}
    errors: dict[str, list[str]] = {}
    request_id = _str_field(record, "request_id", errors, max_length=128)
    key_id = _str_field(record, "key_id", errors, max_length=40)
    model = _str_field(record, "model", errors, max_length=100)
    provider = _str_field(record, "provider", errors, max_length=40, required=False)
    input_tokens = _int_field(record, "input_tokens", errors)
    output_tokens = _int_field(record, "output_tokens", errors)
    if "cache_read_input_tokens" in record or "cache_creation_input_tokens" in record:
        # Anthropic's convention: input_tokens excludes cache reads and cache writes.
        # Normalise to ours (input includes cached); cache writes are charged as input.
        cache_read = _int_field(record, "cache_read_input_tokens", errors, required=False)
        cache_write = _int_field(record, "cache_creation_input_tokens", errors, required=False)
        input_tokens += cache_read + cache_write
        cached = cache_read
    else:
        cached = _int_field(record, "cached_input_tokens", errors, required=False)
        if "cached_input_tokens" not in errors and "input_tokens" not in errors and cached > input_tokens:
            errors["cached_input_tokens"] = [_("Cannot exceed input_tokens (cached tokens are part of the input).")]
    occurred_at = _parse_time(record.get("occurred_at"), errors, now)
    errors.update(_nul_fields(record))
    if errors:
        return None, errors
    assert occurred_at is not None
    utc = occurred_at.astimezone(UTC)
    digest = _digest(request_id, key_id, provider, model, input_tokens, cached, output_tokens, utc.isoformat())
    return (
        ValidRecord(index, request_id, key_id, provider, model, input_tokens, cached, output_tokens, utc, digest),
        {},
    )
