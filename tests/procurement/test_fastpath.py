"""The lean WSGI path for the gateway's allowance check answers exactly as the DRF view."""

import json

import psycopg
import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import RequestFactory
from django.utils import timezone

from customers import services
from procurement import fastpath
from procurement.wsgi import application
from tests.factories import api_key_for

pytestmark = pytest.mark.django_db


def environ(path: str, token: str | None, method: str = "GET") -> dict:
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    return RequestFactory().generic(method, path, **headers).environ


def call_wsgi(env: dict) -> tuple[str, bytes]:
    """Call the real WSGI application, keeping the test's connection (as Django's test client
    does: its request signals would close a connection that is inside a transaction)."""
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = status

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(application(env, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return seen["status"], body


@pytest.fixture(autouse=True)
def forget_tokens():
    fastpath._tokens.clear()
    yield
    fastpath._tokens.clear()


@pytest.fixture
def gateway_token(db):
    _token, value = services.gateway_identity_create(name="fast-gw")
    return value


def test_it_answers_the_gateway_as_the_view_does(acme_project, gateway_token, gateway_client):
    key, _secret = api_key_for(acme_project)
    revoked, _secret = api_key_for(acme_project, "old")
    services.api_key_revoke(key=revoked)
    for api_key in (key, revoked):
        path = f"/api/v1/api-keys/{api_key.key_id}/allowance/"
        fast = fastpath.fast_allowance(environ(path, gateway_token))

        assert fast is not None
        assert json.loads(fast) == gateway_client.get(path).json()
    assert (
        json.loads(fastpath.fast_allowance(environ(f"/api/v1/api-keys/{revoked.key_id}/allowance/", gateway_token)))[
            "reason"
        ]
        == "revoked"
    )


def test_it_serves_the_fast_answer_through_the_wsgi_application(acme_project, gateway_token):
    key, _secret = api_key_for(acme_project)

    status, body = call_wsgi(environ(f"/api/v1/api-keys/{key.key_id}/allowance/", gateway_token))

    assert status == "200 OK"
    assert json.loads(body)["key_id"] == key.key_id


@pytest.mark.parametrize("case", ["unknown key", "bad token", "no token", "portal user", "post"])
def test_it_leaves_everything_unusual_to_django(case, acme_project, gateway_token, alice):
    key, _secret = api_key_for(acme_project)
    path = f"/api/v1/api-keys/{key.key_id}/allowance/"
    token, method = gateway_token, "GET"
    if case == "unknown key":
        path = "/api/v1/api-keys/ak_nope/allowance/"
    elif case == "bad token":
        token = gateway_token[:-3] + "xyz"
    elif case == "no token":
        token = None
    elif case == "portal user":
        token = services.api_token_create(user=alice)[1]
    else:
        method = "POST"

    assert fastpath.fast_allowance(environ(path, token, method)) is None
    status, body = call_wsgi(environ(path, token, method))
    expected = {"unknown key": "404", "bad token": "401", "no token": "401", "portal user": "200", "post": "405"}[case]
    assert status.startswith(expected), body


@pytest.mark.parametrize("case", ["revoked token", "inactive user"])
def test_a_token_that_may_no_longer_ask_gets_djangos_401(case, acme_project):
    token, value = services.gateway_identity_create(name="fast-gw-2")
    if case == "revoked token":
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    else:
        token.user.is_active = False
        token.user.save(update_fields=["is_active"])
    key, _secret = api_key_for(acme_project)
    path = f"/api/v1/api-keys/{key.key_id}/allowance/"

    assert fastpath.fast_allowance(environ(path, value)) is None
    status, _body = call_wsgi(environ(path, value))
    assert status.startswith("401")


def test_it_stamps_the_tokens_last_use_as_the_full_stack_does(acme_project):
    token, value = services.gateway_identity_create(name="fast-gw-3")
    key, _secret = api_key_for(acme_project)

    assert fastpath.fast_allowance(environ(f"/api/v1/api-keys/{key.key_id}/allowance/", value)) is not None

    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_broken_connection_is_closed_and_the_next_request_reconnects(acme_project):
    _token, value = services.gateway_identity_create(name="fast-gw-4")
    key, _secret = api_key_for(acme_project)
    env = environ(f"/api/v1/api-keys/{key.key_id}/allowance/", value)
    assert fastpath.fast_allowance(env) is not None
    backend_pid = connection.connection.info.backend_pid

    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend_pid])

    assert fastpath.fast_allowance(env) is None  # Django answers this one
    assert connection.connection is None
    assert json.loads(fastpath.fast_allowance(env))["key_id"] == key.key_id
    assert connection.connection.info.backend_pid != backend_pid


def test_a_remembered_token_answers_the_same_and_a_revocation_applies_once_it_expires(acme_project, monkeypatch):
    token, value = services.gateway_identity_create(name="fast-gw-5")
    key, _secret = api_key_for(acme_project)
    env = environ(f"/api/v1/api-keys/{key.key_id}/allowance/", value)
    first = fastpath.fast_allowance(env)
    assert token.token_id in fastpath._tokens

    assert fastpath.fast_allowance(env) == first  # from the remembered token
    wrong = environ(f"/api/v1/api-keys/{key.key_id}/allowance/", value[:-2] + "zz")
    assert fastpath.fast_allowance(wrong) is None  # the secret is still compared
    assert fastpath.fast_allowance(environ("/api/v1/api-keys/ak_nope/allowance/", value)) is None

    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    assert fastpath.fast_allowance(env) == first  # within TOKEN_CACHE_SECONDS
    monkeypatch.setitem(fastpath._tokens, token.token_id, (0.0, *fastpath._tokens[token.token_id][1:]))  # expired
    assert fastpath.fast_allowance(env) is None
