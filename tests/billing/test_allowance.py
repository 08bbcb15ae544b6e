"""GET /api/v1/api-keys/{key_id}/allowance/: the gateway's "may this key call?", flipped by a
hard limit at 100 %, with the reasons in the contract's order."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from billing.budgets.budgets import budget_create
from customers.models import Contract
from customers.services import api_key_revoke
from tests.billing.alerts_helpers import ingest_committed, meter_price, spend
from tests.billing.helpers import shanghai
from tests.factories import api_key_for

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _noon_on_20_november():
    with time_machine.travel(shanghai(2026, 11, 20, 12), tick=False):
        yield


def url(key_id: str) -> str:
    return f"/api/v1/api-keys/{key_id}/allowance/"


def allowance(client, key) -> dict:
    response = client.get(url(key.key_id))
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def hard(acme, acme_key, django_capture_on_commit_callbacks):
    meter_price()
    with django_capture_on_commit_callbacks(execute=True):
        return budget_create(
            customer=acme, scope="customer", target=None, monthly_amount=Decimal("1000"), hard_limit=True
        )


def test_it_allows_a_key_under_its_budget(gateway_client, hard, acme_key, django_capture_on_commit_callbacks):
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "999.99", TODAY)])
    assert allowance(gateway_client, acme_key) == {
        "key_id": acme_key.key_id,
        "allowed": True,
        "reason": None,
        "month_to_date": "999.99",
        "budget": "1000.00",
        "currency": "CNY",
    }


def test_it_blocks_a_key_once_a_hard_limit_is_reached(
    gateway_client, hard, acme_key, django_capture_on_commit_callbacks
):
    second, _secret = api_key_for(acme_key.project, name="second")
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "999.99", TODAY)])
    ingest_committed(django_capture_on_commit_callbacks, [spend(second.key_id, "0.01", TODAY)])
    expected = {"allowed": False, "reason": "hard_limit", "month_to_date": "1000.00", "budget": "1000.00"}
    for key in (acme_key, second):  # a customer-wide budget blocks every key of the customer
        data = allowance(gateway_client, key)
        assert {k: data[k] for k in expected} == expected


def test_it_keeps_allowing_past_100_percent_without_a_hard_limit(
    gateway_client, acme, acme_key, django_capture_on_commit_callbacks
):
    meter_price()
    budget_create(customer=acme, scope="customer", target=None, monthly_amount=Decimal("1000"))
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "1500", TODAY)])
    data = allowance(gateway_client, acme_key)
    assert (data["allowed"], data["reason"], data["month_to_date"]) == (True, None, "1500.00")


def test_a_key_budget_blocks_only_its_key(gateway_client, acme, acme_key, django_capture_on_commit_callbacks):
    meter_price()
    second, _secret = api_key_for(acme_key.project, name="second")
    budget_create(customer=acme, scope="api_key", target=acme_key.key_id, monthly_amount=Decimal("10"), hard_limit=True)
    budget_create(customer=acme, scope="customer", target=None, monthly_amount=Decimal("1000"), hard_limit=True)
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "10", TODAY)])
    blocked, free = allowance(gateway_client, acme_key), allowance(gateway_client, second)
    assert (blocked["allowed"], blocked["reason"], blocked["budget"]) == (False, "hard_limit", "10.00")
    assert (free["allowed"], free["reason"], free["month_to_date"], free["budget"]) == (True, None, "10.00", "1000.00")


def test_it_gives_the_first_reason_that_applies(
    gateway_client, hard, acme, acme_key, django_capture_on_commit_callbacks
):
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "1000", TODAY)])
    assert allowance(gateway_client, acme_key)["reason"] == "hard_limit"

    Contract.objects.filter(customer=acme).update(ends_on=date(2026, 11, 19))
    assert allowance(gateway_client, acme_key)["reason"] == "no_contract"  # over hard_limit

    api_key_revoke(key=acme_key)
    assert allowance(gateway_client, acme_key)["reason"] == "revoked"  # over both

    Contract.objects.filter(customer=acme).update(ends_on=None)
    data = allowance(gateway_client, acme_key)
    assert (data["allowed"], data["reason"]) == (False, "revoked")


def test_it_says_no_contract_for_a_terminated_contract(gateway_client, acme, acme_key):
    Contract.objects.filter(customer=acme).update(status=Contract.Status.TERMINATED)
    data = allowance(gateway_client, acme_key)
    assert (data["allowed"], data["reason"], data["month_to_date"], data["budget"]) == (
        False,
        "no_contract",
        "0.00",
        None,
    )


def test_it_starts_the_new_month_allowed(gateway_client, hard, acme_key, django_capture_on_commit_callbacks):
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "1000", TODAY)])
    assert allowance(gateway_client, acme_key)["reason"] == "hard_limit"
    with time_machine.travel(shanghai(2026, 12, 1, 0, 0, 1), tick=False):
        data = allowance(gateway_client, acme_key)  # before any evaluation of December
    assert (data["allowed"], data["reason"], data["month_to_date"]) == (True, None, "0.00")


def test_it_answers_only_those_who_may_see_the_key(
    client, gateway_client, finance_client, alice_client, bob_client, charlie_client, acme_key
):
    for who in (gateway_client, finance_client, alice_client, bob_client):
        assert who.get(url(acme_key.key_id)).status_code == 200
    assert charlie_client.get(url(acme_key.key_id)).status_code == 404
    assert gateway_client.get(url("ak_nosuchkey")).status_code == 404
    assert client.get(url(acme_key.key_id)).status_code == 401


def test_it_answers_from_two_queries(gateway_client, hard, acme_key, django_assert_num_queries):
    gateway_client.get(url(acme_key.key_id))  # the token's last_used_at is touched on first use
    with django_assert_num_queries(2):  # the token with its user and groups; the answer
        assert gateway_client.get(url(acme_key.key_id)).status_code == 200
