"""Syncing a gateway's logs into our usage records, and the daily comparison of its sums
with ours (CONTRACT "Gateway connectors"; README "Connecting your gateway").

A sync reads the consume rows from the source's watermark minus a 10-minute overlap, one
keyset page at a time; each page is ONE transaction: its records through the ingestion
service (idempotent on request id, so the overlap adds nothing twice), its unmapped and
rejected rows quarantined once, and the watermark moved to the newest created_at of the
page. A connection lost between pages keeps what committed; the next run starts again
from the watermark, so nothing is lost or doubled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_slug
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.budgets.alerts import finance_addresses, staff_notify
from billing.metering.ingest import usage_ingest_batch
from billing.models import QuarantinedRecord, UsageRecord
from billing.periods import billing_tz
from customers.models import ApiKey
from gateways.models import DayCheck, GatewaySource, HeldLog
from gateways.newapi import (
    PAGE_SIZE,
    GatewayUnreachable,
    LogReader,
    LogRow,
    external_id_of,
    read_ahead,
    record_of,
    redacted,
)

logger = logging.getLogger(__name__)

OVERLAP_SECONDS = 600
# pg_try_advisory_lock(namespace, source id): one sync of a source at a time (beat runs every
# minute; a long first sync must not be joined by a second one).
SYNC_LOCK_NAMESPACE = 7_310_022


@dataclass
class SyncResult:
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    unmapped: int = 0
    rejected: int = 0
    unpriced: int = 0
    pages: int = 0
    skipped: bool = False  # another sync of the source was running
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"read {self.read}, accepted {self.accepted}, duplicates {self.duplicates}, "
            f"unmapped {self.unmapped}, rejected {self.rejected}"
        )

    def counts(self) -> dict[str, int]:
        return {
            "read": self.read,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "unmapped": self.unmapped,
            "rejected": self.rejected,
            "unpriced": self.unpriced,
        }


def configured_sources() -> dict[str, str]:
    """``GATEWAY_LOG_SOURCES`` (``name=URL,…``) as {name: URL}; a malformed entry is an error
    naming it (without its password)."""
    sources: dict[str, str] = {}
    for entry in filter(None, (e.strip() for e in settings.GATEWAY_LOG_SOURCES.split(","))):
        name, sep, url = entry.partition("=")
        name, url = name.strip(), url.strip()
        if not sep or not name or not url:
            raise ImproperlyConfigured(f"GATEWAY_LOG_SOURCES: {redacted(entry)!r} is not name=URL")
        source_name_check(name)
        sources[name] = url
    return sources


def source_name_check(name: str) -> str:
    try:
        validate_slug(name)
    except ValidationError as exc:
        raise ImproperlyConfigured(f"source name {name!r}: letters, digits, - and _ only") from exc
    if len(name) > 40:
        raise ImproperlyConfigured(f"source name {name!r}: at most 40 characters")
    return name


# --- The sync ---------------------------------------------------------------------------


def _hold(source: GatewaySource, rows: list[tuple[LogRow, dict, dict, str]]) -> None:
    """Quarantine rows that became no record, once each: (row, payload, errors, reason)."""
    if not rows:
        return
    quarantined = QuarantinedRecord.objects.bulk_create(
        [
            QuarantinedRecord(batch_index=0, request_id=payload["request_id"], payload=payload, errors=errors)
            for _row, payload, errors, _reason in rows
        ]
    )
    HeldLog.objects.bulk_create(
        [
            HeldLog(source=source, log_id=row.id, log_created_at=row.created_at, reason=reason, quarantined=q)
            for (row, _p, _e, reason), q in zip(rows, quarantined, strict=True)
        ],
        ignore_conflicts=True,
    )


# A page as the read-ahead thread hands it over: each row with its key's external id and its
# record without the key (or the errors keeping it from being one).
Made = list[tuple[LogRow, str, dict | None, dict]]


def _made(source_name: str, page: list[LogRow]) -> Made:
    return [(row, external_id_of(source_name, row), *record_of(source_name, row, "")) for row in page]


def _sync_page(source: GatewaySource, page: Made, result: SyncResult, now: datetime) -> None:
    """One page in one transaction: map, ingest, hold, move the watermark."""
    name = source.name
    with transaction.atomic():
        # The held rows of the page's id range (a page's ids are nearly consecutive; one
        # range, not an array of thousands of ids), locked as the page goes through.
        ids = [row.id for row, *_rest in page]
        held = {
            h.log_id: h
            for h in HeldLog.objects.raw(
                "SELECT * FROM gateways_heldlog WHERE source_id = %s AND log_id BETWEEN %s AND %s FOR UPDATE",
                [source.pk, min(ids), max(ids)],
            )
        }
        externals = {external_id for _row, external_id, *_rest in page}
        keys = dict(ApiKey.objects.filter(external_id__in=externals).values_list("external_id", "key_id"))
        records: list[dict] = []
        rows_of_records: list[LogRow] = []
        to_hold: list[tuple[LogRow, dict, dict, str]] = []
        released: list[HeldLog] = []
        for row, external_id, record, errors in page:
            hold = held.get(row.id) if held else None
            if hold is not None and hold.reason == HeldLog.Reason.REJECTED:
                result.rejected += 1  # quarantined on an earlier read; the row has not changed
                continue
            key_id = keys.get(external_id)
            if key_id is None:
                result.unmapped += 1
                if hold is None:
                    payload = {**(record or {"request_id": f"{name}:{row.id}"}), "external_id": external_id}
                    payload.pop("key_id", None)
                    message = _("No API key has the external id %(id)s (the gateway's token).") % {"id": external_id}
                    to_hold.append((row, payload, {"key_id": [message]}, HeldLog.Reason.UNMAPPED))
                continue
            if hold is not None:  # mapped since it was held: ingested now
                released.append(hold)
            if record is None:
                result.rejected += 1
                to_hold.append((row, {"request_id": f"{name}:{row.id}", "log_id": row.id}, errors, "rejected"))
                continue
            record["key_id"] = key_id
            records.append(record)
            rows_of_records.append(row)
        if records:
            batch = usage_ingest_batch(records=records, now=now)
            result.accepted += batch.accepted
            result.duplicates += batch.duplicates
            result.unpriced += batch.unpriced
            refused = {r["index"] for r in batch.rejected} | {c["index"] for c in batch.conflicts}
            result.rejected += len(refused)
            # ingestion quarantined these itself; remember them so the overlap does not repeat it
            HeldLog.objects.bulk_create(
                [
                    HeldLog(
                        source=source,
                        log_id=rows_of_records[i].id,
                        log_created_at=rows_of_records[i].created_at,
                        reason=HeldLog.Reason.REJECTED,
                    )
                    for i in refused
                ],
                ignore_conflicts=True,
            )
        _hold(source, to_hold)
        if released:
            QuarantinedRecord.objects.filter(pk__in=[h.quarantined_id for h in released if h.quarantined_id]).update(
                resolved_at=now, resolution_note=_("Its token was mapped to a key; ingested by the gateway sync.")
            )
            HeldLog.objects.filter(pk__in=[h.pk for h in released]).delete()
        # The newest created_at seen, never past now: a row stamped in the future must not
        # move the window beyond the rows still to come.
        newest = min(max(row.created_at for row, *_rest in page), int(now.timestamp()))
        watermark = newest if source.watermark is None else max(source.watermark, newest)
        GatewaySource.objects.filter(pk=source.pk).update(watermark=watermark)
    source.watermark = watermark  # committed
    result.read += len(page)
    result.pages += 1


def gateway_logs_sync(
    *,
    source_name: str,
    database_url: str,
    page_size: int = PAGE_SIZE,
    progress: Callable[[SyncResult], None] | None = None,
    on_page: Callable[[LogReader, SyncResult], None] | None = None,
    since: int | None = None,
    until: int | None = None,
    now: datetime | None = None,
) -> SyncResult:
    """Read the source's new consume rows into usage records; see the module docstring.
    ``since`` (Unix seconds) reads again from an earlier time instead (e.g. rows held as
    unmapped before their token was mapped); the watermark never moves back. ``until``
    (Unix seconds, exclusive) stops there (the demo's table holds rows of other days).
    Raises GatewayUnreachable (the watermark stays where the last committed page put it)."""
    source_name_check(source_name)
    source, _created = GatewaySource.objects.get_or_create(name=source_name)
    result = SyncResult()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [SYNC_LOCK_NAMESPACE, source.pk])
        if not cursor.fetchone()[0]:
            result.skipped = True
            return result
    started = time.monotonic()
    try:
        if since is None:
            since = max(0, source.watermark - OVERLAP_SECONDS) if source.watermark is not None else 0
        with LogReader(database_url) as reader:
            pages = reader.pages(since=since, until=until, page_size=page_size)
            for page in read_ahead(_made(source_name, rows) for rows in pages):
                _sync_page(source, page, result, now or timezone.now())
                if progress is not None and time.monotonic() - started > 5:
                    progress(result)
                if on_page is not None:
                    on_page(reader, result)
    except GatewayUnreachable as exc:
        result.errors.append(str(exc))
        _record_run(source, result, error=str(exc))
        raise
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [SYNC_LOCK_NAMESPACE, source.pk])
    _record_run(source, result)
    return result


def _record_run(source: GatewaySource, result: SyncResult, *, error: str = "") -> None:
    GatewaySource.objects.filter(pk=source.pk).update(
        last_run_at=timezone.now(), last_run_ok=not error, last_run_counts=result.counts(), last_error=error
    )


# --- The daily check --------------------------------------------------------------------


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = billing_tz()
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)


def gateway_day_check(*, source_name: str, database_url: str, day: date, notify: bool = True) -> DayCheck:
    """Compare one business day (BILLING_TIME_ZONE) of a source: its consume rows, input
    tokens (as our records count them, the Claude path's cache included) and output tokens,
    against the records we hold from it. A difference alerts finance, once per day."""
    source, _created = GatewaySource.objects.get_or_create(name=source_name_check(source_name))
    start, end = _day_bounds(day)
    requests = input_tokens = output_tokens = 0
    with LogReader(database_url) as reader:
        for page in reader.pages(since=int(start.timestamp()), until=int(end.timestamp())):
            for row in page:
                requests += 1
                record, _errors = record_of(source.name, row, "")
                if record is not None:
                    input_tokens += record["input_tokens"] if isinstance(record["input_tokens"], int) else 0
                    output_tokens += record["output_tokens"] if isinstance(record["output_tokens"], int) else 0
    ours = UsageRecord.objects.filter(
        period=day.replace(day=1), day=day, occurred_at__gte=start, occurred_at__lt=end
    ).filter(request_id__startswith=f"{source.name}:")
    totals = ours.aggregate(n=Count("pk"), i=Sum("input_tokens"), o=Sum("output_tokens"))
    held = HeldLog.objects.filter(
        source=source, log_created_at__gte=int(start.timestamp()), log_created_at__lt=int(end.timestamp())
    ).count()
    check, _new = DayCheck.objects.update_or_create(
        source=source,
        day=day,
        defaults={
            "gateway_requests": requests,
            "gateway_input_tokens": input_tokens,
            "gateway_output_tokens": output_tokens,
            "our_requests": totals["n"] or 0,
            "our_input_tokens": totals["i"] or 0,
            "our_output_tokens": totals["o"] or 0,
            "held": held,
            "checked_at": timezone.now(),
        },
    )
    if notify and not check.matches and check.alerted_at is None:
        _alert_finance(check)
    return check


def _alert_finance(check: DayCheck) -> None:
    facts = {
        "source": check.source.name,
        "day": check.day.isoformat(),
        "gr": check.gateway_requests,
        "gi": check.gateway_input_tokens,
        "go": check.gateway_output_tokens,
        "r": check.our_requests,
        "i": check.our_input_tokens,
        "o": check.our_output_tokens,
    }
    subject = _("[Procurement Center] gateway %(source)s: %(day)s does not match") % facts
    body = (
        _(
            "The gateway %(source)s logged %(gr)s calls on %(day)s (input %(gi)s, output %(go)s tokens); "
            "we hold %(r)s usage records from it (input %(i)s, output %(o)s tokens). "
            "Look for its quarantined records (unmapped tokens, rejected rows) and run the sync again."
        )
        % facts
    )
    channels = finance_addresses()
    failed = staff_notify(channels=channels, subject=subject, body=body)
    if len(failed) < len(channels):  # someone in finance has it; else the next check tries again
        DayCheck.objects.filter(pk=check.pk).update(alerted_at=timezone.now())
        check.refresh_from_db(fields=["alerted_at"])
    logger.warning("gateway day check differs", extra={"source": check.source.name, "day": check.day.isoformat()})
