"""Bulk usage ingestion: validate, resolve, price and store a batch exactly once.

The path, per batch (see README, "How the money flows", step 1, and "Storage and growth"):

1. Validate each record in Python; collect per-record field errors. The first valid
   record with a ``request_id`` counts; later ones in the batch are duplicates (same
   content) or conflicts (different content).
2. Resolve ``key_id`` → (customer, project, key) and ``(provider, model)`` → price
   versions with one query each; price every record (money rule 2′, docs/money-rules.md, unrounded Decimal;
   a context no variant names leaves the record unpriced, as an unknown model does).
3. In ONE transaction: shared advisory lock per customer (month close takes it
   exclusively, so a record's bill period is decided consistently), COPY the batch into a
   temporary staging table, claim its ``request_id``s in the ledger with
   ``INSERT … ON CONFLICT DO NOTHING`` in ledger-key order (concurrent batches wait
   for each other instead of double counting, and cannot deadlock), insert the claimed
   records into the partitioned usage table, upsert the daily rollups in key order, and
   keep rejected records in quarantine. A failure anywhere rolls the whole batch back.
"""

from __future__ import annotations

import gc
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.metering.evaluation_requests import budget_evaluation_request
from billing.metering.partitions import ensure_partitions
from billing.metering.records import KeyIds, ValidRecord, validate_record
from billing.metering.rollups import (
    RECORD_GROUP_SQL,
    RECORD_KEY_SQL,
    RECORD_SUMS_SQL,
    ROLLUP_KEY,
    ROLLUP_MERGE,
    ROLLUP_SUMS,
    UNIT_FIELDS,
    USAGE_LOCK_NAMESPACE,
)
from billing.models import ClosedPeriod, QuarantinedRecord
from billing.periods import billing_tz, next_period
from billing.pricing.cost import exact_context, price_plan, variant_name
from billing.pricing.index import PriceIndex
from customers.models import ApiKey

logger = logging.getLogger(__name__)

MAX_RECORDS = 10_000
MAX_BODY_BYTES = 10 * 1024 * 1024
# A record is a flat object; the envelope and a record add two levels. Deeper bodies are
# refused whole (the parsers and the quarantine copy would otherwise recurse without end).
MAX_DEPTH = 16


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    unpriced: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    customer_ids: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "unpriced": self.unpriced,
            "conflicts": self.conflicts,
            "rejected": self.rejected,
        }


# --- Resolution and pricing -----------------------------------------------------------


# --- The batch ------------------------------------------------------------------------

# Key columns collate as "C" (byte order), as the ledger's and the rollups' keys do: sorting
# and comparing them is then a memcmp instead of a locale's collation (bench/README.md, "Ingestion").
STAGING_DDL = """
CREATE TEMP TABLE IF NOT EXISTS usage_staging (
    idx integer NOT NULL,
    request_id varchar(128) COLLATE "C" NOT NULL,
    content_hash bytea NOT NULL,
    customer_id bigint NOT NULL,
    project_id bigint NOT NULL,
    api_key_id bigint NOT NULL,
    provider varchar(40) COLLATE "C" NOT NULL,
    model varchar(100) COLLATE "C" NOT NULL,
    input_tokens bigint NOT NULL,
    cached_input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    occurred_at timestamptz NOT NULL,
    day date NOT NULL,
    period date NOT NULL,
    bill_period date NOT NULL,
    price_version_id bigint,
    currency varchar(3),
    cost numeric(38, 16),{units}
    processing varchar(10),
    service_tier varchar(20),
    variant varchar(50) COLLATE "C"
) ON COMMIT DELETE ROWS
""".format(units="".join(f"\n    {name} bigint," for name in UNIT_FIELDS))
# Column → type for the binary COPY (psycopg needs the types to dump binary values).
STAGING_COLUMNS = (
    ("idx", "int4"),
    ("request_id", "text"),
    ("content_hash", "bytea"),
    ("customer_id", "int8"),
    ("project_id", "int8"),
    ("api_key_id", "int8"),
    ("provider", "text"),
    ("model", "text"),
    ("input_tokens", "int8"),
    ("cached_input_tokens", "int8"),
    ("output_tokens", "int8"),
    ("occurred_at", "timestamptz"),
    ("day", "date"),
    ("period", "date"),
    ("bill_period", "date"),
    ("price_version_id", "int8"),
    ("currency", "text"),
    ("cost", "numeric"),
)
# A batch with any added count or context copies these too (NULL: 0 or the default); a batch
# of today's three-count records does not pay for them.
DIMENSION_COLUMNS = (
    *[(name, "int8") for name in UNIT_FIELDS],
    ("processing", "text"),
    ("service_tier", "text"),
    ("variant", "text"),
)


def _copy_sql(columns) -> str:
    return f"COPY usage_staging ({', '.join(c for c, _t in columns)}) FROM STDIN (FORMAT BINARY)"


COPY_SQL = _copy_sql(STAGING_COLUMNS)
COPY_DIMENSIONS_SQL = _copy_sql(STAGING_COLUMNS + DIMENSION_COLUMNS)
STAGING_TYPES = [t for _c, t in STAGING_COLUMNS]
DIMENSION_TYPES = STAGING_TYPES + [t for _c, t in DIMENSION_COLUMNS]

# The common case, none of the batch's request_ids known yet: a plain INSERT claims them all
# (one index descent per id; ON CONFLICT checks, then inserts, then confirms). It runs under
# a savepoint; a unique violation (a retried batch, or one overlapping a concurrent batch)
# rolls back to it and CLAIM_SQL sorts the ids out. Same order, so no deadlocks either way.
# The ledger's key for a request id (billing.models.UsageRequest); the benchmarks' SQL and
# migration 0012 spell the same expression.
REQUEST_KEY_SQL = "md5({})::uuid"
CLAIM_ALL_SQL = f"""
INSERT INTO billing_usagerequest (key, request_id, content_hash, received_at)
SELECT {REQUEST_KEY_SQL.format("request_id")}, request_id, content_hash, %s FROM usage_staging
ORDER BY {REQUEST_KEY_SQL.format("request_id")}"""

# Claim the batch's request_ids in the ledger, then drop from staging the rows another batch
# already claimed and return them (usually none: no write to staging at all). Staging then
# holds exactly the accepted records, which the next two statements copy and sum.
CLAIM_SQL = f"""
WITH claimed AS ({CLAIM_ALL_SQL}
    ON CONFLICT (key) DO NOTHING
    RETURNING request_id
)
DELETE FROM usage_staging s
WHERE NOT EXISTS (SELECT FROM claimed c WHERE c.request_id = s.request_id)
RETURNING s.idx, s.request_id, s.content_hash, s.price_version_id IS NULL
"""

_RECORD_COLUMNS = (
    "request_id, customer_id, project_id, api_key_id, provider, model, input_tokens, cached_input_tokens, "
    "output_tokens, occurred_at, day, period, bill_period, price_version_id, currency, cost, "
    + ", ".join(UNIT_FIELDS)
    + ", processing, service_tier, variant"
)
RECORDS_SQL = f"""
INSERT INTO billing_usagerecord ({_RECORD_COLUMNS}, received_at)
SELECT {_RECORD_COLUMNS}, %s
FROM usage_staging
"""

ROLLUP_SQL = (
    f"""
INSERT INTO billing_usagerollup AS r ({", ".join(ROLLUP_KEY)}, currency, period, {", ".join(ROLLUP_SUMS)})
SELECT {RECORD_KEY_SQL}, coalesce(currency, ''), period, {RECORD_SUMS_SQL}
FROM usage_staging
GROUP BY {RECORD_GROUP_SQL}, currency, period
ORDER BY {RECORD_GROUP_SQL}
"""
    + ROLLUP_MERGE
)


# One round trip for every customer's shared lock, taken in the order of the array (sorted).
LOCK_SQL = "SELECT count(pg_advisory_xact_lock_shared(%s, c)) FROM unnest(%s::int4[]) AS c"


def _bill_periods(customer_ids: set[int], periods: set[date]) -> dict[tuple[int, date], date]:
    """For each (customer, period): the period whose bill carries that usage."""
    closed = set(
        ClosedPeriod.objects.filter(customer_id__in=customer_ids, period__gte=min(periods)).values_list(
            "customer_id", "period"
        )
    )
    result = {}
    for customer_id in customer_ids:
        for period in periods:
            target = period
            while (customer_id, target) in closed:
                target = next_period(target)
            result[(customer_id, period)] = target
    return result


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a batch is parsed and ingested.

    A batch allocates tens of thousands of containers (the parsed records, their normalised
    copies, the rows) that live until the batch ends and are freed by reference counting,
    not by the collector; while they live, they push it into full collections that walk the
    whole heap of the process (tens of milliseconds each; about 3 µs a record amortised in the
    profile of issue 20). A batch is bounded (MAX_RECORDS, MAX_BODY_BYTES), so the garbage
    it could leave is too; the collector runs again as soon as the batch ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _storable(value: Any) -> Any:
    """A record as sent, storable as jsonb: JSON's parser reads NaN and ±Infinity, which jsonb
    refuses, so they are kept as the strings "NaN", "Infinity" and "-Infinity"; PostgreSQL
    text cannot hold NUL, so a NUL in a string or a name is kept as the six characters
    ``\\u0000``. (The view refuses a body nested deeper than MAX_DEPTH, so this recursion
    is bounded.)"""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return value.replace("\x00", "\\u0000")
    if isinstance(value, dict):
        return {_storable(str(k)): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def usage_ingest_batch(*, records: list[Any], source=None, now: datetime | None = None) -> BatchResult:
    """Validate, price and store a batch; see the module docstring. Retries are idempotent."""
    now = now or timezone.now()
    result = BatchResult()
    rejected: list[tuple[int, Any, dict]] = []
    first_by_id: dict[str, ValidRecord] = {}

    checked: list[ValidRecord] = []
    for index, raw in enumerate(records):
        record, errors = validate_record(raw, index, now)
        if record is None:
            rejected.append((index, raw, errors))
        else:
            checked.append(record)

    keys = {
        key_id: KeyIds(pk, customer_id, project_id)
        for key_id, pk, customer_id, project_id in ApiKey.objects.filter(
            key_id__in={r.key_id for r in checked}
        ).values_list("key_id", "id", "customer_id", "project_id")
    }
    prices = PriceIndex({r.model for r in checked})
    tz = billing_tz()
    priced: list[ValidRecord] = []
    resolutions: dict[tuple[str, str], tuple[str, str] | None] = {}
    plans = {}
    with exact_context():  # money rule 2′'s precision, set once for the batch
        for record in checked:
            # Resolve before de-duplicating: a record rejected here claims no request_id, so a
            # later valid record with the same id in this batch is the one that counts.
            key = keys.get(record.key_id)
            if key is None:
                rejected.append((record.index, records[record.index], {"key_id": [_("No API key has this key_id.")]}))
                continue
            sent = (record.provider, record.model)
            try:
                resolved = resolutions[sent]
            except KeyError:
                resolved = resolutions[sent] = prices.resolve(*sent)
            if resolved is None:  # several providers sell it: the customer's or the default one
                resolved = prices.resolve(*sent, customer_id=key.customer_id)
            if resolved is None:
                providers = ", ".join(sorted(prices.providers_of[record.model]))
                message = _("Several providers sell this model (%(providers)s); send provider.") % {
                    "providers": providers
                }
                rejected.append((record.index, records[record.index], {"provider": [message]}))
                continue
            first = first_by_id.get(record.request_id)
            if first is not None:
                if first.digest == record.digest:
                    result.duplicates += 1
                else:
                    result.conflicts.append({"index": record.index, "request_id": record.request_id})
                continue
            first_by_id[record.request_id] = record
            record.api_key = key
            record.resolved_provider, record.resolved_model = resolved
            price = prices.price_at(*resolved, record.occurred_at)
            if price is not None:
                plan = plans.get(price.pk)
                if plan is None:
                    plan = plans[price.pk] = price_plan(price)
                if record.processing is None and record.service_tier is None:
                    record.cost = plan.cost(record.counts(), record.occurred_at)
                else:
                    record.cost = plan.cost(
                        record.counts(),
                        record.occurred_at,
                        record.processing or "standard",
                        record.service_tier or "default",
                    )
                # A context no variant of the version names: unpriced, held as an unknown model is.
                record.price = price if record.cost is not None else None
            priced.append(record)

    rejected.sort(key=lambda item: item[0])
    result.rejected = [
        {"index": i, "request_id": _storable(raw.get("request_id")) if isinstance(raw, dict) else None, "errors": errs}
        for i, raw, errs in rejected
    ]
    days = {r.index: r.occurred_at.astimezone(tz).date() for r in priced}
    periods = {d.replace(day=1) for d in days.values()}
    if periods:
        ensure_partitions(periods)

    for attempt in range(3):
        try:
            _write_batch(records, priced, days, periods, rejected, result, source, now)
            break
        except OperationalError as exc:  # deadlock or serialization failure: the batch is rolled back
            if attempt == 2 or "deadlock" not in str(exc).lower():
                raise
            logger.warning("usage batch retried after deadlock", extra={"attempt": attempt + 1})
    if result.accepted:
        customer_ids = result.customer_ids
        transaction.on_commit(lambda: budget_evaluation_request(customer_ids=customer_ids), robust=True)
    return result


def _write_batch(records, priced, days, periods, rejected, result: BatchResult, source, now) -> None:
    result.accepted = 0
    result.unpriced = 0
    duplicates_in_batch = result.duplicates
    conflicts_in_batch = list(result.conflicts)
    with transaction.atomic():
        customer_ids = sorted({r.api_key.customer_id for r in priced})
        with connection.cursor() as cursor:
            if customer_ids:
                cursor.execute(LOCK_SQL, [USAGE_LOCK_NAMESPACE, customer_ids])
            bill_period = _bill_periods(set(customer_ids), periods) if priced else {}
            cursor.execute(STAGING_DDL)
            # Empty already (ON COMMIT DELETE ROWS) unless an outer transaction is still open.
            cursor.execute("DELETE FROM usage_staging")
            unpriced = 0
            # The raw psycopg COPY, with Django's error translation around it: a connection lost
            # mid-COPY is a django.db OperationalError like any other query's (the API's 503).
            dimensions = any(r.units or r.processing or r.service_tier for r in priced)
            copy_sql = COPY_DIMENSIONS_SQL if dimensions else COPY_SQL
            with connection.wrap_database_errors, cursor.cursor.copy(copy_sql) as copy:
                copy.set_types(DIMENSION_TYPES if dimensions else STAGING_TYPES)
                write_row = copy.write_row
                period_of = {day: day.replace(day=1) for day in set(days.values())}
                for r in priced:
                    day = days[r.index]
                    period = period_of[day]
                    key = r.api_key
                    price = r.price
                    if price is None:
                        unpriced += 1
                    row = (
                        r.index,
                        r.request_id,
                        r.digest,
                        key.customer_id,
                        key.project_id,
                        key.id,
                        r.resolved_provider,
                        r.resolved_model,
                        r.input_tokens,
                        r.cached_input_tokens,
                        r.output_tokens,
                        r.occurred_at,
                        day,
                        period,
                        bill_period[(key.customer_id, period)],
                        price.id if price else None,
                        price.currency if price else None,
                        r.cost,
                    )
                    if dimensions:
                        units = r.units or {}
                        variant = None  # standard
                        if r.processing or r.service_tier:
                            variant = variant_name(r.processing or "standard", r.service_tier or "default")
                        row += (
                            *[units.get(name) for name in UNIT_FIELDS],
                            r.processing,
                            r.service_tier,
                            None if variant == "standard" else variant,
                        )
                    write_row(row)
            not_claimed = []
            try:
                with transaction.atomic():
                    cursor.execute(CLAIM_ALL_SQL, [now])
            except IntegrityError as exc:
                if getattr(exc.__cause__, "sqlstate", None) != "23505":  # unique_violation
                    raise
                cursor.execute(CLAIM_SQL, [now])
                not_claimed = cursor.fetchall()
            cursor.execute(RECORDS_SQL, [now])
            cursor.execute(ROLLUP_SQL)
            result.accepted = len(priced) - len(not_claimed)
            result.unpriced = unpriced - sum(1 for *_r, is_unpriced in not_claimed if is_unpriced)
            repeats = []
            if not_claimed:
                # A new statement, so that it sees the ledger rows of batches that committed
                # while the claim waited for them. Every id not claimed has its ledger row: the
                # same id with the same digest is a duplicate, anything else a conflict
                # (including another id holding the same key).
                cursor.execute(
                    "SELECT r.id, l.content_hash FROM unnest(%s::text[]) AS r(id) "
                    f"JOIN billing_usagerequest l ON l.key = {REQUEST_KEY_SQL.format('r.id')} AND l.request_id = r.id",
                    [[rid for _i, rid, _h, _u in not_claimed]],
                )
                recorded = {rid: bytes(digest) for rid, digest in cursor.fetchall()}
                repeats = [(i, rid, recorded.get(rid) == bytes(digest)) for i, rid, digest, _u in sorted(not_claimed)]
        result.duplicates = duplicates_in_batch + sum(1 for _i, _r, same in repeats if same)
        result.conflicts = sorted(
            conflicts_in_batch + [{"index": i, "request_id": rid} for i, rid, same in repeats if not same],
            key=lambda c: c["index"],
        )
        result.customer_ids = set(customer_ids)
        quarantine = [
            QuarantinedRecord(
                source=source if getattr(source, "pk", None) else None,
                batch_index=i,
                request_id=_storable(str(raw.get("request_id", "")))[:200] if isinstance(raw, dict) else "",
                payload=_storable(raw if isinstance(raw, dict) else {"value": raw}),
                errors=errs,
            )
            for i, raw, errs in rejected
        ]
        quarantine += [
            QuarantinedRecord(
                source=source if getattr(source, "pk", None) else None,
                batch_index=c["index"],
                request_id=c["request_id"],
                payload=_storable(records[c["index"]]),
                errors={"request_id": [str(_("Already recorded with different content; nothing was changed."))]},
            )
            for c in result.conflicts
        ]
        if quarantine:
            QuarantinedRecord.objects.bulk_create(quarantine)
