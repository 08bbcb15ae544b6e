"""Issue 21 item 12: an e-mail channel a customer sets is held to the webhook host rule —
no address literals, no internal, reserved or unqualified domains — at entry (API and
portal) and before a send; our staff may still use internal addresses."""

from __future__ import annotations

import pytest

from billing.budgets.channels import ChannelRefused, check_before_send, check_channel
from billing.models import Budget

pytestmark = pytest.mark.django_db
URL = "/api/v1/customers/ACME/budgets/"
INTERNAL = [
    "x@[127.0.0.1]",
    "x@[IPv6:::1]",
    "root@localhost",
    "ops@mailhost",
    "ops@10.0.0.5",
    "ops@169.254.169.254",
    "ops@corp.internal",
    "ops@printer.local",
    "ops@acme.test",
    "ops@srv.localhost",
    "ops@home.arpa",
]


def body(channels):
    return {"scope": "customer", "target": None, "monthly_amount": "100.00", "channels": channels}


@pytest.mark.parametrize("address", INTERNAL)
def test_a_customer_cannot_set_an_internal_email_address(alice_client, acme_project, address):
    response = alice_client.post(URL, body(["ops@acme.example.cn", address]), format="json")

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert list(errors) == ["channels"]
    assert address in errors["channels"][0]
    assert not Budget.objects.exists()


def test_a_public_address_is_kept(alice_client, acme_project):
    response = alice_client.post(URL, body(["ops@acme.example.cn", "finance@例子.中国"]), format="json")

    assert response.status_code == 201, response.content
    budget = Budget.objects.get()
    assert budget.channels == ["ops@acme.example.cn", "finance@例子.中国"]
    assert response.json()["channels"] == budget.channels


def test_the_portal_form_refuses_the_same(client, alice, acme_project):
    client.force_login(alice)
    page = client.post(
        "/portal/budgets/",
        {"scope": "customer", "monthly_amount": "100", "thresholds": "50,80,100", "channels": "root@localhost"},
    )
    assert page.status_code == 200
    assert "root@localhost" in page.content.decode()
    assert not Budget.objects.exists()


@pytest.mark.parametrize("address", ["billing@procurement.local", "ops@[10.0.0.1]"])
def test_staff_may_use_an_internal_address(address):
    assert check_channel(address, staff=True) == address


@pytest.mark.parametrize("address", ["root@localhost", "x@[127.0.0.1]", "mailto:ops@corp.internal"])
def test_an_internal_address_kept_before_the_rule_is_refused_before_a_send(address):
    with pytest.raises(ChannelRefused):
        check_before_send(address)


def test_an_internal_address_kept_on_a_customers_budget_is_not_sent_to(acme):
    from datetime import date
    from decimal import Decimal

    from django.core import mail

    from billing.budgets.alerts import CUSTOMER_DELIVERY_ERROR, alert_deliver
    from billing.models import Alert, AlertDelivery

    # Kept before the rule existed (written past the entry check), set by the customer.
    budget = Budget.objects.create(
        customer=acme, scope="customer", monthly_amount=Decimal("100"), channels=["root@localhost"]
    )
    alert = Alert.objects.create(
        customer=acme,
        budget=budget,
        kind=Alert.Kind.THRESHOLD,
        threshold=50,
        period=date(2026, 11, 1),
        amount=Decimal("50.00"),
        message="half",
        dedupe_key="email-rule",
    )
    delivery = AlertDelivery.objects.create(alert=alert, channel="root@localhost")

    with pytest.raises(ChannelRefused):
        alert_deliver(delivery_id=delivery.pk)

    assert mail.outbox == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (AlertDelivery.Status.FAILED, CUSTOMER_DELIVERY_ERROR)


def test_the_same_address_on_a_staff_budget_is_sent_to(acme):
    from datetime import date
    from decimal import Decimal

    from django.core import mail

    from billing.budgets.alerts import alert_deliver
    from billing.models import Alert, AlertDelivery

    budget = Budget.objects.create(
        customer=acme,
        scope="customer",
        monthly_amount=Decimal("100"),
        channels=["ops@corp.internal"],
        channels_by_staff=True,
    )
    alert = Alert.objects.create(
        customer=acme,
        budget=budget,
        kind=Alert.Kind.THRESHOLD,
        threshold=50,
        period=date(2026, 11, 1),
        amount=Decimal("50.00"),
        message="half",
        dedupe_key="email-rule-staff",
    )
    delivery = AlertDelivery.objects.create(alert=alert, channel="ops@corp.internal")

    assert alert_deliver(delivery_id=delivery.pk) is True
    assert [m.to for m in mail.outbox] == [["ops@corp.internal"]]
