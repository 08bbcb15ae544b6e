"""Customer API keys: secret shown once, stored as a digest, constant-time checks, revocation."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from unittest import mock

import pytest
import time_machine
from django.db import connection

from customers import services
from customers.models import ApiKey, Project
from tests.factories import api_key_for

pytestmark = pytest.mark.django_db


def keys_url(code: str = "ACME", project: str = "chatbot") -> str:
    return f"/api/v1/customers/{code}/projects/{project}/api-keys/"


def revoke_url(key_id: str, code: str = "ACME", project: str = "chatbot") -> str:
    return f"{keys_url(code, project)}{key_id}/revoke/"


def stored_key_rows_text() -> str:
    """Every stored column of every API key row, as text."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(string_agg(row_to_json(k)::text, ' '), '') FROM customers_apikey k")
        return cursor.fetchone()[0]


def test_it_returns_the_secret_once_on_create(finance_client, acme_project):
    response = finance_client.post(keys_url(), {"name": "production"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["key_id"].startswith("ak_")
    assert body["secret"].startswith("sk_")
    assert len(body["secret"]) > 40
    assert body["secret_hint"] == body["secret"][-4:]
    assert (body["customer"], body["project"], body["name"]) == ("ACME", "chatbot", "production")
    key = ApiKey.objects.get(key_id=body["key_id"])
    assert key.customer_id == acme_project.customer_id


def test_it_never_shows_the_secret_again(finance_client, alice_client, bob_client, acme_project):
    created = finance_client.post(keys_url(), {"name": "production"}, format="json").json()
    secret = created["secret"]

    responses = [
        finance_client.get(keys_url()),
        alice_client.get(keys_url()),
        bob_client.get(keys_url()),
        finance_client.get("/api/v1/customers/ACME/api-keys/"),
        bob_client.get("/api/v1/customers/ACME/api-keys/"),
        alice_client.post(revoke_url(created["key_id"])),
    ]

    for response in responses:
        assert response.status_code == 200
        assert secret not in response.content.decode()
        assert secret[3:] not in response.content.decode()
    listed = responses[0].json()
    assert [k["key_id"] for k in listed] == [created["key_id"]]
    assert listed[0]["secret"] is None


def test_it_stores_only_a_sha256_digest_of_the_secret(acme_project):
    key, secret = api_key_for(acme_project)

    assert key.secret_digest == hashlib.sha256(secret.encode()).hexdigest()
    text = stored_key_rows_text()
    assert key.key_id in text  # the scan does see the row …
    assert secret not in text  # … and the secret is in none of its columns
    assert secret[3:] not in text


def test_it_authenticates_the_right_secret_only(acme_project):
    key, secret = api_key_for(acme_project)

    assert services.api_key_authenticate(key_id=key.key_id, secret=secret) == key
    assert services.api_key_authenticate(key_id=key.key_id, secret=secret + "x") is None
    assert services.api_key_authenticate(key_id=key.key_id, secret="") is None
    assert services.api_key_authenticate(key_id="ak_unknown", secret=secret) is None


def test_it_compares_secrets_in_constant_time(acme_project):
    key, secret = api_key_for(acme_project)

    with mock.patch("customers.models.hmac.compare_digest", wraps=__import__("hmac").compare_digest) as compare:
        assert services.api_key_authenticate(key_id=key.key_id, secret=secret) == key

    compare.assert_called_once_with(key.secret_digest, hashlib.sha256(secret.encode()).hexdigest())


def test_it_refuses_a_revoked_key(acme_project):
    key, secret = api_key_for(acme_project)

    services.api_key_revoke(key=key)

    assert services.api_key_authenticate(key_id=key.key_id, secret=secret) is None


def test_it_keeps_the_first_revocation_time(alice, alice_client, finance_client, acme_project):
    key, secret = api_key_for(acme_project)

    with time_machine.travel(datetime(2026, 3, 1, 8, 0, tzinfo=UTC), tick=False):
        first = alice_client.post(revoke_url(key.key_id))
    with time_machine.travel(datetime(2026, 3, 5, 8, 0, tzinfo=UTC), tick=False):
        second = finance_client.post(revoke_url(key.key_id))

    assert first.status_code == second.status_code == 200
    assert first.json()["revoked_at"] == second.json()["revoked_at"]
    key.refresh_from_db()
    assert key.revoked_at == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert key.revoked_by == alice
    assert not key.is_active
    assert services.api_key_authenticate(key_id=key.key_id, secret=secret) is None


def test_it_lets_finance_and_the_customer_admin_create_keys(
    finance_client, alice_client, bob_client, charlie_client, gateway_client, client, acme_project
):
    assert finance_client.post(keys_url(), {"name": "a"}, format="json").status_code == 201
    assert alice_client.post(keys_url(), {"name": "b"}, format="json").status_code == 201
    assert bob_client.post(keys_url(), {"name": "c"}, format="json").status_code == 403
    assert charlie_client.post(keys_url(), {"name": "d"}, format="json").status_code == 404
    assert gateway_client.post(keys_url(), {"name": "e"}, format="json").status_code == 403
    assert client.post(keys_url(), {"name": "f"}, content_type="application/json").status_code == 401
    assert sorted(ApiKey.objects.values_list("name", flat=True)) == ["a", "b"]


def test_it_lets_developers_read_but_not_revoke_keys(bob_client, charlie_client, acme_project):
    key, _secret = api_key_for(acme_project)

    assert bob_client.get(keys_url()).status_code == 200
    assert bob_client.post(revoke_url(key.key_id)).status_code == 403
    assert charlie_client.get(keys_url()).status_code == 404
    assert charlie_client.post(revoke_url(key.key_id)).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_it_does_not_reach_another_customers_key_through_its_own_project(
    alice_client, finance_client, acme_project, other_project
):
    other_key, _secret = api_key_for(other_project)

    assert alice_client.post(revoke_url(other_key.key_id)).status_code == 404
    assert finance_client.post(revoke_url(other_key.key_id)).status_code == 404
    other_key.refresh_from_db()
    assert other_key.revoked_at is None


def test_it_refuses_keys_for_an_archived_project(finance_client, acme_project):
    Project.objects.filter(pk=acme_project.pk).update(is_active=False)

    response = finance_client.post(keys_url(), {"name": "late"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["project"]
    assert not ApiKey.objects.exists()


def test_it_requires_a_name(finance_client, acme_project):
    response = finance_client.post(keys_url(), {}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["name"]
    assert not ApiKey.objects.exists()


def test_it_answers_404_for_an_unknown_project(finance_client, acme):
    assert finance_client.post(keys_url(project="nope"), {"name": "x"}, format="json").status_code == 404
