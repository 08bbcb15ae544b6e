"""The gateway's hottest call, answered before Django's full request stack.

``GET /api/v1/api-keys/{key_id}/allowance/`` is asked before every LLM call, so it must be
cheap (the issue's target: median ≤ 5 ms at 1,000 requests/s on two cores). The full stack
(middleware, URL resolving, DRF negotiation) costs more CPU than the two queries that
answer it. This WSGI wrapper answers it directly for the gateway and finance — the same
token check (customers.authentication.token_authenticate) and the same answer
(billing.budgets.key_allowance_lookup) as the DRF view — and hands everything else to
Django, including every case that needs an error in the API's shape or a portal user's
scoping (404 for another customer's key).
"""

from __future__ import annotations

import json
import re

from django.db import close_old_connections, connection

ALLOWANCE_PATH = re.compile(r"^/api/v1/api-keys/(?P<key_id>[A-Za-z0-9_-]{1,40})/allowance/$")
FAST_GROUPS = frozenset({"gateway", "finance"})


def _recycle_connections() -> None:
    """What Django does at the start and end of each request (CONN_MAX_AGE, broken connections);
    never inside a transaction (a test's)."""
    if not connection.in_atomic_block:
        close_old_connections()


def fast_allowance(environ) -> bytes | None:
    """The JSON answer, or None when Django should answer (anything unusual)."""
    if environ.get("REQUEST_METHOD") != "GET":
        return None
    match = ALLOWANCE_PATH.match(environ.get("PATH_INFO", ""))
    header = environ.get("HTTP_AUTHORIZATION", "")
    if match is None or not header.startswith("Token "):
        return None
    from rest_framework.exceptions import AuthenticationFailed

    from billing.budgets import key_allowance_lookup
    from customers.authentication import token_authenticate

    _recycle_connections()
    try:
        token = token_authenticate(header[6:].strip())
    except AuthenticationFailed:
        return None
    user = token.user
    if not (user.is_superuser or FAST_GROUPS & user._group_names):
        return None
    found = key_allowance_lookup(key_id=match["key_id"])
    if found is None:
        return None
    return json.dumps(found[1]).encode()


def wrap(django_app):
    def application(environ, start_response):
        body = fast_allowance(environ) if environ.get("PATH_INFO", "").endswith("/allowance/") else None
        if body is None:
            return django_app(environ, start_response)
        try:
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
        finally:
            _recycle_connections()

    return application
