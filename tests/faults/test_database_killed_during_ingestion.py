"""The database connection killed (pg_terminate_backend) again and again while the gateway
streams usage batches over HTTP: every batch is either fully counted or answered with an
error (503, "send the same request again"), retries are idempotent, and the totals are
exact — each record once, rollups equal to the records (issue 14, faults survived)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection

from billing.models import UsageRecord
from customers import services
from tests.billing.helpers import INGEST_URL, price, record_totals, rollup_totals, usage

pytestmark = [pytest.mark.django_db(transaction=True)]

BATCHES, PER_BATCH = 40, 50


class Killer(threading.Thread):
    """Terminates every other connection to the test database every 50–200 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        db = settings.DATABASES["default"]
        self.dsn = f"host={db['HOST']} port={db['PORT'] or 5432} user={db['USER']} dbname={db['NAME']}"
        self.stop = threading.Event()
        self.killed = 0
        self.pause = random.Random(14)

    def run(self):
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.is_set():
                rows = conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchall()
                self.killed += sum(1 for (done,) in rows if done)
                time.sleep(self.pause.uniform(0.05, 0.2))


def test_every_batch_counts_once_while_connections_are_killed(live_server, clean_usage, acme_key, other_key):
    price(model="gpt-4o")
    _token, secret = services.gateway_identity_create(name="fault-gateway")
    batches = [
        [
            usage(
                (acme_key if (b + i) % 3 else other_key).key_id,
                f"fault-{b:03d}-{i:03d}",
                input_tokens=1000 + i,
                cached_input_tokens=i,
                output_tokens=100 + b,
            )
            for i in range(PER_BATCH)
        ]
        for b in range(BATCHES)
    ]
    connection.close()  # this thread's connection is among those killed; reconnect after
    killer = Killer()
    killer.start()
    session = requests.Session()
    session.headers["Authorization"] = f"Token {secret}"
    errors_answered, counted, statuses = 0, [], Counter()
    try:
        for batch in batches:
            for _attempt in range(200):
                try:
                    answer = session.post(live_server.url + INGEST_URL, json={"records": batch}, timeout=30)
                except requests.ConnectionError:
                    errors_answered += 1
                    continue
                if answer.status_code == 200:
                    body = answer.json()
                    assert body["rejected"] == [] and body["conflicts"] == []
                    assert body["accepted"] + body["duplicates"] == len(batch)
                    counted.append(body)
                    break
                statuses[answer.status_code] += 1
                assert answer.status_code == 503, answer.text
                assert answer.headers["Retry-After"] == "1"
                errors_answered += 1
            else:
                pytest.fail("a batch never got through in 200 attempts")
    finally:
        killer.stop.set()
        killer.join(timeout=10)
        connection.close()

    assert killer.killed > 0 and errors_answered > 0, "no fault was injected: the test proves nothing"
    assert len(counted) == BATCHES
    assert (
        sum(body["accepted"] for body in counted) + sum(body["duplicates"] for body in counted) == BATCHES * PER_BATCH
    )
    assert UsageRecord.objects.count() == BATCHES * PER_BATCH
    totals = record_totals()
    assert sum(requests_ for requests_, *_rest in totals.values()) == BATCHES * PER_BATCH
    input_tokens = sum(1000 + i for _b in range(BATCHES) for i in range(PER_BATCH))
    output_tokens = sum(100 + b for b in range(BATCHES) for _i in range(PER_BATCH))
    assert sum(row[1] for row in totals.values()) == input_tokens
    assert sum(row[3] for row in totals.values()) == output_tokens
    assert rollup_totals() == totals
    print(
        f"faults: {killer.killed} connections killed, {errors_answered} error answers {dict(statuses)}, {BATCHES} batches exact"
    )
