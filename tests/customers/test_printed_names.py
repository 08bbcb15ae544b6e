"""Issue 21 item 13: project and key names are printed (a bill prints its project's name,
key names reach exports): NFC, trimmed, no control or format characters (bidi overrides,
zero-width) — through the API, the portal and the admin, on create and on edit."""

from __future__ import annotations

import unicodedata

import pytest

from customers.models import ApiKey, Project

pytestmark = pytest.mark.django_db
BAD = ["\u202e", "\u200b", "\u2066", "\x01"]


@pytest.mark.parametrize("character", BAD)
def test_a_project_name_with_an_invisible_character_is_refused_by_the_api(finance_client, acme, character):
    response = finance_client.post(
        "/api/v1/customers/ACME/projects/", {"code": "evil", "name": f"智能{character}客服"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["name"]
    assert f"U+{ord(character):04X}" in response.json()["errors"]["name"][0]
    assert not Project.objects.filter(code="evil").exists()


def test_a_project_name_is_stored_in_nfc(finance_client, acme):
    decomposed = unicodedata.normalize("NFD", " Café 项目 ")
    response = finance_client.post(
        "/api/v1/customers/ACME/projects/", {"code": "cafe", "name": decomposed}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert Project.objects.get(code="cafe").name == "Café 项目"


@pytest.mark.parametrize("character", BAD)
def test_a_key_name_with_an_invisible_character_is_refused_by_the_api(finance_client, acme_project, character):
    response = finance_client.post(
        "/api/v1/customers/ACME/projects/chatbot/api-keys/", {"name": f"prod{character}"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["name"]
    assert not ApiKey.objects.exists()


def test_a_key_name_with_a_bidi_override_is_refused_on_the_portal(client, alice, acme_project):
    client.force_login(alice)
    response = client.post("/portal/keys/", {"project": "chatbot", "name": "prod\u202egnp.exe"})
    assert response.status_code == 200
    assert "U+202E" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_editing_a_project_name_in_the_admin_refuses_a_zero_width_space(client, acme_project):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = f"/admin/customers/project/{acme_project.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(
        url, {"customer": acme_project.customer_id, "code": "chatbot", "name": "智能\u200b客服", "is_active": "on"}
    )
    assert response.status_code == 200  # the form again, with the error
    assert "U+200B" in response.content.decode()
    acme_project.refresh_from_db()
    assert acme_project.name == "智能客服"
