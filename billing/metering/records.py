"""Validating one usage record: the field errors a batch reports, the record a batch stores.

Two validators give the same answers (pinned by a property test): ``_validate_fast`` for
the common well-formed record in today's three counts, ``_validate_full`` for every other
record (the added counts and context of CONTRACT.md "Price dimensions", Anthropic's cache
fields, a provider ``response``) and to collect every field's error.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import orjson
from django.utils.translation import gettext as _
from genai_prices import data_snapshot

from billing.metering.rollups import UNIT_FIELDS
from billing.models import PriceVersion
from billing.pricing.cost import count_errors
from billing.pricing.pricemaps import PROCESSING_VALUES, SERVICE_TIER_RE

MAX_TOKENS = 10**12

FUTURE_TOLERANCE = timedelta(minutes=5)

EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)

# The fields of a record in today's three-count convention: the fast path takes a record with
# these alone; any other goes through the full check, which also refuses a NUL in them
# (PostgreSQL text and jsonb cannot hold U+0000).
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
# Anthropic's names, accepted before the price dimensions and still (input_tokens excludes the
# cache reads and writes there).
ANTHROPIC_FIELDS = frozenset({"cache_read_input_tokens", "cache_creation_input_tokens", "cache_creation"})
ANTHROPIC_TTL = {
    "ephemeral_5m_input_tokens": "cache_write_5m_tokens",
    "ephemeral_1h_input_tokens": "cache_write_1h_tokens",
}
# A record with only these fields keeps the digest it had before the price dimensions, so that
# the retry of a record sent before the upgrade stays a duplicate (see _digest_of).
LEGACY_FIELDS = FIELDS | ANTHROPIC_FIELDS
# Counts given in our own convention besides input and output tokens.
OWN_COUNTS = ("cached_input_tokens", "cache_read_tokens", *UNIT_FIELDS)
COUNT_NAMES = frozenset({"input_tokens", "output_tokens", *OWN_COUNTS} | ANTHROPIC_FIELDS)
CONTEXT_FIELDS = ("processing", "service_tier")
# The fields the fast path takes: ours, with the added counts and context.
DIMENSION_FIELDS = FIELDS | set(OWN_COUNTS) | set(CONTEXT_FIELDS)
KNOWN_FIELDS = LEGACY_FIELDS | set(OWN_COUNTS) | {*CONTEXT_FIELDS, "response", "api_flavor"}
MAX_UNKNOWN_NAMED = 20
# A provider response is read, never stored when accepted: bounded by its size (and, as the
# whole body, by MAX_DEPTH in billing.metering.ingest).
MAX_RESPONSE_BYTES = 64 * 1024
# What genai-prices' extractors may report that a record need not keep: the text and tool
# shares of input and output, which are priced as input and output by the chain of units.
DROPPED_UNITS = frozenset(
    {"input_text_tokens", "output_text_tokens", "cache_text_read_tokens", "input_tool_tokens", "input_text_tool_tokens"}
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
    cached_input_tokens: int  # the contract's cache_read_tokens
    output_tokens: int
    occurred_at: datetime
    digest: bytes
    units: dict[str, int] | None = None  # the non-zero counts of UNIT_FIELDS; None when there are none
    processing: str | None = None  # None: standard
    service_tier: str | None = None  # None: default (absent)
    # filled by resolution
    api_key: KeyIds | None = None
    resolved_provider: str = ""
    resolved_model: str = ""
    price: PriceVersion | None = None
    cost: Decimal | None = None

    def counts(self) -> dict[str, int]:
        """The counts as money rule 2′ (docs/money-rules.md) names them (billing.pricing.cost.COUNT_FIELDS)."""
        counts = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cached_input_tokens,
        }
        if self.units:
            counts.update(self.units)
        return counts


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
    Accepts only what the full check accepts and normalises identically (same digest); a
    record with added counts or context it takes too, unless its parts need the full
    decomposition to be judged (see _with_dimensions)."""
    keys = record.keys()
    legacy = keys <= FIELDS
    if not legacy and not keys <= DIMENSION_FIELDS:
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
    if not legacy:
        cache_read = get("cache_read_tokens")
        if cached is None:
            cached = cache_read
        elif cache_read is not None and (type(cache_read) is not int or cache_read != cached):
            return None
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
    if not legacy:
        return _with_dimensions(
            record, index, request_id, key_id, provider, model, input_tokens, cached, output_tokens, utc
        )
    digest = hashlib.blake2b(
        f"{request_id}\x1f{key_id}\x1f{provider}\x1f{model}\x1f{input_tokens}\x1f{cached}\x1f{output_tokens}"
        f"\x1f{utc.isoformat()}".encode(),
        digest_size=16,
    ).digest()
    return ValidRecord(index, request_id, key_id, provider, model, input_tokens, cached, output_tokens, utc, digest)


def _with_dimensions(
    record: dict,
    index: int,
    request_id: str,
    key_id: str,
    provider: str,
    model: str,
    input_tokens: int,
    cached: int,
    output_tokens: int,
    utc: datetime,
) -> ValidRecord | None:
    """The fast path's added counts and context. Parts are checked by sums that imply every
    leaf of billing.pricing.cost.count_errors is non-negative (the parts of a whole never
    overlap here but for cache_audio_read_tokens, held to both its wholes); a record these
    sums refuse goes to the full check, which names the part."""
    get = record.get
    units = {}
    for name in UNIT_FIELDS:
        value = get(name)
        if value is not None:
            if type(value) is not int or not 0 <= value < MAX_TOKENS:
                return None
            if value:
                units[name] = value
    processing = get("processing")
    if processing is None or processing == "standard":
        processing = None
    elif processing != "batch":
        return None
    service_tier = get("service_tier")
    if service_tier is None or service_tier == "default":
        service_tier = None
    elif type(service_tier) is not str or not SERVICE_TIER_RE.match(service_tier):
        return None
    if units:
        count = units.get
        write = count("cache_write_tokens", 0)
        audio = count("input_audio_tokens", 0)
        if (
            cached + write + audio + count("input_image_tokens", 0) > input_tokens
            or count("cache_write_5m_tokens", 0) + count("cache_write_1h_tokens", 0) > write
            or count("cache_audio_read_tokens", 0) > min(cached, audio)
            or count("output_reasoning_tokens", 0) + count("output_audio_tokens", 0) + count("output_image_tokens", 0)
            > output_tokens
        ):
            return None
    else:
        units = None
    digest = _record_digest(
        request_id, key_id, provider, model, input_tokens, cached, output_tokens, utc, units, processing, service_tier
    )
    return ValidRecord(
        index,
        request_id,
        key_id,
        provider,
        model,
        input_tokens,
        cached,
        output_tokens,
        utc,
        digest,
        units,
        processing,
        service_tier,
    )


def _record_digest(
    request_id, key_id, provider, model, input_tokens, cached, output_tokens, utc, units, processing, service_tier
) -> bytes:
    """The idempotency digest: today's eight fields as before the price dimensions (so the
    retry of a record sent before them stays a duplicate), then, when the record has any added
    count or context, the context and each non-zero added count by name, in UNIT_FIELDS order."""
    text = (
        f"{request_id}\x1f{key_id}\x1f{provider}\x1f{model}\x1f{input_tokens}\x1f{cached}\x1f{output_tokens}"
        f"\x1f{utc.isoformat()}"
    )
    if units or processing or service_tier:
        counted = ",".join([f"{name}={units[name]}" for name in UNIT_FIELDS if name in units]) if units else ""
        text += f"\x1fv2\x1f{processing or ''}\x1f{service_tier or ''}\x1f{counted}"
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


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
    unknown = [name for name in record if name not in KNOWN_FIELDS]
    for name in unknown[:MAX_UNKNOWN_NAMED]:
        errors[_escaped(name)[:100]] = [
            _("Unknown field: a usage record takes the fields of the contract only (nothing is dropped).")
        ]
    request_id = _str_field(record, "request_id", errors, max_length=128)
    key_id = _str_field(record, "key_id", errors, max_length=40)
    provider = _str_field(record, "provider", errors, max_length=40, required=False)
    if "response" in record:
        model, counts, tier_sent = _read_response(record, provider, errors)
    else:
        model = _str_field(record, "model", errors, max_length=100)
        counts = _read_counts(record, errors)
        tier_sent = None
        if "api_flavor" in record:
            errors["api_flavor"] = [_("Only with response: it says which kind of provider response that is.")]
    processing = record.get("processing")
    if processing is None or processing == "standard":
        processing = None
    elif processing not in PROCESSING_VALUES:
        errors["processing"] = [_("Either standard or batch.")]
    service_tier = record.get("service_tier", tier_sent)
    if service_tier is None or service_tier == "default":
        service_tier = None
    elif not (isinstance(service_tier, str) and SERVICE_TIER_RE.match(service_tier)):
        field = "service_tier" if "service_tier" in record else "response"
        errors[field] = [_("A service tier is 1 to 20 lowercase letters, digits or _ (e.g. default, flex, priority).")]
    occurred_at = _parse_time(record.get("occurred_at"), errors, now)
    for name, message in _nul_fields(record).items():
        errors.setdefault(name, message)
    if errors:
        return None, errors
    assert occurred_at is not None and counts is not None
    utc = occurred_at.astimezone(UTC)
    input_tokens = counts.pop("input_tokens")
    output_tokens = counts.pop("output_tokens")
    cached = counts.pop("cache_read_tokens")
    units = {name: value for name, value in counts.items() if value} or None
    if record.keys() <= LEGACY_FIELDS:
        # Sent as before the price dimensions (Anthropic's cache writes included): the digest
        # it had then, so that its retry stays a duplicate.
        digest = _record_digest(
            request_id, key_id, provider, model, input_tokens, cached, output_tokens, utc, None, None, None
        )
    else:
        digest = _record_digest(
            request_id,
            key_id,
            provider,
            model,
            input_tokens,
            cached,
            output_tokens,
            utc,
            units,
            processing,
            service_tier,
        )
    return (
        ValidRecord(
            index,
            request_id,
            key_id,
            provider,
            model,
            input_tokens,
            cached,
            output_tokens,
            utc,
            digest,
            units,
            processing,
            service_tier,
        ),
        {},
    )


def _read_counts(record: dict, errors: dict) -> dict[str, int] | None:
    """The counts of a record that gives them (our convention, or Anthropic's), named as money
    rule 2′ names them; None when one is invalid (its error is in ``errors``)."""
    before = len(errors)
    counts = {name: _int_field(record, name, errors, required=False) for name in UNIT_FIELDS}
    counts["input_tokens"] = _int_field(record, "input_tokens", errors)
    counts["output_tokens"] = _int_field(record, "output_tokens", errors)
    cached = _int_field(record, "cached_input_tokens", errors, required=False)
    cache_read = _int_field(record, "cache_read_tokens", errors, required=False)
    if "cached_input_tokens" in record and "cache_read_tokens" in record and cached != cache_read:
        errors["cache_read_tokens"] = [_("Differs from cached_input_tokens, which is the same count; send one.")]
    cache_read = cache_read if "cache_read_tokens" in record else cached
    if record.keys() & ANTHROPIC_FIELDS:
        # Anthropic's convention: input_tokens excludes the cache reads and writes, which are
        # counts of their own; normalised to ours (input_tokens is the total).
        for name in ("cache_read_tokens", "cache_write_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"):
            if name in record:
                errors[name] = [_("Not together with Anthropic's cache fields; send one convention.")]
        read = _int_field(record, "cache_read_input_tokens", errors, required=False)
        if "cached_input_tokens" in record and "cache_read_input_tokens" in record and cached != read:
            errors["cached_input_tokens"] = [
                _("Differs from cache_read_input_tokens, which is the same count; send one.")
            ]
        cache_read = read if "cache_read_input_tokens" in record else cache_read
        write = _int_field(record, "cache_creation_input_tokens", errors, required=False)
        split = record.get("cache_creation")
        if split is not None:
            if not isinstance(split, dict):
                errors["cache_creation"] = [
                    _("Must be an object of ephemeral_5m_input_tokens and ephemeral_1h_input_tokens.")
                ]
            else:
                for name in split:
                    if name not in ANTHROPIC_TTL:
                        errors["cache_creation." + _escaped(name)[:60]] = [_("Unknown field.")]
                for name, count in ANTHROPIC_TTL.items():
                    counts[count] = _int_field(split, name, errors, required=False)
                    if f"{name}" in errors:
                        errors[f"cache_creation.{name}"] = errors.pop(name)
                if "cache_creation_input_tokens" not in record:
                    write = counts["cache_write_5m_tokens"] + counts["cache_write_1h_tokens"]
        counts["cache_write_tokens"] = write
        counts["input_tokens"] += cache_read + write
    counts["cache_read_tokens"] = cache_read
    if len(errors) > before:
        return None
    if counts["input_tokens"] >= MAX_TOKENS:
        errors["input_tokens"] = [_("Too large to be a token count.")]
        return None
    for part, message in count_errors(counts).items():
        errors[_sent_name(part, record)] = [_("A part larger than its whole: %(detail)s.") % {"detail": message}]
    return None if len(errors) > before else counts


def _sent_name(part: str, record: dict) -> str:
    """The field the record sent for count ``part`` (what an error names)."""
    if part == "cache_read_tokens" and "cache_read_tokens" not in record:
        return "cache_read_input_tokens" if "cache_read_input_tokens" in record else "cached_input_tokens"
    for name, count in ANTHROPIC_TTL.items():
        if part == count and "cache_creation" in record:
            return f"cache_creation.{name}"
    return part


def _escaped(name: Any) -> str:
    return str(name).replace(NUL, "\\u0000")


def _read_response(record: dict, provider: str, errors: dict) -> tuple[str, dict[str, int] | None, Any]:
    """The model, the counts and the service tier of a record that carries the provider's
    ``response``, read with genai-prices' extractor for ``provider`` and ``api_flavor``."""
    for name in record.keys() & COUNT_NAMES:
        errors[name] = [_("Not together with response: the counts are read from the response.")]
    response = record["response"]
    flavor = record.get("api_flavor", "default")
    if not isinstance(flavor, str) or not 0 < len(flavor) <= 20:
        errors["api_flavor"] = [_("A genai-prices API flavour (default, chat, responses, …).")]
        return "", None, None
    if not provider:
        errors.setdefault("provider", [_("Required with response: it says whose response that is.")])
        return "", None, None
    if not isinstance(response, dict):
        errors["response"] = [_("Must be the provider's JSON response (an object).")]
        return "", None, None
    try:
        size = len(orjson.dumps(response))
    except (TypeError, orjson.JSONEncodeError):  # NaN and ±Infinity are fine; an int beyond 64 bits is not
        size = MAX_RESPONSE_BYTES + 1
    if size > MAX_RESPONSE_BYTES:
        errors["response"] = [_("At most %(n)d bytes: send the part with model and usage.") % {"n": MAX_RESPONSE_BYTES}]
        return "", None, None
    try:
        reader = data_snapshot.get_snapshot().find_provider(None, provider, None)
        model, usage = reader.extract_usage(response, api_flavor=flavor)
    except LookupError:
        errors["provider"] = [_("genai-prices reads no responses of this provider.")]
        return "", None, None
    except Exception as exc:  # noqa: BLE001 - the extractor raises ValueError, TypeError, … on a bad response
        errors["response"] = [
            _("Not a %(provider)s %(flavor)s response genai-prices can read: %(error)s")
            % {"provider": provider, "flavor": flavor, "error": str(exc)[:200]}
        ]
        return "", None, None
    sent_model = record.get("model")
    if not isinstance(model, str) or not 0 < len(model) <= 100 or NUL in model:
        errors["response"] = [_("The response names no model (or one longer than 100 characters).")]
        return "", None, None
    if sent_model is not None and sent_model != model:
        errors["model"] = [_("Differs from the response's model (%(model)s); send one.") % {"model": model[:100]}]
    counts = dict.fromkeys(UNIT_FIELDS, 0)
    counts.update(input_tokens=0, output_tokens=0, cache_read_tokens=0)
    for name, value in vars(usage).items():
        if not value or name in DROPPED_UNITS:
            continue
        if name not in counts:
            errors["response"] = [_("Carries %(unit)s, which a usage record cannot hold.") % {"unit": name}]
            return model, None, None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_TOKENS:
            errors["response"] = [_("%(unit)s is not a whole number of tokens.") % {"unit": name}]
            return model, None, None
        counts[name] = value
    problems = count_errors(counts)
    if problems:
        detail = "; ".join(problems.values())
        errors["response"] = [_("A part larger than its whole: %(detail)s.") % {"detail": detail}]
        return model, None, None
    tier = response.get("service_tier")
    if tier is None and isinstance(response.get("usage"), dict):
        tier = response["usage"].get("service_tier")
    return model, counts, tier
