"""Limits a customer cannot exceed (issue 21, finding 1; CONTRACT "One figure, limits and
exports"): at most 10 thresholds and 10 channels per budget and 50 budgets per customer,
each a 400 naming the field on the API and an error beside the field on the portal; the
"send test" of a budget at most 10 an hour (429 on the API, a message on the portal)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail

from billing.budgets.budgets import MAX_BUDGETS_PER_CUSTOMER, budget_create
from billing.models import Budget
from tests.invoices.helpers import SHANGHAI
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/ACME/budgets/"
EMAILS = [f"ops{i}@acme.example.cn" for i in range(11)]


@pytest.fixture(autouse=True)
def _november(time_machine):
    time_machine.move_to(datetime(2026, 11, 5, 10, 0, tzinfo=SHANGHAI), tick=False)


def body(**changes) -> dict:
    return {"scope": "customer", "monthly_amount": "100.00", "currency": "CNY", **changes}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"thresholds": list(range(10, 120, 10))}, "thresholds"),  # 11
        ({"channels": EMAILS}, "channels"),  # 11
        ({"channels": EMAILS * 100}, "channels"),  # 1,100 lines, 11 distinct
    ],
)
def test_the_api_refuses_more_than_ten_thresholds_or_channels_naming_the_field(alice_client, acme, changes, field):
    response = alice_client.post(URL, body(**changes), format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    assert not Budget.objects.exists()


def test_ten_thresholds_and_ten_channels_are_accepted(alice_client, acme):
    changes = {"thresholds": list(range(10, 110, 10)), "channels": EMAILS[:10]}

    response = alice_client.post(URL, body(**changes), format="json")

    assert response.status_code == 201, response.content
    assert len(response.json()["channels"]) == 10 and len(response.json()["thresholds"]) == 10


def test_the_service_holds_every_caller_to_the_limits(acme):
    """The admin and the portal go through budget_create too: the service refuses, not only the API."""
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        budget_create(
            customer=acme, scope="customer", target=None, monthly_amount=Decimal("1"), channels=EMAILS, staff=True
        )
    assert list(refused.value.error_dict) == ["channels"]
    with pytest.raises(ValidationError) as refused:
        budget_create(
            customer=acme, scope="customer", target=None, monthly_amount=Decimal("1"), thresholds=list(range(1, 12))
        )
    assert list(refused.value.error_dict) == ["thresholds"]


def test_the_fifty_first_budget_of_a_customer_is_refused(alice_client, acme, other_customer):
    for _n in range(MAX_BUDGETS_PER_CUSTOMER):
        budget_create(customer=acme, scope="customer", target=None, monthly_amount=Decimal("1"))

    response = alice_client.post(URL, body(), format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["At most 50 budgets per customer."]}
    assert Budget.objects.filter(customer=acme).count() == MAX_BUDGETS_PER_CUSTOMER
    # Another customer's budgets are counted on their own.
    budget_create(customer=other_customer, scope="customer", target=None, monthly_amount=Decimal("1"))


def test_the_portal_shows_the_limit_beside_the_field(alice, acme):
    form = {
        "scope": "customer",
        "target": "",
        "monthly_amount": "1000.00",
        "currency": "CNY",
        "thresholds": ", ".join(str(t) for t in range(10, 120, 10)),
        "channels": "\n".join(EMAILS[:3]),
    }
    page = signed_in(alice, "en").post("/portal/budgets/", form)
    assert 'id="field-thresholds"' in page.content.decode()
    assert "At most 10 thresholds per budget." in page.content.decode()

    page = signed_in(alice, "en").post("/portal/budgets/", {**form, "thresholds": "50", "channels": "\n".join(EMAILS)})
    assert "At most 10 channels per budget." in page.content.decode()
    assert not Budget.objects.exists()


# --- "Send test": 10 an hour per budget -------------------------------------------------------


@pytest.fixture
def budget(acme):
    return budget_create(
        customer=acme, scope="customer", target=None, monthly_amount=Decimal("100"), channels=EMAILS[:2]
    )


def test_the_api_sends_ten_tests_an_hour_then_answers_429(alice_client, budget, time_machine):
    url = f"{URL}{budget.pk}/test/"
    for n in range(10):
        response = alice_client.post(url, {"channel": EMAILS[n % 2]}, format="json")
        assert response.status_code == 200, (n, response.content)
        assert response.json() == {"channel": EMAILS[n % 2], "sent": True}

    refused = alice_client.post(url, {"channel": EMAILS[0]}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert refused.status_code == 429
    assert set(refused.json()) == {"detail", "errors"}
    assert "10 test notifications an hour" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    assert len(mail.outbox) == 10
    time_machine.shift(timedelta(hours=1, seconds=1))
    assert alice_client.post(url, {"channel": EMAILS[0]}, format="json").status_code == 200
    assert len(mail.outbox) == 11


def test_the_limit_is_per_budget_and_the_api_checks_the_channel(alice_client, acme, budget):
    other = budget_create(
        customer=acme, scope="customer", target=None, monthly_amount=Decimal("1"), channels=EMAILS[:1]
    )
    for _n in range(10):
        alice_client.post(f"{URL}{budget.pk}/test/", {"channel": EMAILS[0]}, format="json")

    assert alice_client.post(f"{URL}{other.pk}/test/", {"channel": EMAILS[0]}, format="json").status_code == 200
    wrong = alice_client.post(f"{URL}{other.pk}/test/", {"channel": "x@evil.example"}, format="json")
    assert wrong.status_code == 400 and list(wrong.json()["errors"]) == ["channel"]


def test_another_customer_and_a_developer_cannot_send_tests(charlie_client, bob_client, budget):
    url = f"{URL}{budget.pk}/test/"
    assert charlie_client.post(url, {"channel": EMAILS[0]}, format="json").status_code == 404
    assert bob_client.post(url, {"channel": EMAILS[0]}, format="json").status_code == 403
    assert len(mail.outbox) == 0


def test_the_portal_says_so_after_ten_tests_an_hour(alice, budget):
    client = signed_in(alice, "en")
    for _n in range(10):
        client.post(f"/portal/budgets/{budget.pk}/test/", {"channel": EMAILS[0]})

    page = client.post(f"/portal/budgets/{budget.pk}/test/", {"channel": EMAILS[0]}, follow=True)

    assert "At most 10 test notifications an hour per budget. Try again later." in page.content.decode()
    assert len(mail.outbox) == 10
