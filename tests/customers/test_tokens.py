"""Hashed API tokens: ``Authorization: Token pc_<id>_<secret>``."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from customers import services
from customers.models import ApiToken

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_it_authenticates_a_token(finance_user, acme):
    _token, value = services.api_token_create(user=finance_user)

    response = client_with(value).get(URL)

    assert response.status_code == 200
    assert [c["code"] for c in response.json()] == ["ACME"]


def test_it_stores_only_a_digest_of_the_token(finance_user):
    token, value = services.api_token_create(user=finance_user, name="ci")
    secret = value.split("_", 2)[2]

    assert value == f"pc_{token.token_id}_{secret}"
    assert token.secret_digest == hashlib.sha256(secret.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(t)::text FROM customers_apitoken t WHERE id = %s", [token.pk])
        stored = cursor.fetchone()[0]
    assert token.token_id in stored
    assert secret not in stored


def test_it_refuses_a_revoked_token(finance_user):
    token, value = services.api_token_create(user=finance_user)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())

    response = client_with(value).get(URL)

    assert response.status_code == 401
    assert set(response.json()) == {"detail", "errors"}


@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: v[:-1] + ("A" if v[-1] != "A" else "B"),  # wrong secret
        lambda v: "pc_000000000000_" + v.split("_", 2)[2],  # unknown id
        lambda v: v.replace("pc_", "xx_", 1),  # wrong prefix
        lambda v: "pc_" + v.split("_", 2)[1],  # no secret
    ],
)
def test_it_refuses_a_wrong_token(finance_user, mangle):
    _token, value = services.api_token_create(user=finance_user)

    response = client_with(mangle(value)).get(URL)

    assert response.status_code == 401


def test_it_refuses_the_token_of_a_disabled_user(finance_user):
    _token, value = services.api_token_create(user=finance_user)
    finance_user.is_active = False
    finance_user.save()

    assert client_with(value).get(URL).status_code == 401


def test_it_answers_401_with_a_token_challenge_when_no_credentials_are_sent(db):
    response = APIClient().get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_it_records_when_a_token_was_last_used(finance_user):
    token, value = services.api_token_create(user=finance_user)
    client = client_with(value)

    client.get(URL)
    token.refresh_from_db()
    first_use = token.last_used_at
    client.get(URL)
    token.refresh_from_db()

    assert first_use is not None
    assert token.last_used_at == first_use  # touched at most every few minutes
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - timedelta(hours=1))
    client.get(URL)
    token.refresh_from_db()
    assert token.last_used_at > first_use - timedelta(hours=1)
