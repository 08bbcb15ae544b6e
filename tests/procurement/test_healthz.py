"""/healthz, the OpenAPI schema and its docs, and the staff groups."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.db import OperationalError

from customers.validators import check_tax_id

pytestmark = pytest.mark.django_db


def test_it_answers_healthz_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok"}


def test_it_answers_503_when_the_database_does_not(client):
    with mock.patch("procurement.views.connection.cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert "connection refused" in response.json()["database"]


def test_it_serves_the_openapi_schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/customers/",
        "/api/v1/customers/{code}/contracts/",
        "/api/v1/customers/{code}/projects/",
        "/api/v1/customers/{code}/users/",
        "/api/v1/customers/{code}/projects/{project}/api-keys/",
        "/api/v1/customers/{code}/projects/{project}/api-keys/{key_id}/revoke/",
    ):
        assert path in schema["paths"], path


def test_it_documents_only_valid_tax_ids_in_the_examples(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    examples = [
        example["value"]
        for path in schema["paths"].values()
        for operation in path.values()
        for content in operation.get("requestBody", {}).get("content", {}).values()
        for example in content.get("examples", {}).values()
    ]

    tax_ids = [value["tax_id"] for value in examples if isinstance(value, dict) and value.get("tax_id")]
    assert tax_ids  # the customer example has one
    for tax_id in tax_ids:
        assert check_tax_id(tax_id).valid and not check_tax_id(tax_id).warning, tax_id


def test_it_serves_the_api_docs(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    # Split for the Content-Security-Policy: the start-up script is its own URL, and it
    # points Swagger UI at the schema.
    assert b'<script src="/api/docs/?script="></script>' in response.content
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert b"/api/schema/" in script.content


def test_it_creates_the_staff_groups_in_a_migration():
    assert set(Group.objects.filter(name__in=["finance", "presales", "gateway"]).values_list("name", flat=True)) == {
        "finance",
        "presales",
        "gateway",
    }
