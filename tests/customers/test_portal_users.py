"""Portal users: who may add them, and what they may then see."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from customers.models import PortalUser
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

User = get_user_model()


def url(code: str = "ACME") -> str:
    return f"/api/v1/customers/{code}/users/"


def user_payload(**overrides) -> dict:
    payload = {"username": "dora", "email": "dora@acme.example.cn", "password": "Plum-Orchard-7421", "role": "finance"}
    payload.update(overrides)
    return payload


def test_it_lets_finance_add_a_portal_user(finance_client, acme):
    response = finance_client.post(url(), user_payload(), format="json")

    assert response.status_code == 201
    assert response.json() == {
        "username": "dora",
        "email": "dora@acme.example.cn",
        "role": "finance",
        "customer": "ACME",
    }
    assert "password" not in response.json()
    member = PortalUser.objects.get(user__username="dora")
    assert member.customer == acme
    assert member.user.check_password("Plum-Orchard-7421")
    assert not member.user.is_staff


def test_it_lets_the_customers_admin_add_a_portal_user(alice_client, acme):
    response = alice_client.post(url(), user_payload(role="developer"), format="json")

    assert response.status_code == 201
    assert PortalUser.objects.get(user__username="dora").role == "developer"


def test_it_refuses_a_developer_with_403(bob_client, acme):
    response = bob_client.post(url(), user_payload(), format="json")

    assert response.status_code == 403
    assert not User.objects.filter(username="dora").exists()


def test_it_hides_the_customer_from_another_customers_admin(charlie_client, acme):
    response = charlie_client.post(url(), user_payload(), format="json")

    assert response.status_code == 404
    assert not User.objects.filter(username="dora").exists()


def test_it_refuses_anonymous_and_gateway(client, gateway_client, acme):
    assert client.post(url(), user_payload(), content_type="application/json").status_code == 401
    assert gateway_client.post(url(), user_payload(), format="json").status_code == 403
    assert not User.objects.filter(username="dora").exists()


def test_it_lists_members_to_finance_and_the_admin_only(
    finance_client, alice_client, bob_client, charlie_client, alice, bob
):
    expected = [("alice", "admin"), ("bob", "developer")]

    assert [(m["username"], m["role"]) for m in finance_client.get(url()).json()] == expected
    assert [(m["username"], m["role"]) for m in alice_client.get(url()).json()] == expected
    assert bob_client.get(url()).status_code == 403
    assert charlie_client.get(url()).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": "ALICE"}, "username"),  # taken, whatever the case
        ({"password": "123"}, "password"),
        ({"password": "password"}, "password"),
        ({"role": "owner"}, "role"),
        ({"email": "not-an-address"}, "email"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(finance_client, alice, overrides, field):
    before = User.objects.count()

    response = finance_client.post(url(), user_payload(**overrides), format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert User.objects.count() == before


def test_it_lets_a_new_portal_user_see_only_their_customer(finance_client, acme, other_customer):
    finance_client.post(url(), user_payload(role="admin"), format="json")
    dora = client_for(User.objects.get(username="dora"))

    assert [c["code"] for c in dora.get("/api/v1/customers/").json()] == ["ACME"]
    assert dora.get("/api/v1/customers/OTHER/").status_code == 404
