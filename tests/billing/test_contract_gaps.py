"""Small contract gaps (issue 16 item 7): the schema says what the answers are (the alerts
list is a list; every operation lists its error answers in the one error shape), unknown
filter values are a 400, presales read the price book and rates, and an allowance probe
tells presales nothing about whether a key exists."""

from __future__ import annotations

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    answer = client.get("/api/schema/", headers={"Accept": "application/json"})
    assert answer.status_code == 200
    return answer.json()


def test_the_alerts_list_is_a_list_in_the_schema(schema):
    ok = schema["paths"]["/api/v1/alerts/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}}


def test_every_operation_lists_its_error_answers_in_the_error_shape(schema):
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail", "errors"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert responses["401"]["content"] == error, (method, path)
            assert responses["403"]["content"] == error, (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if method == "post":
                assert "409" in responses and "400" in responses, (method, path)
            if method == "post" and "requestBody" in operation:
                assert "415" in responses, (method, path)
    assert "413" in schema["paths"]["/api/v1/usage-records/"]["post"]["responses"]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/invoices/?status=AAA", "status"),
        ("/api/v1/invoices/?color=green", "color"),
        ("/api/v1/bills/?status=AAA", "status"),
        ("/api/v1/alerts/?kind=AAA", "kind"),
    ],
)
def test_an_unknown_filter_value_is_a_400_naming_it(finance_client, url, field):
    answer = finance_client.get(url)
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == [field]


def test_presales_read_the_price_book_and_rates_but_do_not_change_them(presales_user, gpt4o):
    client = client_for(presales_user)
    prices = client.get("/api/v1/prices/")
    assert prices.status_code == 200
    assert [p["model"] for p in prices.json()] == ["gpt-4o"]
    assert client.get("/api/v1/exchange-rates/").status_code == 200
    assert (
        client.post(
            "/api/v1/exchange-rates/", {"currency": "USD", "period": "2026-11", "rate": "7.1"}, format="json"
        ).status_code
        == 403
    )
    assert client.post("/api/v1/prices/", {}, format="json").status_code == 403


def test_an_allowance_probe_by_presales_is_refused_alike_for_known_and_unknown_keys(presales_user, acme_key):
    client = client_for(presales_user)
    known = client.get(f"/api/v1/api-keys/{acme_key.key_id}/allowance/")
    unknown = client.get("/api/v1/api-keys/ak_doesnotexist/allowance/")
    assert known.status_code == unknown.status_code == 403
    assert known.json() == unknown.json()


def test_a_portal_user_still_gets_404_for_a_key_of_another_customer(charlie_client, acme_key):
    assert charlie_client.get(f"/api/v1/api-keys/{acme_key.key_id}/allowance/").status_code == 404
