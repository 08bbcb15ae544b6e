"""The audit trail (issue 14 item 5): every change of money terms — a price version, an
exchange rate, a contract — leaves an event with who and when; payments and voids leave
theirs on the bill; the trail is visible to finance in the admin and cannot be edited,
added to or deleted there."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import AuditEvent, Contract
from tests.admin.helpers import page_data
from tests.customers.test_contracts import contract_payload, url
from tests.invoices.conftest import acme_bill, seller  # noqa: F401

pytestmark = pytest.mark.django_db

PRICE = {
    "provider": "openai",
    "model": "gpt-4o",
    "effective_from": "2026-11-01",
    "currency": "USD",
    "input_per_mtok": "2.50",
    "cached_input_per_mtok": "1.25",
    "output_per_mtok": "10.00",
}


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def test_a_price_version_set_and_changed_is_recorded_with_who_and_what(finance_client, finance_user):
    assert finance_client.post("/api/v1/prices/", PRICE, format="json").status_code == 201
    assert (
        finance_client.post("/api/v1/prices/", {**PRICE, "output_per_mtok": "12.00"}, format="json").status_code == 200
    )

    first, second = events("price_version_set")
    assert first.actor == finance_user and second.actor == finance_user
    assert first.target == second.target == "openai/gpt-4o @ 2026-11-01T00:00:00+08:00"
    assert first.facts["created"] is True
    assert (
        first.facts["changes"]["input_per_mtok"] == [None, "2.500000"]
        or first.facts["changes"]["input_per_mtok"][0] is None
    )
    # The shorthand and the price map it stands for (prices.output_mtok) both show the change.
    assert second.facts["created"] is False and second.facts["source"] == "api"
    assert set(second.facts["changes"]) == {"output_per_mtok", "prices"}
    assert second.facts["changes"]["output_per_mtok"] == ["10", "12"]
    before, after = second.facts["changes"]["prices"]
    assert '"output_mtok": "10"' in before and '"output_mtok": "12"' in after
    assert second.at >= first.at


def test_an_exchange_rate_set_and_changed_is_recorded(finance_client, finance_user):
    finance_client.post(
        "/api/v1/exchange-rates/", {"currency": "USD", "period": "2026-11", "rate": "7.1234"}, format="json"
    )
    finance_client.post(
        "/api/v1/exchange-rates/", {"currency": "USD", "period": "2026-11", "rate": "7.2000"}, format="json"
    )

    first, second = events("exchange_rate_set")
    assert (first.target, first.actor, first.facts["created"]) == ("USD 2026-11", finance_user, True)
    assert second.facts == {"created": False, "changes": {"rate": ["7.1234", "7.2"]}}


def test_a_contract_created_by_the_api_and_changed_in_the_admin_is_recorded(finance_client, finance_user, acme, client):
    created = finance_client.post(url(), contract_payload(number="HT-ACME-2"), format="json")
    assert created.status_code == 201, created.content
    (made,) = events("contract_created")
    assert made.actor == finance_user and made.target.startswith("HT-ACME-2")

    contract = Contract.objects.get(number="HT-ACME-2")
    client.force_login(finance_user)
    change = reverse("admin:customers_contract_change", args=[contract.pk])
    data = page_data(client, change, discount_percent="12.50")
    answer = client.post(change, data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors if answer.context else answer
    (changed,) = events("contract_changed")
    assert changed.actor == finance_user
    assert changed.facts == {"changes": {"discount_percent": ["7.5", "12.5"]}}


def test_a_payment_and_a_void_leave_events_with_who_and_when(finance_client, finance_user, acme_bill):  # noqa: F811
    from time_machine import travel

    from billing.models import BillEvent
    from tests.billing.helpers import shanghai

    with travel(shanghai(2026, 11, 6, 12), tick=False):
        paid = finance_client.post(
            f"/api/v1/bills/{acme_bill.number}/payments/",
            {"amount": "1.00", "received_on": "2026-11-06", "reference": "AUDIT-1"},
            format="json",
        )
    assert paid.status_code == 201, paid.content
    event = BillEvent.objects.get(bill=acme_bill, kind=BillEvent.Kind.PAYMENT)
    assert event.actor == finance_user
    assert event.at is not None


def test_finance_reads_the_trail_in_the_admin_and_cannot_change_it(client, finance_user, finance_client):
    finance_client.post(
        "/api/v1/exchange-rates/", {"currency": "USD", "period": "2026-11", "rate": "7.1234"}, format="json"
    )
    event = AuditEvent.objects.get()
    client.force_login(finance_user)

    listing = client.get(reverse("admin:customers_auditevent_changelist"))
    assert listing.status_code == 200
    assert "USD 2026-11" in listing.content.decode()
    assert client.get(reverse("admin:customers_auditevent_add")).status_code == 403
    detail = client.get(reverse("admin:customers_auditevent_change", args=[event.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert (
        client.post(reverse("admin:customers_auditevent_change", args=[event.pk]), {"target": "x"}).status_code == 403
    )
    assert (
        client.post(reverse("admin:customers_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    event.refresh_from_db()
    assert event.target == "USD 2026-11"
    assert Decimal(event.facts["changes"]["rate"][1]) == Decimal("7.1234")
