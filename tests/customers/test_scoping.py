"""Another customer's objects answer 404 on every customer-scoped endpoint, never 403."""

from __future__ import annotations

import pytest

from tests.factories import api_key_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_key(acme_project):
    key, _secret = api_key_for(acme_project)
    return key


@pytest.fixture
def endpoints(acme_key):
    base = "/api/v1/customers/ACME"
    return [
        ("get", f"{base}/", None),
        ("patch", f"{base}/", {"phone": "1"}),
        ("get", f"{base}/contracts/", None),
        ("post", f"{base}/contracts/", {"number": "X", "starts_on": "2020-01-01", "ends_on": "2020-01-31"}),
        ("get", f"{base}/contracts/HT-ACME-1/", None),
        ("get", f"{base}/projects/", None),
        ("post", f"{base}/projects/", {"code": "x", "name": "x"}),
        ("get", f"{base}/users/", None),
        (
            "post",
            f"{base}/users/",
            {"username": "x", "email": "x@x.cn", "password": "Plum-Orchard-7421", "role": "admin"},
        ),
        ("get", f"{base}/api-keys/", None),
        ("get", f"{base}/projects/chatbot/api-keys/", None),
        ("post", f"{base}/projects/chatbot/api-keys/", {"name": "x"}),
        ("post", f"{base}/projects/chatbot/api-keys/{acme_key.key_id}/revoke/", None),
    ]


def test_it_answers_404_to_another_customers_admin_everywhere(charlie_client, endpoints, acme_key):
    for method, url, data in endpoints:
        response = getattr(charlie_client, method)(url, data, format="json")
        assert response.status_code == 404, (method, url)
        assert set(response.json()) == {"detail", "errors"}
    acme_key.refresh_from_db()
    assert acme_key.revoked_at is None


def test_it_answers_404_for_a_customer_that_does_not_exist_either(charlie_client, finance_client, endpoints):
    for method, url, data in endpoints:
        missing = url.replace("/ACME/", "/GHOST/")
        assert getattr(charlie_client, method)(missing, data, format="json").status_code == 404, (method, missing)
        assert getattr(finance_client, method)(missing, data, format="json").status_code == 404, (method, missing)


def test_it_lets_the_customers_own_admin_reach_every_endpoint(alice_client, endpoints):
    # Own customer: never 404. Reads answer 200, the admin's writes 201 (200 for the revoke
    # action); the customer's details and its contracts are finance's to write (403).
    expected = [200, 403, 200, 403, 200, 200, 201, 200, 201, 200, 200, 201, 200]
    answered = [getattr(alice_client, method)(url, data, format="json").status_code for method, url, data in endpoints]

    assert answered == expected, list(zip(endpoints, answered, strict=True))
