"""Budgets: the API, threshold alerts exactly once per (budget, period, threshold), the month
reset in Asia/Shanghai, USD budgets at the period's rate, and coalesced evaluation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.utils import translation

from billing import tasks
from billing.budgets.budgets import budget_create, budget_evaluate
from billing.metering.evaluation_requests import budget_evaluation_request
from billing.models import Alert, AlertDelivery, Budget, BudgetEvaluationRequest, ExchangeRate, UsageRollup
from tests.billing.alerts_helpers import ingest_committed, meter_price, spend
from tests.billing.helpers import rollup_rows, shanghai
from tests.factories import api_key_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/ACME/budgets/"
NOV = date(2026, 11, 1)
DEC = date(2026, 12, 1)


@pytest.fixture
def meter(db):
    return meter_price()


@pytest.fixture
def budget(acme, acme_key, meter, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return budget_create(
            customer=acme,
            scope="customer",
            target=None,
            monthly_amount=Decimal("1000.00"),
            channels=["ops@acme.example.cn"],
        )


def threshold_alerts(**filters) -> list[tuple]:
    return sorted(
        Alert.objects.filter(kind="threshold", **filters).values_list("period", "threshold", "amount"),
    )


# --- API --------------------------------------------------------------------------------


def body(**fields):
    return {"scope": "customer", "target": None, "monthly_amount": "20000.00", **fields}


def test_it_lets_finance_and_the_customer_admin_create_budgets(finance_client, alice_client, acme_key):
    response = finance_client.post(URL, body(), format="json")
    assert response.status_code == 201, response.content
    assert response.json() == {
        "id": response.json()["id"],
        "customer": "ACME",
        "scope": "customer",
        "target": None,
        "monthly_amount": "20000.00",
        "currency": "CNY",
        "thresholds": [50, 80, 100],
        "hard_limit": False,
        "channels": [],
        "is_active": True,
    }
    response = alice_client.post(
        URL,
        body(
            scope="api_key",
            target=acme_key.key_id,
            monthly_amount="100",
            currency="USD",
            thresholds=[90, 25, 25],
            hard_limit=True,
            channels=["ops@acme.example.cn", "wecombot://acme-bot-key"],
        ),
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["scope"], data["target"], data["currency"], data["thresholds"], data["hard_limit"]) == (
        "api_key",
        acme_key.key_id,
        "USD",
        [25, 90],
        True,
    )
    project = alice_client.post(URL, body(scope="project", target="chatbot"), format="json")
    assert project.status_code == 201 and project.json()["target"] == "chatbot"
    assert Budget.objects.filter(customer__code="ACME").count() == 3
    assert alice_client.get(URL).status_code == 200 and len(alice_client.get(URL).json()) == 3


def test_it_refuses_a_developer_with_403_and_another_customer_with_404(bob_client, charlie_client, acme):
    assert bob_client.post(URL, body(), format="json").status_code == 403
    assert charlie_client.post(URL, body(), format="json").status_code == 404
    assert charlie_client.get(URL).status_code == 404
    assert bob_client.get(URL).status_code == 200  # developers read budgets
    assert not Budget.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"scope": "team"}, "scope"),
        ({"scope": "project", "target": "no-such-project"}, "target"),
        ({"scope": "project", "target": None}, "target"),
        ({"scope": "api_key", "target": "ak_missing"}, "target"),
        ({"scope": "customer", "target": "chatbot"}, "target"),
        ({"thresholds": [0, 50]}, "thresholds"),
        ({"thresholds": [50, 1001]}, "thresholds"),
        ({"thresholds": ["half"]}, "thresholds"),
        ({"channels": ["not an address"]}, "channels"),
        ({"channels": ["ops@acme.example.cn", "nosuchscheme://x"]}, "channels"),
        ({"monthly_amount": "0"}, "monthly_amount"),
        ({"monthly_amount": "-5"}, "monthly_amount"),
        ({"currency": "EUR"}, "currency"),
    ],
)
def test_it_names_the_field_of_a_bad_budget(alice_client, acme_project, fields, field):
    response = alice_client.post(URL, body(**fields), format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    assert not Budget.objects.exists()


def test_it_refuses_a_target_of_another_customer(alice_client, acme, other_key):
    response = alice_client.post(URL, body(scope="api_key", target=other_key.key_id), format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["target"]


# --- Threshold alerts -----------------------------------------------------------------------


@time_machine.travel(shanghai(2026, 11, 20, 12), tick=False)
def test_it_fires_each_threshold_once_across_evaluations_and_ingestion(
    budget, acme_key, django_capture_on_commit_callbacks
):
    key = acme_key.key_id
    first = [spend(key, "300", date(2026, 11, 3)), spend(key, "250.50", date(2026, 11, 10))]
    ingest_committed(django_capture_on_commit_callbacks, first)
    assert threshold_alerts() == [(NOV, 50, Decimal("550.50"))]

    # again and again: evaluated, re-ingested (duplicates), evaluated by the beat
    for _ in range(3):
        assert budget_evaluate(budget)[2] == []
    assert ingest_committed(django_capture_on_commit_callbacks, first).duplicates == 2
    tasks.budgets_evaluate_all()
    assert threshold_alerts() == [(NOV, 50, Decimal("550.50"))]

    ingest_committed(django_capture_on_commit_callbacks, [spend(key, "250", date(2026, 11, 19))])  # 80.05 %
    ingest_committed(django_capture_on_commit_callbacks, [spend(key, "199.49", date(2026, 11, 20))])  # 99.999 %
    assert threshold_alerts() == [(NOV, 50, Decimal("550.50")), (NOV, 80, Decimal("800.50"))]

    ingest_committed(django_capture_on_commit_callbacks, [spend(key, "0.01", date(2026, 11, 20))])  # exactly 100 %
    ingest_committed(django_capture_on_commit_callbacks, [spend(key, "500", date(2026, 11, 20))])
    tasks.budgets_evaluate_all()
    assert threshold_alerts() == [
        (NOV, 50, Decimal("550.50")),
        (NOV, 80, Decimal("800.50")),
        (NOV, 100, Decimal("1000.00")),
    ]
    assert AlertDelivery.objects.filter(status="sent").count() == 3
    assert [m.to for m in mail.outbox] == [["ops@acme.example.cn"]] * 3
    # The share is quantized to 0.1 % (Chinese, the default language).
    assert "本月消费 ¥1,000.00，已达预算 ¥1,000.00 的 100.0%（阈值 100%）" in mail.outbox[2].body


@time_machine.travel(shanghai(2026, 11, 20, 12), tick=False)
def test_it_crosses_several_thresholds_at_once_with_one_alert_each(
    budget, acme_key, django_capture_on_commit_callbacks
):
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "1200", date(2026, 11, 20))])
    assert threshold_alerts() == [(NOV, t, Decimal("1200.00")) for t in (50, 80, 100)]
    assert len(mail.outbox) == 3


@time_machine.travel(shanghai(2026, 11, 20, 12), tick=False)
def test_it_counts_only_the_budgets_scope(acme, acme_key, meter, django_capture_on_commit_callbacks):
    other_project_key, _secret = api_key_for(acme_key.project, name="second")
    key_budget = budget_create(customer=acme, scope="api_key", target=acme_key.key_id, monthly_amount=Decimal("100"))
    project_budget = budget_create(customer=acme, scope="project", target="chatbot", monthly_amount=Decimal("100"))
    ingest_committed(
        django_capture_on_commit_callbacks,
        [spend(acme_key.key_id, "40", date(2026, 11, 20)), spend(other_project_key.key_id, "30", date(2026, 11, 20))],
    )
    assert budget_evaluate(key_budget)[:2] == (Decimal("40.00"), Decimal("100"))
    assert budget_evaluate(project_budget)[:2] == (Decimal("70.00"), Decimal("100"))
    assert threshold_alerts(budget=project_budget) == [(NOV, 50, Decimal("70.00"))]
    assert threshold_alerts(budget=key_budget) == []


@time_machine.travel(shanghai(2026, 11, 20, 12), tick=False)
def test_it_converts_a_usd_budget_at_the_periods_rate(acme, acme_key, meter, django_capture_on_commit_callbacks):
    ExchangeRate.objects.create(currency="USD", period=date(2026, 10, 1), rate=Decimal("7.00"))
    ExchangeRate.objects.create(currency="USD", period=NOV, rate=Decimal("7.10"))
    usd = budget_create(customer=acme, scope="customer", target=None, monthly_amount=Decimal("100"), currency="USD")
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "354.99", date(2026, 11, 2))])
    assert budget_evaluate(usd)[:2] == (Decimal("354.99"), Decimal("710.00"))  # 100 USD × 7.10, not 7.00
    assert threshold_alerts() == []
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "0.01", date(2026, 11, 2))])
    assert threshold_alerts() == [(NOV, 50, Decimal("355.00"))]


@time_machine.travel(shanghai(2026, 11, 20, 12), tick=False)
def test_it_waits_for_a_rate_before_judging_a_usd_budget(acme, acme_key, meter, django_capture_on_commit_callbacks):
    usd = budget_create(customer=acme, scope="customer", target=None, monthly_amount=Decimal("1"), currency="USD")
    ingest_committed(django_capture_on_commit_callbacks, [spend(acme_key.key_id, "1000", date(2026, 11, 2))])
    assert budget_evaluate(usd)[:2] == (Decimal("1000.00"), None)
    assert not Alert.objects.exists()


# --- The month reset --------------------------------------------------------------------------


def test_it_starts_over_at_the_month_boundary_in_shanghai_without_touching_spend(
    budget, acme_key, django_capture_on_commit_callbacks
):
    key = acme_key.key_id
    with time_machine.travel(shanghai(2026, 11, 30, 23, 50), tick=False):
        ingest_committed(django_capture_on_commit_callbacks, [spend(key, "1500", date(2026, 11, 30), hour=23)])
        assert [t for _p, t, _a in threshold_alerts()] == [50, 80, 100]
    november = rollup_rows()

    # 16:30 UTC on 30 November is 00:30 on 1 December in Shanghai: a new period.
    with time_machine.travel(shanghai(2026, 12, 1, 0, 30), tick=False):
        tasks.budgets_evaluate_all()
        assert [p for p, _t, _a in threshold_alerts()] == [NOV] * 3  # December spend is 0
        ingest_committed(django_capture_on_commit_callbacks, [spend(key, "600", date(2026, 12, 1), hour=0)])
        tasks.budgets_evaluate_all()
        ingest_committed(django_capture_on_commit_callbacks, [spend(key, "0.01", date(2026, 12, 1), hour=0)])

    assert threshold_alerts(period=DEC) == [(DEC, 50, Decimal("600.00"))]
    assert threshold_alerts(period=NOV) == [
        (NOV, 50, Decimal("1500.00")),
        (NOV, 80, Decimal("1500.00")),
        (NOV, 100, Decimal("1500.00")),
    ]
    # November's rollups are exactly as they were; December's spend is its own rows.
    assert [r for r in rollup_rows() if r[8] == NOV] == november
    assert UsageRollup.objects.filter(period=NOV).get().cost == Decimal("1500")
    assert sum(r.cost for r in UsageRollup.objects.filter(period=DEC)) == Decimal("600.01")


# --- Coalescing ----------------------------------------------------------------------------


@time_machine.travel(shanghai(2026, 11, 20, 12), tick=False)
def test_it_coalesces_a_burst_of_batches_into_one_evaluation(
    budget, acme, acme_key, other_key, django_capture_on_commit_callbacks
):
    key = acme_key.key_id
    with mock.patch.object(tasks.budgets_evaluate, "apply_async") as enqueue:
        for i in range(8):
            ingest_committed(django_capture_on_commit_callbacks, [spend(key, "10", date(2026, 11, 20), hour=i)])
        assert enqueue.call_count == 1
        assert enqueue.call_args == mock.call((acme.pk,), countdown=1)
        assert list(BudgetEvaluationRequest.objects.values_list("customer_id", flat=True)) == [acme.pk]

        # The evaluation claims the request; the next batch asks again.
        tasks.budgets_evaluate(acme.pk)
        assert not BudgetEvaluationRequest.objects.exists()
        ingest_committed(django_capture_on_commit_callbacks, [spend(key, "10", date(2026, 11, 20), hour=9)])
        assert enqueue.call_count == 2

        # A customer without an active budget is never queued.
        ingest_committed(django_capture_on_commit_callbacks, [spend(other_key.key_id, "10", date(2026, 11, 20))])
        budget_evaluation_request(customer_ids={other_key.customer_id})
        assert enqueue.call_count == 2
        assert list(BudgetEvaluationRequest.objects.values_list("customer_id", flat=True)) == [acme.pk]


# --- The admin's budget form goes through the budget service ------------------------------


def _admin_save(obj: Budget, user, change: bool) -> mock.MagicMock:
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    from billing.admin.budgets import BudgetAdmin

    model_admin = BudgetAdmin(Budget, django_admin.site)
    request = RequestFactory().post("/admin/billing/budget/")
    request.user = user
    with mock.patch.object(model_admin, "message_user") as message_user, translation.override("en"):
        model_admin.save_model(request, obj, form=None, change=change)
    return message_user


def test_it_refuses_an_admin_budget_the_api_would_refuse(acme, finance_user):
    says = _admin_save(
        Budget(customer=acme, scope="customer", monthly_amount=Decimal("100"), channels=["not a channel"]),
        finance_user,
        change=False,
    )
    assert not Budget.objects.exists()
    assert "Not an e-mail address" in says.call_args.args[1]


def test_it_creates_and_changes_an_admin_budget_through_the_service(acme, acme_key, finance_user):
    obj = Budget(customer=acme, scope="customer", monthly_amount=Decimal("100"), thresholds=[80, 50, 80], channels=[])
    _admin_save(obj, finance_user, change=False)
    budget = Budget.objects.get()
    assert budget.thresholds == [50, 80]  # sorted and de-duplicated, as budget_create does
    assert budget.created_by == finance_user

    budget.monthly_amount = Decimal("-5")
    says = _admin_save(budget, finance_user, change=True)
    assert Budget.objects.get().monthly_amount == Decimal("100.00")
    assert "greater than zero" in says.call_args.args[1]

    budget.monthly_amount = Decimal("250")
    _admin_save(budget, finance_user, change=True)
    assert Budget.objects.get().monthly_amount == Decimal("250.00")
