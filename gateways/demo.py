"""The demo's new-api gateway: a small new-api ``logs`` table in the app's own PostgreSQL
(schema ``newapi_demo``), NANHAI's first key mapped to its token 1, synced once by seed_demo so
that the admin shows a source with its watermark and last run (README, "Connecting your
gateway").

Rows are deterministic per time slot (id and content from the slot), so seeding again adds
only the slots that passed since; the sync reads the last day only, never a row stamped
after now (the table outlives a test's database transaction)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import psycopg
from django.db import connection
from django.utils import timezone

from customers import services
from customers.models import ApiKey
from gateways.newapi import GatewayUnreachable
from gateways.services import SyncResult, gateway_logs_sync

SOURCE = "demo-newapi"
SCHEMA = "newapi_demo"
SLOT = 3300  # a call every 55 minutes
DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.logs (
    id bigint PRIMARY KEY, user_id bigint, created_at bigint, type bigint, content text,
    username text DEFAULT '', token_name text DEFAULT '', model_name text DEFAULT '',
    quota bigint DEFAULT 0, prompt_tokens bigint DEFAULT 0, completion_tokens bigint DEFAULT 0,
    use_time bigint DEFAULT 0, is_stream boolean, channel_id bigint, token_id bigint DEFAULT 0,
    "group" text, ip text DEFAULT '', other text);
CREATE INDEX IF NOT EXISTS logs_created_at_id ON {SCHEMA}.logs (created_at, id);
"""
INSERT = f"""
INSERT INTO {SCHEMA}.logs (id, user_id, created_at, type, content, username, token_name, model_name, quota,
                           prompt_tokens, completion_tokens, use_time, is_stream, channel_id, token_id, "group", other)
SELECT s, 1, s * {SLOT}, 2, '倍率：1.25 × 1.00 × 4.00', 'nanhai', 'token-1', 'gpt-4o', 1000,
       600 + (s %% 7) * 100, 80 + (s %% 5) * 20, 3, false, 1, 1, 'default',
       '{{"cache_tokens":' || ((s %% 3) * 100) || ',"model_ratio":1.25,"group_ratio":1,"completion_ratio":4}}'
FROM generate_series(%s::bigint, %s::bigint) AS s
ON CONFLICT (id) DO NOTHING
"""


def demo_database_url() -> str:
    """The app's own database (as the tests or the server run it), schema newapi_demo."""
    params = connection.settings_dict
    query = {"options": f"-c search_path={SCHEMA}"}
    host = params.get("HOST") or ""
    if host.startswith("/"):
        query["host"], host = host, ""
    auth = quote(params.get("USER") or "", safe="")
    if params.get("PASSWORD"):
        auth += ":" + quote(params["PASSWORD"], safe="")
    port = f":{params['PORT']}" if params.get("PORT") else ""
    netloc = f"{auth}@{host}{port}" if auth else f"{host}{port}"
    return f"postgresql://{netloc}/{quote(params['NAME'], safe='')}?{urlencode(query, quote_via=quote)}"


def newapi_demo_seed(*, now=None) -> SyncResult | None:
    """Write the last day's slots to the demo gateway, map NANHAI's keys, sync once."""
    now = now or timezone.now()
    url = demo_database_url()
    last = int(now.timestamp()) // SLOT
    with psycopg.connect(url, autocommit=True) as gateway:  # its own connection: the gateway's, committed
        gateway.execute(DDL)
        gateway.execute(INSERT, [last - 24, last])
    keys = ApiKey.objects.filter(customer__code="NANHAI").order_by("pk")[:1]
    for n, key in enumerate(keys, start=1):
        if key.external_id is None and not ApiKey.objects.filter(external_id=f"{SOURCE}:{n}").exists():
            services.api_key_set_external_id(key=key, external_id=f"{SOURCE}:{n}")
    try:
        return gateway_logs_sync(
            source_name=SOURCE, database_url=url, since=(last - 24) * SLOT, until=int(now.timestamp())
        )
    except GatewayUnreachable:
        return None
