"""Issue 21 item 9: request bodies are bounded before anything reads them (the
Content-Length), by what they are: a usage batch ≤ 10 MB, an upload by signed-in staff
≤ 20 MB, anything else (JSON, forms, every body of a non-staff visitor) ≤ 1 MB; 413 in the
JSON error shape under /api/. A real server refusing a 300 MB login POST before the body
is sent is in tests/procurement/test_gunicorn_slow_client.py."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import multipartparser

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
IMPORTS = "/api/v1/provider-costs/imports/"


@pytest.fixture
def parsed(monkeypatch):
    """Every multipart body Django starts to parse (and would spill to a temporary file)."""
    calls = []
    real = multipartparser.MultiPartParser.parse

    def parse(self):
        calls.append(self._content_length)
        return real(self)

    monkeypatch.setattr(multipartparser.MultiPartParser, "parse", parse)
    return calls


def test_the_limits_are_the_contracts():
    assert settings.REQUEST_BODY_MAX_BYTES == 1 * MB
    assert settings.UPLOAD_BODY_MAX_BYTES == 20 * MB
    # An accepted upload stays in memory: nothing a client sends goes to a temporary file.
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE >= settings.UPLOAD_BODY_MAX_BYTES


def test_an_anonymous_upload_to_the_login_is_refused_before_it_is_parsed(client, parsed):
    response = client.post(
        "/portal/login/",
        {"username": "x", "password": "y", "file": SimpleUploadedFile("big.bin", b"\0" * (2 * MB))},
    )
    assert response.status_code == 413
    assert parsed == []


def test_a_login_form_of_ordinary_size_still_works(client, alice):
    alice.set_password("s3cret-Pass-1")
    alice.save()
    response = client.post("/portal/login/", {"username": "alice", "password": "s3cret-Pass-1"})
    assert response.status_code == 302


def test_a_json_body_over_1_mb_is_413_in_the_error_shape(finance_client):
    payload = {"name": "x" * (1 * MB)}
    response = finance_client.post("/api/v1/customers/", payload, format="json")
    assert response.status_code == 413
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["errors"] == {}
    assert "1 MB" in body["detail"]


def test_a_page_form_over_1_mb_is_413(client, alice):
    client.force_login(alice)
    response = client.post("/portal/keys/", {"project": "x", "name": "n" * (1 * MB + 10)})
    assert response.status_code == 413


def test_a_portal_users_upload_over_1_mb_is_413_before_parsing(alice_client, parsed):
    response = alice_client.post(
        IMPORTS, {"provider": "openai", "file": SimpleUploadedFile("c.json", b" " * (2 * MB))}, format="multipart"
    )
    assert response.status_code == 413
    assert response.json()["errors"] == {}
    assert parsed == []


def padded_json(size: int) -> bytes:
    """A provider export of ``size`` bytes: an empty list padded with white space."""
    head = b'{"object": "page", "data": []}'
    return head + b" " * (size - len(head))


def test_staff_may_upload_more_than_1_mb(finance_client, parsed):
    response = finance_client.post(
        IMPORTS, {"provider": "openai", "file": SimpleUploadedFile("c.json", padded_json(2 * MB))}, format="multipart"
    )
    assert response.status_code != 413, response.content
    assert len(parsed) == 1


def test_a_staff_upload_over_20_mb_is_413(finance_client, parsed):
    response = finance_client.post(
        IMPORTS, {"provider": "openai", "file": SimpleUploadedFile("c.json", b" " * (21 * MB))}, format="multipart"
    )
    assert response.status_code == 413
    assert "20 MB" in response.json()["detail"]
    assert parsed == []


def test_a_staff_page_upload_by_session_is_allowed(client, finance_user, parsed):
    client.force_login(finance_user)
    response = client.post(
        "/staff/reconciliation/", {"provider": "openai", "file": SimpleUploadedFile("c.json", padded_json(2 * MB))}
    )
    assert response.status_code != 413
    assert len(parsed) == 1


def test_a_usage_batch_may_be_up_to_10_mb_and_no_more(gateway_client):
    record = {"request_id": "r" * 30, "key_id": "ak_x", "model": "gpt-4o", "input_tokens": 1, "output_tokens": 1}
    body = json.dumps({"records": [record] * 20_000}).encode()  # ~2.5 MB: past the 1 MB of other JSON
    assert 1 * MB < len(body) < 10 * MB
    response = gateway_client.post("/api/v1/usage-records/", body, content_type="application/json")
    assert response.status_code == 413
    assert "10000" in response.json()["detail"].replace(",", "")  # the record limit, read by the view

    response = gateway_client.generic(
        "POST", "/api/v1/usage-records/", b"{}", content_type="application/json", CONTENT_LENGTH=str(11 * MB)
    )
    assert response.status_code == 413
    assert "10 MB" in response.json()["detail"]


def test_a_content_length_that_is_not_a_number_is_400(client):
    response = client.generic("POST", "/api/v1/bills/", b"{}", content_type="application/json", CONTENT_LENGTH="lots")
    assert response.status_code == 400
    assert set(response.json()) == {"detail", "errors"}
