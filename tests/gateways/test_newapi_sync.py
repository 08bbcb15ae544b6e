"""``sync_gateway_logs newapi``: new-api's real logs table in PostgreSQL and in MariaDB,
synced, synced again with rows inside the overlap, a token mapped late, a connection cut
between pages, an unreachable database; exact totals each time (CONTRACT "Gateway
connectors")."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, time, timedelta

import psycopg
import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum
from django.test import override_settings
from django.utils import timezone

from billing.models import QuarantinedRecord, UsageRecord
from customers import services
from gateways.models import DayCheck, GatewaySource, HeldLog
from gateways.newapi import GatewayUnreachable, LogReader
from gateways.services import configured_sources, gateway_day_check, gateway_logs_sync
from gateways.tasks import gateway_logs_sync_all
from tests.billing.helpers import SHANGHAI, price
from tests.factories import ProjectFactory, UserFactory, api_key_for

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.now().astimezone(SHANGHAI).date() - timedelta(days=1)
# Noon of yesterday in the business time zone: every row of a test is on that business day.
T = int(datetime.combine(YESTERDAY, time(12), tzinfo=SHANGHAI).timestamp())


@pytest.fixture
def prices(db):
    price()  # openai gpt-4o
    price(provider="anthropic", model="claude-sonnet-4", input="3", cached="0.3", output="15")


@pytest.fixture
def mapped(acme, prices):
    """Gateway tokens 1 and 2 (source gw) are ACME keys; token 9 is no one's yet."""
    one, _s = api_key_for(ProjectFactory(customer=acme, code="chatbot"), name="one")
    two, _s = api_key_for(ProjectFactory(customer=acme, code="search"), name="two")
    services.api_key_set_external_id(key=one, external_id="gw:1")
    services.api_key_set_external_id(key=two, external_id="gw:2")
    return one, two


def totals(source: str) -> dict:
    rows = UsageRecord.objects.filter(request_id__startswith=f"{source}:")
    return rows.aggregate(n=Count("pk"), i=Sum("input_tokens"), c=Sum("cached_input_tokens"), o=Sum("output_tokens"))


def sync(db, *args: str, source: str = "gw") -> str:
    out = io.StringIO()
    call_command("sync_gateway_logs", "newapi", "--database-url", db.url, "--source", source, *args, stdout=out)
    return out.getvalue().strip()


def fill_first(db) -> None:
    db.log(T + 0, 1, "gpt-4o", 1000, 100, other={"cache_tokens": 200, "model_ratio": 1.25, "group_ratio": 1})
    # The Claude path: prompt_tokens excludes the cache reads and writes (new-api relay-claude).
    db.log(
        T + 10,
        1,
        "claude-sonnet-4",
        10,
        50,
        other={"claude": True, "cache_tokens": 300, "cache_creation_tokens": 40, "cache_creation_ratio": 1.25},
    )
    db.log(T + 20, 2, "gpt-4o", 500, 20)
    db.log(T + 30, 9, "gpt-4o", 700, 70)  # token 9: no key has gw:9
    db.log(T + 40, 1, "gpt-4o", -5, 10)  # negative tokens: rejected by ingestion
    db.log(0, 1, "gpt-4o", 100, 10)  # created_at 0: rejected (before 2020)
    db.log(T + 50, 1, "gpt-4o", 100, 10, other="{not json")  # rejected, naming other
    db.log(T + 60, 2, "mystery-model", 100, 10)  # accepted, unpriced
    db.log(T + 70, 1, "gpt-4o", 0, 0, type=5)  # an error row: not a consume row
    db.log(T + 80, 1, "", 0, 0, type=1)  # a top-up
    for i in range(12):
        db.log(T + 100 + i * 10, 1, "gpt-4o", 100, 10)


def test_it_syncs_again_with_rows_inside_the_overlap_and_a_token_mapped_late(gateway_db, mapped, acme):
    fill_first(gateway_db)

    first = sync(gateway_db, "--page-size", "4")

    assert first == "read 20, accepted 16, duplicates 0, unmapped 1, rejected 3"
    assert totals("gw") == {"n": 16, "i": 1000 + 350 + 500 + 100 + 1200, "c": 500, "o": 100 + 50 + 20 + 10 + 120}
    claude = UsageRecord.objects.get(model="claude-sonnet-4")
    assert (claude.input_tokens, claude.cached_input_tokens, claude.output_tokens) == (350, 300, 50)
    assert claude.cache_write_tokens == 40
    unpriced = UsageRecord.objects.get(model="mystery-model")
    assert unpriced.price_version_id is None and unpriced.request_id.startswith("gw:")
    source = GatewaySource.objects.get(name="gw")
    assert source.watermark == T + 210
    assert source.last_run_ok is True and source.last_run_counts["accepted"] == 16
    unmapped = QuarantinedRecord.objects.get(payload__external_id="gw:9")
    assert "gw:9" in unmapped.errors["key_id"][0]
    assert QuarantinedRecord.objects.count() == 4
    negative = QuarantinedRecord.objects.get(payload__input_tokens=-5)
    assert "input_tokens" in negative.errors

    # Late commits inside the overlap, and a new row; the first rows are read again.
    gateway_db.log(T + 205, 2, "gpt-4o", 300, 30)
    gateway_db.log(T + 300, 1, "gpt-4o", 100, 10)
    second = sync(gateway_db, "--page-size", "4")

    assert second == "read 21, accepted 2, duplicates 16, unmapped 1, rejected 2"
    assert totals("gw") == {"n": 18, "i": 3150 + 400, "c": 500, "o": 300 + 40}
    assert QuarantinedRecord.objects.count() == 4  # nothing quarantined twice

    # Finance maps token 9: the held row (still inside the overlap) is ingested.
    nine, _s = api_key_for(ProjectFactory(customer=acme, code="late"), name="nine")
    services.api_key_set_external_id(key=nine, external_id="gw:9")
    third = sync(gateway_db)

    assert third == "read 21, accepted 1, duplicates 18, unmapped 0, rejected 2"
    assert totals("gw") == {"n": 19, "i": 3550 + 700, "c": 500, "o": 340 + 70}
    assert UsageRecord.objects.get(api_key=nine).request_id.startswith("gw:")
    unmapped.refresh_from_db()
    assert unmapped.resolved_at is not None
    assert not HeldLog.objects.filter(reason=HeldLog.Reason.UNMAPPED).exists()


@pytest.fixture
def cut_keys(mapped):
    one, two = mapped
    services.api_key_set_external_id(key=one, external_id="cut:1")
    services.api_key_set_external_id(key=two, external_id="cut:2")
    return one, two


def test_a_cut_sync_resumes_from_its_watermark_exactly_once(gateway_db, cut_keys):
    for i in range(20):
        gateway_db.log(T + i, 1 + i % 2, "gpt-4o", 100 + i, 10)

    def cut(reader, result):
        if result.pages == 1:
            gateway_db.kill(reader.backend_id())

    with pytest.raises(GatewayUnreachable):
        gateway_logs_sync(source_name="cut", database_url=gateway_db.url, page_size=5, on_page=cut)
    # Whole pages committed: the first, and the one read ahead while it was stored when that
    # read finished before the cut; the watermark is the newest row of what committed.
    stored = totals("cut")["n"]
    assert stored in (5, 10)
    assert totals("cut") == {"n": stored, "i": sum(100 + i for i in range(stored)), "c": 0, "o": 10 * stored}
    assert GatewaySource.objects.get(name="cut").watermark == T + stored - 1

    again = gateway_logs_sync(source_name="cut", database_url=gateway_db.url, page_size=5)

    assert (again.read, again.accepted, again.duplicates) == (20, 20 - stored, stored)
    assert totals("cut") == {"n": 20, "i": sum(100 + i for i in range(20)), "c": 0, "o": 200}
    assert GatewaySource.objects.get(name="cut").watermark == T + 19


def test_an_unreachable_database_is_a_clear_error_and_keeps_the_watermark(db):
    GatewaySource.objects.create(name="gw", watermark=T)

    with pytest.raises(CommandError) as error:
        call_command(
            "sync_gateway_logs", "newapi", "--database-url", "mysql://root:s3cret@127.0.0.1:9/nowhere", "--source", "gw"
        )

    assert "cannot read the gateway database" in str(error.value)
    assert "s3cret" not in str(error.value)
    source = GatewaySource.objects.get(name="gw")
    assert source.watermark == T and source.last_run_ok is False


def test_the_beat_task_syncs_every_configured_source(gateway_db, mapped):
    gateway_db.log(T, 1, "gpt-4o", 100, 10)
    gateway_db.log(T + 1, 2, "gpt-4o", 200, 20)

    with override_settings(GATEWAY_LOG_SOURCES=f"gw={gateway_db.url}, down=mysql://root@127.0.0.1:9/x"):
        assert configured_sources() == {"gw": gateway_db.url, "down": "mysql://root@127.0.0.1:9/x"}
        answers = gateway_logs_sync_all()

    assert answers["gw"] == "read 2, accepted 2, duplicates 0, unmapped 0, rejected 0"
    assert answers["down"].startswith("error: cannot read the gateway database")
    assert totals("gw")["n"] == 2


def test_the_daily_check_alerts_finance_once_on_a_difference(gateway_db, mapped):
    UserFactory(username="fiona", groups=["finance"])
    for i in range(3):
        gateway_db.log(T + i, 1, "gpt-4o", 100, 10)
    gateway_db.log(T + 5, 1, "claude-sonnet-4", 10, 5, other={"claude": True, "cache_tokens": 90})
    gateway_db.log(T - 86400, 1, "gpt-4o", 100, 10)  # the day before: not this day's
    gateway_logs_sync(source_name="gw", database_url=gateway_db.url)

    same = gateway_day_check(source_name="gw", database_url=gateway_db.url, day=YESTERDAY)

    assert same.matches and (same.gateway_requests, same.gateway_input_tokens) == (4, 400)
    assert mail.outbox == []

    gateway_db.log(T + 9, 9, "gpt-4o", 1000, 10)  # no key has gw:9: held, not billed
    gateway_logs_sync(source_name="gw", database_url=gateway_db.url)
    differs = gateway_day_check(source_name="gw", database_url=gateway_db.url, day=YESTERDAY)
    gateway_day_check(source_name="gw", database_url=gateway_db.url, day=YESTERDAY)

    assert not differs.matches
    assert (differs.gateway_requests, differs.our_requests, differs.held) == (5, 4, 1)
    assert (differs.gateway_input_tokens, differs.our_input_tokens) == (1400, 400)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["fiona@example.com"]
    assert "gw" in mail.outbox[0].subject and "1400" in mail.outbox[0].body
    assert DayCheck.objects.get(day=YESTERDAY).alerted_at is not None


def test_cache_writes_split_by_ttl_are_kept(gateway_db, mapped):
    other = {
        "claude": True,
        "cache_tokens": 60000,
        "cache_creation_tokens": 20000,
        "cache_creation_tokens_5m": 10000,
        "cache_creation_tokens_1h": 5000,
    }
    gateway_db.log(T, 1, "claude-sonnet-4", 1000, 500, other=other)

    assert sync(gateway_db) == "read 1, accepted 1, duplicates 0, unmapped 0, rejected 0"

    record = UsageRecord.objects.get()
    assert (record.input_tokens, record.cached_input_tokens) == (81000, 60000)
    assert (record.cache_write_tokens, record.cache_write_5m_tokens, record.cache_write_1h_tokens) == (
        20000,
        10000,
        5000,
    )


def test_since_reads_again_a_row_held_before_its_token_was_mapped(gateway_db, mapped, acme):
    gateway_db.log(T, 9, "gpt-4o", 700, 70)
    gateway_db.log(T + 3600, 1, "gpt-4o", 100, 10)
    assert sync(gateway_db) == "read 2, accepted 1, duplicates 0, unmapped 1, rejected 0"
    nine, _s = api_key_for(ProjectFactory(customer=acme, code="late"), name="nine")
    services.api_key_set_external_id(key=nine, external_id="gw:9")

    assert sync(gateway_db) == "read 1, accepted 0, duplicates 1, unmapped 0, rejected 0"  # outside the overlap
    assert sync(gateway_db, "--since", YESTERDAY.isoformat()) == (
        "read 2, accepted 1, duplicates 1, unmapped 0, rejected 0"
    )

    assert totals("gw") == {"n": 2, "i": 800, "c": 0, "o": 80}
    assert GatewaySource.objects.get(name="gw").watermark == T + 3600


def test_each_page_starts_its_index_scan_at_the_page(gateway_db):
    """A keyset page of a big table reads from the page on, not from the table's first row
    (the bound that kept a sync of a million rows from being quadratic; bench/README.md)."""
    rows = "generate_series(1, 3000) AS s(seq)" if gateway_db.dialect == "postgresql" else "seq_1_to_3000"
    gateway_db.execute(
        "INSERT INTO logs (user_id, created_at, type, token_id, model_name, prompt_tokens, completion_tokens) "
        f"SELECT 1, {T} + seq DIV 3, 2, 1, 'gpt-4o', 100, 10 FROM {rows}".replace(
            "DIV", "/" if gateway_db.dialect == "postgresql" else "DIV"
        )
    )
    gateway_db.execute("ANALYZE logs" if gateway_db.dialect == "postgresql" else "ANALYZE TABLE logs")
    issued = []
    with LogReader(gateway_db.url) as reader:
        query = reader._query
        reader._query = lambda sql, params: issued.append((sql, params)) or query(sql, params)
        pages = reader.pages(since=0, page_size=500)
        first, second = next(pages), next(pages)
    assert (first[-1].created_at, second[0].created_at) == (T + 500 // 3, T + 501 // 3)
    sql, params = issued[-1]

    if gateway_db.dialect == "postgresql":
        cursor = psycopg.ClientCursor(gateway_db.conn)
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        conditions = re.findall(r'"Index Cond": "([^"]*)"', json.dumps(cursor.fetchone()[0]))
        # where the index scan starts: at the page, not at the table's first row
        assert conditions == [f"((created_at >= {T + 500 // 3}) AND (type = 2))"]
    else:
        (explained,) = gateway_db.execute("EXPLAIN " + sql, params)
        assert explained[3:6] == ("range", "PRIMARY,idx_created_at_id,idx_created_at_type", "idx_created_at_type")
