"""Projects: a customer's departments or applications."""

from __future__ import annotations

import pytest

from customers.models import Project

pytestmark = pytest.mark.django_db


def url(code: str = "ACME") -> str:
    return f"/api/v1/customers/{code}/projects/"


def test_it_lets_finance_and_the_customers_admin_create_projects(
    finance_client, alice_client, bob_client, charlie_client, gateway_client, client, acme
):
    assert finance_client.post(url(), {"code": "search", "name": "企业搜索"}, format="json").status_code == 201
    assert alice_client.post(url(), {"code": "ops", "name": "运维助手"}, format="json").status_code == 201
    assert bob_client.post(url(), {"code": "b", "name": "b"}, format="json").status_code == 403
    assert charlie_client.post(url(), {"code": "c", "name": "c"}, format="json").status_code == 404
    assert gateway_client.post(url(), {"code": "g", "name": "g"}, format="json").status_code == 403
    assert client.post(url(), {"code": "x", "name": "x"}, content_type="application/json").status_code == 401
    assert sorted(Project.objects.filter(customer=acme).values_list("code", flat=True)) == ["ops", "search"]


def test_it_lists_projects_to_the_customers_users(
    finance_client, alice_client, bob_client, charlie_client, acme_project
):
    for api_client in (finance_client, alice_client, bob_client):
        response = api_client.get(url())
        assert response.status_code == 200
        assert [(p["code"], p["customer"]) for p in response.json()] == [("chatbot", "ACME")]
    assert charlie_client.get(url()).status_code == 404


def test_it_rejects_a_duplicate_project_code_within_a_customer(finance_client, acme_project, other_project):
    response = finance_client.post(url(), {"code": "chatbot", "name": "again"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["code"]
    assert Project.objects.filter(customer=acme_project.customer).count() == 1
    # The same code under another customer is fine.
    assert finance_client.post(url(), {"code": "main", "name": "主项目"}, format="json").status_code == 201


def test_it_rejects_a_malformed_project_code(finance_client, acme):
    response = finance_client.post(url(), {"code": "智能 客服", "name": "x"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["code"]
    assert not Project.objects.exists()
