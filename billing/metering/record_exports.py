"""The records behind a figure, as CSV: a bill line's or a usage-summary row's usage records,
so a customer who doubts a line can recompute it (money rule 2′ (docs/money-rules.md) per record, rule 5 over them).

This is the one regular read of the usage table besides repricing. Every query names the
customer and one month's range of ``occurred_at`` — the partition key, so PostgreSQL reads
one partition — and is served by ``billing_usagerecord_customer_time`` (customer_id,
occurred_at). The rows are read through a server-side cursor (``.iterator``) while the
response is sent, and for a cursor PostgreSQL walks that index in time order (EXPLAIN
DECLARE: Index Scan, then an Incremental Sort that only orders the records of one instant by
id): a line of a million calls is neither sorted whole nor held in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from billing.models import Bill, BillLine, UsageRecord
from billing.periods import billing_tz, format_period, period_bounds
from billing.pricing.cost import COUNT_FIELDS
from common.exports import csv_stream_response
from customers.models import ApiKey, Customer, Project

# The record's columns, in the file's order; the counts as money rule 2′ names them.
RECORD_CSV_COLUMNS = (
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
)
# COUNT_FIELDS → the usage table's column (cache reads are stored as cached_input_tokens).
_COUNT_COLUMNS = tuple("cached_input_tokens" if name == "cache_read_tokens" else name for name in COUNT_FIELDS)
_SELECT = (
    "request_id",
    "occurred_at",
    "api_key_id",
    "project_id",
    "provider",
    "model",
    "variant",
    "processing",
    "service_tier",
    *_COUNT_COLUMNS,
    "price_version_id",
    "currency",
    "cost",
)
CHUNK_ROWS = 2000  # rows fetched from the server-side cursor at a time


def _records_between(customer_id: int, start: datetime, end: datetime) -> QuerySet[UsageRecord]:
    """The customer's records with ``start <= occurred_at < end``: one partition, the index."""
    return UsageRecord.objects.filter(customer_id=customer_id, occurred_at__gte=start, occurred_at__lt=end)


def _records_of_period(customer_id: int, period: date) -> QuerySet[UsageRecord]:
    start, end = period_bounds(period)
    return _records_between(customer_id, start, end).filter(period=period)


def _variant_q(variant: str) -> Q:
    # A standard record stores NULL (billing.models.metering.UsageRecord.variant).
    return Q(variant__isnull=True) | Q(variant="standard") if variant == "standard" else Q(variant=variant)


def bill_line_records(*, bill: Bill, line: BillLine) -> QuerySet[UsageRecord]:
    """The records a bill line carries: the bill's customer, the line's project, provider,
    model and variant, usage of the line's period billed on the bill's period (a usage line's
    period is the bill's; an adjustment's an earlier one). Other kinds of line carry none."""
    if line.kind not in (BillLine.Kind.USAGE, BillLine.Kind.ADJUSTMENT):
        return UsageRecord.objects.none()
    records = _records_of_period(bill.customer_id, line.period).filter(
        project_id=line.project_id, provider=line.provider, model=line.model, bill_period=bill.period
    )
    return records.filter(_variant_q(line.variant))


def summary_row_records(
    *,
    customer: Customer,
    period: date,
    group_by: str,
    key: str = "",
    provider: str = "",
    project: Project | None = None,
) -> QuerySet[UsageRecord]:
    """The records behind one row of the usage summary of ``period`` (``key`` as the row
    shows it: a model, a project code, a key id, a day ``YYYY-MM-DD``; blank: every row,
    the period's total), of ``project`` when given. The usage the period's bill carries
    (CONTRACT "One figure"): records of the period billed on it, not late ones billed later
    as adjustments. An unknown project, key or a day outside the period → ValidationError
    naming ``key``."""
    records = _records_of_period(customer.pk, period).filter(bill_period=period)
    if project is not None:
        records = records.filter(project_id=project.pk)
    if provider:
        records = records.filter(provider=provider)
    if not key:
        return records
    if group_by == "model":
        return records.filter(model=key)
    if group_by == "project":
        found = customer.projects.filter(code=key).first()
        if found is None:
            raise ValidationError({"key": [_("No project with this code.")]})
        return records.filter(project_id=found.pk)
    if group_by == "api_key":
        found = ApiKey.objects.filter(customer=customer, key_id=key).first()
        if found is None:
            raise ValidationError({"key": [_("No API key with this id.")]})
        return records.filter(api_key_id=found.pk)
    try:
        day = date.fromisoformat(key)
    except ValueError:
        day = None
    if day is None or day.replace(day=1) != period:
        raise ValidationError(
            {"key": [_("Write the day as YYYY-MM-DD, in %(period)s.") % {"period": format_period(period)}]}
        )
    start = datetime.combine(day, time.min, tzinfo=billing_tz())
    return records.filter(day=day, occurred_at__gte=start, occurred_at__lt=start + timedelta(days=1))


def record_csv_rows(customer: Customer, records: QuerySet[UsageRecord]) -> Iterator[list]:
    """The file's rows, read from a server-side cursor in time order; the customer's key ids
    and project codes are looked up once, not joined per row."""
    keys = dict(ApiKey.objects.filter(customer=customer).values_list("pk", "key_id"))
    projects = dict(Project.objects.filter(customer=customer).values_list("pk", "code"))
    tz = billing_tz()
    counts = slice(9, 9 + len(_COUNT_COLUMNS))
    ordered = records.order_by("occurred_at", "id").values_list(*_SELECT)
    for row in ordered.iterator(chunk_size=CHUNK_ROWS):
        yield [
            row[0],
            row[1].astimezone(tz).isoformat(),  # RFC 3339 in BILLING_TIME_ZONE, whatever the reader's
            keys.get(row[2], ""),
            projects.get(row[3], ""),
            row[4],
            row[5],
            row[6] or "standard",
            row[7] or "standard",
            row[8] or "default",
            *(count or 0 for count in row[counts]),  # NULL is 0 (a bit stored, not eight bytes)
            row[-3],
            row[-2] or "",
            row[-1],  # unrounded, as stored; blank when unpriced
        ]


def records_csv_response(*, customer: Customer, records: QuerySet[UsageRecord], filename: str):
    """The records as a streamed CSV file, through the one export helper (formula-neutral)."""
    return csv_stream_response(
        header=RECORD_CSV_COLUMNS, rows=record_csv_rows(customer, records), filename=filename, bom=False
    )


def bill_line_for(bill: Bill, position: int) -> BillLine | None:
    return bill.lines.filter(position=position).first()


def bill_line_filename(bill: Bill, line: BillLine) -> str:
    return f"records-{bill.number or bill.pk}-line{line.position}.csv"


def summary_row_filename(customer: Customer, period: date, group_by: str, key: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)[:60]
    return f"records-{customer.code}-{format_period(period)}-{group_by}{'-' + safe if safe else ''}.csv"
