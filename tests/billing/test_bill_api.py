"""The bills API: shape (CONTRACT.md), filters, drafts by id, who may see and do what,
statement confirmation, void/reissue and the close endpoint.

alice = ACME portal admin, bob = ACME developer, charlie = admin of another customer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from billing.models import Bill, BillEvent, Payment
from customers.models import PortalUser
from tests.billing.close_helpers import (
    NOV,
    claude_price,
    close,
    customer_with_contract,
    ingest,
    key_for,
    only,
    price,
    rate,
    record,
    set_terms,
    shanghai,
    travel,
)
from tests.conftest import client_for
from tests.factories import UserFactory

BILL_KEYS = {
    "id",
    "number",
    "customer",
    "project",
    "period",
    "status",
    "currency",
    "exchange_rate",
    "lines",
    "subtotal",
    "vat_rate",
    "vat",
    "total",
    "issued_on",
    "due_on",
    "amount_paid",
    "balance",
}
# Documented additions beyond CONTRACT.md (README): why a draft is held, the statement
# confirmation, the bill a reissue replaces, and when the PDF was made and sent.
BILL_EXTRA_KEYS = {"hold_reason", "confirmation", "confirmation_note", "replaces", "pdf_rendered_at", "emailed_at"}
LINE_KEYS = {
    "kind",
    "period",
    "project",
    "model",
    "requests",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "amount",
}
# note: a credit line's reason; variant and units: CONTRACT.md "Price dimensions"; unit_prices:
# the prices each line was priced with (issue 20 item 7, README "API", its bill lines); position: the
# line's address for …/lines/{position}/records/
LINE_EXTRA_KEYS = {
    "position",
    "provider",
    "discount_percent",
    "exchange_rates",
    "price_versions",
    "note",
    "variant",
    "units",
    "unit_prices",
}


@pytest.fixture
def acme_bill(acme):
    """ACME, discount 8 %, 2026-11 at 7.1456: chatbot/gpt-4o 2.5 USD → 16.43488 → 16.43,
    chatbot/claude (500,000 × 3 + 100,000 × 15) / 1M = 3 USD → 19.721856 → 19.72."""
    set_terms(acme, discount_percent=Decimal("8"))
    price()
    claude_price()
    rate(NOV, "7.1456")
    key = key_for(acme)
    ingest(
        record(key, input=1_000_000),
        record(key, model="claude-sonnet-4", input=500_000, cached=0, output=100_000),
        now=shanghai(2026, 11, 30),
    )
    with travel(2026, 12, 1):
        return only(close(acme))


@pytest.fixture
def other_bill(other_customer):
    # other_customer: USD, no discount; 2.5 USD × 7.1456 = 17.864 → 17.86, VAT 1.07
    ingest(record(key_for(other_customer, "main"), input=1_000_000), now=shanghai(2026, 11, 30))
    with travel(2026, 12, 1):
        return only(close(other_customer))


@pytest.fixture
def draft_bill(db):
    customer = customer_with_contract("HELD")
    ingest(record(key_for(customer, "main"), model="no-such-model", input=10), now=shanghai(2026, 11, 30))
    with travel(2026, 12, 1):
        bill = only(close(customer))
    assert bill.status == Bill.Status.DRAFT
    return bill


@pytest.fixture
def dora_client(acme):
    """A portal user with role finance at ACME."""
    user = UserFactory(username="dora")
    PortalUser.objects.create(user=user, customer=acme, role=PortalUser.Role.FINANCE)
    return client_for(user)


# --- Shape ----------------------------------------------------------------------------


def test_it_answers_a_bill_in_the_contract_shape(acme_bill, finance_client):
    response = finance_client.get("/api/v1/bills/BILL-ACME-202611/")

    assert response.status_code == 200
    data = response.json()
    assert set(data) == BILL_KEYS | BILL_EXTRA_KEYS
    assert {k: data[k] for k in BILL_KEYS - {"lines"}} == {
        "id": acme_bill.pk,
        "number": "BILL-ACME-202611",
        "customer": "ACME",
        "project": None,
        "period": "2026-11",
        "status": "issued",
        "currency": "CNY",
        "exchange_rate": "7.145600",
        "subtotal": "36.15",
        "vat_rate": "0.0600",
        "vat": "2.17",  # 36.15 × 0.06 = 2.169
        "total": "38.32",
        "issued_on": "2026-12-01",
        "due_on": "2026-12-31",
        "amount_paid": "0.00",
        "balance": "38.32",
    }
    assert [set(line) for line in data["lines"]] == [LINE_KEYS | LINE_EXTRA_KEYS] * 2
    assert [{k: line[k] for k in LINE_KEYS} for line in data["lines"]] == [
        {
            "kind": "usage",
            "period": "2026-11",
            "project": "chatbot",
            "model": "claude-sonnet-4",
            "requests": 1,
            "input_tokens": 500_000,
            "cached_input_tokens": 0,
            "output_tokens": 100_000,
            "amount": "19.72",
        },
        {
            "kind": "usage",
            "period": "2026-11",
            "project": "chatbot",
            "model": "gpt-4o",
            "requests": 1,
            "input_tokens": 1_000_000,
            "cached_input_tokens": 0,
            "output_tokens": 0,
            "amount": "16.43",
        },
    ]
    assert data["hold_reason"] == ""
    assert data["replaces"] is None


def test_it_lists_bills_with_filters(acme_bill, other_bill, draft_bill, finance_client):
    def numbers(query: str) -> list:
        response = finance_client.get(f"/api/v1/bills/{query}")
        assert response.status_code == 200, response.json()
        return [b["number"] or f"#{b['id']}" for b in response.json()]

    assert numbers("") == ["BILL-ACME-202611", f"#{draft_bill.pk}", "BILL-OTHER-202611"]
    assert numbers("?customer=acme") == ["BILL-ACME-202611"]
    assert numbers("?period=2026-11&status=issued") == ["BILL-ACME-202611", "BILL-OTHER-202611"]
    assert numbers("?status=draft") == [f"#{draft_bill.pk}"]
    assert numbers("?period=2026-10") == []
    assert numbers("?customer=OTHER&status=paid") == []
    listed = finance_client.get("/api/v1/bills/?customer=ACME").json()[0]
    assert set(listed) == BILL_KEYS | BILL_EXTRA_KEYS
    assert listed["total"] == "38.32"

    bad = finance_client.get("/api/v1/bills/?period=2026-13")
    assert bad.status_code == 400
    assert "period" in bad.json()["errors"]
    bad = finance_client.get("/api/v1/bills/?status=unpaid")
    assert bad.status_code == 400
    assert "status" in bad.json()["errors"]


def test_it_addresses_a_draft_by_id(draft_bill, acme_bill, finance_client):
    response = finance_client.get(f"/api/v1/bills/{draft_bill.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert data["number"] is None
    assert data["status"] == "draft"
    assert "no-such-model" in data["hold_reason"]
    assert data["issued_on"] is None
    # An issued bill is addressed by its number only; a draft has no PDF.
    assert finance_client.get(f"/api/v1/bills/{acme_bill.pk}/").status_code == 404
    assert finance_client.get(f"/api/v1/bills/{draft_bill.pk}/pdf/").status_code == 404
    assert finance_client.get("/api/v1/bills/BILL-NOPE-202611/").status_code == 404


# --- Who sees what --------------------------------------------------------------------


def test_it_shows_a_portal_admin_only_their_own_bills(acme_bill, other_bill, alice_client, charlie_client):
    assert [b["number"] for b in alice_client.get("/api/v1/bills/").json()] == ["BILL-ACME-202611"]
    assert [b["number"] for b in alice_client.get("/api/v1/bills/?customer=OTHER").json()] == []
    assert alice_client.get("/api/v1/bills/BILL-ACME-202611/").status_code == 200
    assert alice_client.get("/api/v1/bills/BILL-OTHER-202611/").status_code == 404
    assert alice_client.get("/api/v1/bills/BILL-OTHER-202611/pdf/").status_code == 404
    assert charlie_client.get("/api/v1/bills/BILL-ACME-202611/").status_code == 404
    assert charlie_client.get("/api/v1/bills/BILL-ACME-202611/pdf/").status_code == 404
    assert [b["number"] for b in charlie_client.get("/api/v1/bills/").json()] == ["BILL-OTHER-202611"]


def test_it_hides_drafts_of_other_customers_from_portal_users(draft_bill, alice_client):
    assert alice_client.get(f"/api/v1/bills/{draft_bill.pk}/").status_code == 404


def test_it_refuses_bills_to_a_developer(acme_bill, bob_client):
    assert bob_client.get("/api/v1/bills/").status_code == 403
    assert bob_client.get("/api/v1/bills/BILL-ACME-202611/").status_code == 403
    assert bob_client.get("/api/v1/bills/BILL-ACME-202611/pdf/").status_code == 403


def test_it_refuses_anonymous_and_gateway_callers(acme_bill, client, gateway_client):
    assert client.get("/api/v1/bills/").status_code == 401
    assert gateway_client.get("/api/v1/bills/BILL-ACME-202611/").status_code == 403


def test_it_lets_only_finance_record_payments(
    acme_bill, finance_client, alice_client, bob_client, charlie_client, dora_client
):
    body = {"amount": "10.00", "received_on": "2026-12-05", "reference": "REF-1"}
    url = "/api/v1/bills/BILL-ACME-202611/payments/"
    assert alice_client.post(url, body, format="json").status_code == 403
    assert dora_client.post(url, body, format="json").status_code == 403
    assert bob_client.post(url, body, format="json").status_code == 403
    assert charlie_client.post(url, body, format="json").status_code == 404
    assert not Payment.objects.exists()

    with travel(2026, 12, 5):
        response = finance_client.post(url, body, format="json")
    assert response.status_code == 201
    assert response.json() | {"id": 0} == {
        "id": 0,
        "bill": "BILL-ACME-202611",
        "method": "bank_transfer",
        "amount": "10.00",
        "applied": "10.00",
        "currency": "CNY",
        "received_on": "2026-12-05",
        "reference": "REF-1",
        "payer_name": "",
        "payer_mismatch": False,
    }
    # The customer's money roles read the payments of their own bills.
    assert [p["reference"] for p in alice_client.get(url).json()] == ["REF-1"]
    assert charlie_client.get(url).status_code == 404
    assert bob_client.get(url).status_code == 403

    bad = finance_client.post(url, {"amount": "-1", "received_on": "2026-12-05", "reference": "REF-2"}, format="json")
    assert bad.status_code == 400
    assert "amount" in bad.json()["errors"]


# --- Statement confirmation -----------------------------------------------------------


def test_it_lets_the_customer_confirm_a_statement(acme_bill, alice_client, alice):
    with travel(2026, 12, 3, 10):
        response = alice_client.post("/api/v1/bills/BILL-ACME-202611/confirm/", {"confirmed": True}, format="json")

    assert response.status_code == 200
    assert response.json()["confirmation"] == "confirmed"
    acme_bill.refresh_from_db()
    assert acme_bill.confirmed_by == alice
    assert acme_bill.confirmed_at == shanghai(2026, 12, 3, 10)
    event = acme_bill.events.get(kind="confirmed")
    assert (event.actor, event.at) == (alice, shanghai(2026, 12, 3, 10))


def test_it_needs_a_note_to_dispute_a_statement(acme_bill, dora_client):
    url = "/api/v1/bills/BILL-ACME-202611/confirm/"
    response = dora_client.post(url, {"confirmed": False, "note": "  "}, format="json")
    assert response.status_code == 400
    assert "note" in response.json()["errors"]
    acme_bill.refresh_from_db()
    assert acme_bill.confirmation == Bill.Confirmation.PENDING

    with travel(2026, 12, 4, 9):
        response = dora_client.post(url, {"confirmed": False, "note": "gpt-4o 用量与我方记录不符"}, format="json")
    assert response.status_code == 200
    assert response.json()["confirmation"] == "disputed"
    assert response.json()["confirmation_note"] == "gpt-4o 用量与我方记录不符"
    event = acme_bill.events.get(kind="disputed")
    assert event.actor.username == "dora"
    assert event.at == shanghai(2026, 12, 4, 9)
    assert event.data == {"note": "gpt-4o 用量与我方记录不符"}

    # Finance sees the dispute.
    acme_bill.refresh_from_db()
    assert acme_bill.confirmation == Bill.Confirmation.DISPUTED


def test_it_refuses_confirmation_to_a_developer_and_to_another_customer(acme_bill, bob_client, charlie_client):
    url = "/api/v1/bills/BILL-ACME-202611/confirm/"
    assert bob_client.post(url, {"confirmed": True}, format="json").status_code == 403
    assert charlie_client.post(url, {"confirmed": True}, format="json").status_code == 404
    acme_bill.refresh_from_db()
    assert acme_bill.confirmation == Bill.Confirmation.PENDING
    assert not acme_bill.events.filter(kind__in=["confirmed", "disputed"]).exists()


def test_it_refuses_to_confirm_a_draft(draft_bill, finance_client):
    response = finance_client.post(f"/api/v1/bills/{draft_bill.pk}/confirm/", {"confirmed": True}, format="json")
    assert response.status_code == 409


def test_it_records_who_and_when_for_every_transition(acme_bill, finance_client, finance_user, alice_client, alice):
    with travel(2026, 12, 3, 10):
        alice_client.post("/api/v1/bills/BILL-ACME-202611/confirm/", {"confirmed": True}, format="json")
    with travel(2026, 12, 6, 11):
        finance_client.post(
            "/api/v1/bills/BILL-ACME-202611/payments/",
            {"amount": "38.32", "received_on": "2026-12-06", "reference": "R-9"},
            format="json",
        )
    trail = [
        (e.kind, e.actor, e.at)
        for e in BillEvent.objects.filter(bill=acme_bill).exclude(kind="issued").order_by("at", "pk")
    ]
    assert trail == [
        ("confirmed", alice, shanghai(2026, 12, 3, 10)),
        ("payment", finance_user, shanghai(2026, 12, 6, 11)),
    ]
    issued = BillEvent.objects.get(bill=acme_bill, kind="issued")
    assert (issued.actor, issued.at) == (None, shanghai(2026, 12, 1, 3))


# --- Void and reissue -----------------------------------------------------------------


def test_it_voids_with_a_reason_and_reissues_through_the_api(acme_bill, finance_client, alice_client, finance_user):
    url = "/api/v1/bills/BILL-ACME-202611/"
    assert alice_client.post(url + "void/", {"reason": "x"}, format="json").status_code == 403
    response = finance_client.post(url + "void/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]

    with travel(2026, 12, 2):
        response = finance_client.post(url + "void/", {"reason": "wrong discount"}, format="json")
        assert response.status_code == 200
        assert response.json()["status"] == "void"
        response = finance_client.post(url + "reissue/", format="json")

    assert response.status_code == 201
    (reissued,) = response.json()
    assert reissued["number"] == "BILL-ACME-202611-R1"
    assert reissued["replaces"] == "BILL-ACME-202611"
    assert reissued["total"] == "38.32"
    assert reissued["issued_on"] == "2026-12-02"
    void = BillEvent.objects.get(bill=acme_bill, kind="void")
    assert (void.actor, void.data["reason"]) == (finance_user, "wrong discount")
    assert finance_client.get("/api/v1/bills/?status=void").json()[0]["number"] == "BILL-ACME-202611"


# --- Close endpoint -------------------------------------------------------------------


def test_it_queues_the_close_and_the_eager_worker_closes(acme, other_customer, finance_client):
    price()
    rate(NOV, "7.1456")
    ingest(
        record(key_for(acme), input=1_000_000),
        record(key_for(other_customer, "main"), input=2_000_000),
        now=shanghai(2026, 11, 30),
    )
    with travel(2026, 12, 1, 2):
        response = finance_client.post("/api/v1/bills/close/", {"period": "2026-11"}, format="json")

    assert response.status_code == 202
    assert response.json() == {"period": "2026-11", "queued": 2}
    totals = dict(Bill.objects.values_list("number", "total"))
    # 2.5 × 7.1456 = 17.864 → 17.86 + 1.07; 5 × 7.1456 = 35.728 → 35.73 + 2.14 (2.1438)
    assert totals == {"BILL-ACME-202611": Decimal("18.93"), "BILL-OTHER-202611": Decimal("37.87")}
    assert Bill.objects.get(number="BILL-ACME-202611").issued_on == datetime(2026, 12, 1).date()


def test_it_closes_one_customer_through_the_api(acme, other_customer, finance_client):
    price()
    rate(NOV, "7.1456")
    ingest(
        record(key_for(acme), input=1_000_000),
        record(key_for(other_customer, "main"), input=2_000_000),
        now=shanghai(2026, 11, 30),
    )
    with travel(2026, 12, 1, 2):
        response = finance_client.post("/api/v1/bills/close/", {"period": "2026-11", "customer": "acme"}, format="json")
    assert response.status_code == 202
    assert response.json()["queued"] == 1
    assert list(Bill.objects.values_list("number", flat=True)) == ["BILL-ACME-202611"]


def test_it_refuses_to_close_an_open_period_or_for_a_portal_user(acme, finance_client, alice_client):
    with travel(2026, 11, 30, 23, 59):
        response = finance_client.post("/api/v1/bills/close/", {"period": "2026-11"}, format="json")
        assert response.status_code == 400
        assert "period" in response.json()["errors"]
        assert finance_client.post("/api/v1/bills/close/", {"period": "11/2026"}, format="json").status_code == 400
    with travel(2026, 12, 1, 2):
        assert alice_client.post("/api/v1/bills/close/", {"period": "2026-11"}, format="json").status_code == 403
        response = finance_client.post("/api/v1/bills/close/", {"period": "2026-11", "customer": "NOPE"}, format="json")
        assert response.status_code == 400
    assert not Bill.objects.exists()
