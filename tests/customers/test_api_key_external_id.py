"""An API key's ``external_id`` (CONTRACT "Gateway connectors"): the gateway's own id for the
key. Finance sets it through the API or the admin; the key lists and the portal show it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from customers import services
from customers.models import ApiKey, AuditEvent
from tests.factories import api_key_for
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/customers/ACME/projects/chatbot/api-keys/"


def test_it_creates_a_key_with_an_external_id_and_lists_it(finance_client, acme_project):
    created = finance_client.post(KEYS, {"name": "gw", "external_id": "newapi:42"}, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["external_id"] == "newapi:42"
    assert ApiKey.objects.get(key_id=created.json()["key_id"]).external_id == "newapi:42"
    for url in (KEYS, "/api/v1/customers/ACME/api-keys/"):
        listed = {k["key_id"]: k["external_id"] for k in finance_client.get(url).json()}
        assert listed[created.json()["key_id"]] == "newapi:42"


def test_it_keeps_the_external_id_optional(finance_client, acme_project):
    first = finance_client.post(KEYS, {"name": "a"}, format="json")
    second = finance_client.post(KEYS, {"name": "b", "external_id": ""}, format="json")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["external_id"] is None and second.json()["external_id"] is None


def test_it_refuses_an_external_id_another_key_has(finance_client, acme_project):
    finance_client.post(KEYS, {"name": "a", "external_id": "newapi:1"}, format="json")

    again = finance_client.post(KEYS, {"name": "b", "external_id": "newapi:1"}, format="json")

    assert again.status_code == 400
    assert "external_id" in again.json()["errors"]
    assert ApiKey.objects.filter(name="b").count() == 0


@pytest.mark.parametrize("value", ["x" * 129, "new api:1", "newapi:\x01"])
def test_it_refuses_a_malformed_external_id_naming_the_field(finance_client, acme_project, value):
    answer = finance_client.post(KEYS, {"name": "a", "external_id": value}, format="json")

    assert answer.status_code == 400
    assert "external_id" in answer.json()["errors"]
    assert not ApiKey.objects.exists()


def test_a_portal_admin_cannot_map_a_gateway_id(alice_client, acme_project):
    answer = alice_client.post(KEYS, {"name": "a", "external_id": "newapi:7"}, format="json")

    assert answer.status_code == 400
    assert "external_id" in answer.json()["errors"]
    assert not ApiKey.objects.exists()


def test_the_admin_edits_the_external_id_and_audits_it(admin_client, admin_user, acme_project):
    key, _secret = api_key_for(acme_project)
    url = reverse("admin:customers_apikey_change", args=[key.pk])

    page = admin_client.get(url).content.decode()
    answer = admin_client.post(url, {"external_id": "newapi:9"})

    assert 'name="external_id"' in page
    assert answer.status_code == 302, answer.content.decode()[:2000]
    key.refresh_from_db()
    assert key.external_id == "newapi:9"
    event = AuditEvent.objects.get(action=AuditEvent.Action.API_KEY_MAPPED)
    assert event.facts["changes"] == {"external_id": [None, "newapi:9"]}
    assert event.actor == admin_user


def test_the_admin_refuses_a_taken_external_id(admin_client, acme_project):
    first, _s = api_key_for(acme_project, name="a")
    services.api_key_set_external_id(key=first, external_id="newapi:9")
    second, _s = api_key_for(acme_project, name="b")

    answer = admin_client.post(reverse("admin:customers_apikey_change", args=[second.pk]), {"external_id": "newapi:9"})

    assert answer.status_code == 200  # the form again, with the error
    second.refresh_from_db()
    assert second.external_id is None


def test_the_portal_key_list_shows_the_external_id(alice, acme_project):
    key, _secret = api_key_for(acme_project)
    services.api_key_set_external_id(key=key, external_id="newapi:5")

    html = signed_in(alice).get("/portal/keys/").content.decode()

    row = re.search(rf'<tr id="key-{key.key_id}">.*?</tr>', html, re.S).group(0)
    assert "newapi:5" in row
