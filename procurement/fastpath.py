"""The gateway's hottest call, answered before Django's full request stack.

``GET /api/v1/api-keys/{key_id}/allowance/`` is asked before every LLM call, so it must be
cheap (the issue's target: median ≤ 5 ms at 1,000 requests/s on two cores). The full stack
(middleware, URL resolving, DRF negotiation, ORM instances) costs more CPU than answering
it, and so do three round trips to PostgreSQL. This WSGI wrapper answers it for the
gateway and finance with **one prepared statement** — the token, its user's standing and
the key's allowance together — and the same rules as the DRF view:

- the token check of customers.authentication.token_authenticate (constant-time digest
  comparison, revoked token, inactive user, last-used stamp every 10 minutes);
- the answer of billing.budgets.allowance.key_allowance_lookup (ALLOWANCE_COLUMNS / allowance_answer).

It hands everything else to Django, including every case that needs an error in the API's
shape or a portal user's scoping (404 for another customer's key).

A token's standing (its digest, revoked or not, its user active and allowed to ask) is
remembered in the worker for TOKEN_CACHE_SECONDS; within that time only the allowance is
asked (fewer tables to lock and read: the database's share of the cost drops by a third).
So a revoked gateway token can still read allowances for up to that long; the allowance
itself — revoked keys, contracts, hard limits — is read fresh on every request.

Connections: Django's per-request health check (``SELECT 1``) is skipped here; the
connection's maximum age is honoured, and a query that fails on a broken connection closes
it and lets Django answer the request (Django reconnects).
"""

from __future__ import annotations

import hmac
import json
import re
import time
from datetime import timedelta
from functools import cache

import psycopg
from django.db import connection
from django.utils import timezone

ALLOWANCE_PATH = re.compile(r"^/api/v1/api-keys/(?P<key_id>[A-Za-z0-9_-]{1,40})/allowance/$")
FAST_GROUPS = ("gateway", "finance")
TOUCH_EVERY = timedelta(minutes=10)
TOKEN_CACHE_SECONDS = 5.0

# token_id -> (valid until (monotonic), pk, digest, may ask (active token, active user in a
# fast group), last used). Per worker process; dict operations are atomic under the GIL.
_tokens: dict[str, tuple[float, int, str, bool, object]] = {}


@cache
def _statement() -> str:
    """Token + user standing + allowance in one statement; a row only when the token id exists."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from billing.budgets.allowance import ALLOWANCE_COLUMNS, ALLOWANCE_JOIN
    from customers.models import ApiToken

    user_model = get_user_model()
    quote = connection.ops.quote_name
    through = user_model._meta.get_field("groups").remote_field.through._meta.db_table
    return f"""
SELECT t.id, t.secret_digest, t.revoked_at IS NULL, t.last_used_at, u.is_active,
       u.is_superuser OR EXISTS (
           SELECT 1 FROM {quote(through)} ug JOIN {quote(Group._meta.db_table)} g ON g.id = ug.group_id
           WHERE ug.user_id = u.id AND g.name = ANY(%(groups)s)
       ),
       k.id IS NOT NULL,
       {ALLOWANCE_COLUMNS}
FROM {quote(ApiToken._meta.db_table)} t
JOIN {quote(user_model._meta.db_table)} u ON u.id = t.user_id
LEFT JOIN customers_apikey k ON k.key_id = %(key_id)s
{ALLOWANCE_JOIN}
WHERE t.token_id = %(token_id)s
"""


def _connection_ready() -> None:
    """What Django does around each request, minus the health-check query: close a connection
    past CONN_MAX_AGE or one that saw errors, then connect if needed. Never inside a
    transaction (a test's)."""
    if connection.in_atomic_block:
        return
    if connection.connection is not None and (
        connection.errors_occurred or (connection.close_at is not None and time.monotonic() >= connection.close_at)
    ):
        connection.close()
    connection.ensure_connection()


def _may_ask(cached: tuple, secret: str) -> bool:
    """The presented secret matches the token's digest (constant time) and the token may ask."""
    from customers.models import secret_digest

    return hmac.compare_digest(cached[2], secret_digest(secret)) and cached[3]


def fast_allowance(environ) -> bytes | None:
    """The JSON answer, or None when Django should answer (anything unusual)."""
    if environ.get("REQUEST_METHOD") != "GET":
        return None
    match = ALLOWANCE_PATH.match(environ.get("PATH_INFO", ""))
    header = environ.get("HTTP_AUTHORIZATION", "")
    if match is None or not header.startswith("Token "):
        return None
    parts = header[6:].strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "pc":
        return None
    _prefix, token_id, secret = parts
    key_id = match["key_id"]

    from billing.budgets.allowance import ALLOWANCE_SQL, allowance_answer, allowance_params
    from customers.models import ApiToken

    params = allowance_params(key_id)
    cached = _tokens.get(token_id)
    if cached is not None and cached[0] < time.monotonic():
        cached = None
    if cached is not None and not _may_ask(cached, secret):
        return None  # known not to pass: no query
    try:
        _connection_ready()
        with psycopg.Cursor(connection.connection) as cursor:
            if cached is None:
                params.update(token_id=token_id, groups=list(FAST_GROUPS))
                cursor.execute(_statement(), params, prepare=True)
            else:
                cursor.execute(ALLOWANCE_SQL, params, prepare=True)
            row = cursor.fetchone()
    except psycopg.Error:
        if not connection.in_atomic_block:
            connection.close()
        return None
    if row is None:
        return None
    if cached is None:
        token_pk, digest, token_active, last_used_at, user_active, in_group, key_exists = row[:7]
        cached = (
            time.monotonic() + TOKEN_CACHE_SECONDS,
            token_pk,
            digest,
            token_active and user_active and in_group,
            last_used_at,
        )
        _tokens[token_id] = cached
        if not key_exists:
            return None
        row = row[7:]
        if not _may_ask(cached, secret):
            return None
    _until, token_pk, digest, may_ask, last_used_at = cached
    now = timezone.now()
    if last_used_at is None or now - last_used_at > TOUCH_EVERY:
        ApiToken.objects.filter(pk=token_pk).update(last_used_at=now)
        _tokens[token_id] = (cached[0], token_pk, digest, may_ask, now)
    return json.dumps(allowance_answer(key_id, row)[1]).encode()


def wrap(django_app):
    def application(environ, start_response):
        body = fast_allowance(environ) if environ.get("PATH_INFO", "").endswith("/allowance/") else None
        if body is None:
            return django_app(environ, start_response)
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("X-Content-Type-Options", "nosniff"),
                ("Vary", "Authorization"),
            ],
        )
        return [body]

    return application
