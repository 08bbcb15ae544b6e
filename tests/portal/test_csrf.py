"""Every portal form is a POST with CSRF: without the token it is refused (403) and nothing
changes; with it, the same POST goes through."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from billing.models import Bill
from customers.models import InvoiceTitle
from invoices.models import InvoiceRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict(alice, acme_world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    return client


def _token(client, url: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(url).content.decode()).group(1)


def test_a_confirmation_without_the_token_is_refused(strict, acme_world):
    bill = acme_world["bill"]

    refused = strict.post(f"/portal/bills/{bill.number}/confirm/", {"action": "confirm"})
    bill.refresh_from_db()
    assert refused.status_code == 403
    assert bill.confirmation == Bill.Confirmation.PENDING

    token = _token(strict, f"/portal/bills/{bill.number}/")
    done = strict.post(f"/portal/bills/{bill.number}/confirm/", {"action": "confirm", "csrfmiddlewaretoken": token})
    bill.refresh_from_db()
    assert done.status_code == 302
    assert bill.confirmation == Bill.Confirmation.CONFIRMED


def test_an_invoice_request_without_the_token_is_refused(strict, acme_world):
    answer = strict.post("/portal/invoice-requests/", {"bill": acme_world["bill"].number, "invoice_type": "special"})

    assert answer.status_code == 403
    assert not InvoiceRequest.objects.exists()


def test_a_title_without_the_token_is_refused(strict, acme_world):
    answer = strict.post("/portal/invoice-titles/new/", {"name": "X", "invoice_type": "ordinary"})

    assert answer.status_code == 403
    assert InvoiceTitle.objects.count() == 1


def test_signing_in_without_the_token_is_refused(alice):
    client = Client(enforce_csrf_checks=True)

    answer = client.post("/portal/login/", {"username": "alice", "password": "correct-horse-battery"})

    assert answer.status_code == 403
    assert "_auth_user_id" not in client.session
