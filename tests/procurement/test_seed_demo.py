"""seed_demo loads the demo the README describes, whatever the date, and changes nothing
the second time."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from billing.budgets.spend import budget_use
from billing.models import Alert, Bill, Budget, UsageRecord
from billing.periods import next_period
from billing.pricing.cost import cny_unrounded
from billing.pricing.selectors import contract_for_period, exchange_rate_for
from customers.models import ApiKey, Contract, Customer, PortalUser, Project
from customers.validators import check_tax_id
from invoices.models import Invoice
from presales.models import Estimate, Proposal
from procurement.demo import DEMO_LOGINS

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A tenth of the demo's volume: the same shape (budgets and commitment scale with it), 10× faster.
SCALE = 0.1
# About 69,000 calls at scale 1 (README, "What make run shows"), whatever the date.
CALLS = (62_000 * SCALE, 76_000 * SCALE)

# The demo's usage runs up to "now": both runs happen at the same frozen instant.
NOW = datetime(2026, 6, 15, 14, 30, tzinfo=SHANGHAI)


def row_counts() -> dict[str, int]:
    labels = ("auth", "customers", "billing", "invoices", "presales")
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in labels and model._meta.managed
    }


def seed(scale: float = SCALE) -> str:
    out = StringIO()
    call_command("seed_demo", "--force", f"--scale={scale}", stdout=out)
    return out.getvalue()


def test_it_loads_the_demo_once_and_changes_nothing_the_second_time():
    with time_machine.travel(NOW, tick=False):
        assert "Demo data ready" in seed()
        first = row_counts()
        seed()
        second = row_counts()

    assert second == first
    # YUNQI is the presales prospect that accepted its proposal: a customer with a draft contract
    assert sorted(Customer.objects.values_list("code", flat=True)) == ["ACME", "BEIDOU", "NANHAI", "YUNQI"]
    for customer in Customer.objects.all():
        assert check_tax_id(customer.tax_id).valid, customer.tax_id
    for customer in Customer.objects.exclude(code="YUNQI"):
        assert Contract.objects.filter(customer=customer, status="active").count() == 1
    assert Estimate.objects.count() == 2
    accepted = Proposal.objects.get(accepted_at__isnull=False)
    assert (accepted.customer.code, accepted.contract.status) == ("YUNQI", "draft")
    assert Proposal.objects.get(accepted_at__isnull=True).versions.count() == 2
    assert ApiKey.objects.count() == Project.objects.count() == 6  # one key per demo project
    sign_in = RequestFactory().post("/portal/login/")  # django-axes throttles by the request's address
    for username, password, _who in DEMO_LOGINS:
        assert authenticate(sign_in, username=username, password=password) is not None, username
    assert PortalUser.objects.get(user__username="acme-admin").role == "admin"
    # invoices: issued ones, and one reversed by a red-letter invoice and issued again
    assert Invoice.objects.filter(color="blue", status="issued").exists()
    assert Invoice.objects.filter(color="blue", status="reversed").count() == 1
    assert Invoice.objects.filter(color="red").count() == 1


def test_a_later_run_the_same_month_adds_only_the_new_usage():
    with time_machine.travel(datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI), tick=False):
        seed()
    before = UsageRecord.objects.count()
    bills = set(Bill.objects.values_list("id", "number", "total"))
    with time_machine.travel(datetime(2026, 6, 16, 18, 0, tzinfo=SHANGHAI), tick=False):
        out = seed()

    assert UsageRecord.objects.count() > before
    assert "usage: 0 new records" not in out
    # no conflicts (same request id, other content) and nothing added to closed months
    # (statuses may move on: a part-paid bill falls overdue)
    assert not apps.get_model("billing", "QuarantinedRecord").objects.exists()
    assert set(Bill.objects.values_list("id", "number", "total")) == bills


@pytest.mark.parametrize(
    "now",
    [
        datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI),  # new year, before any call of the month
        datetime(2026, 12, 3, 11, 0, tzinfo=SHANGHAI),  # the date of the issue's report
        datetime(2027, 3, 1, 9, 30, tzinfo=SHANGHAI),  # after a February
        datetime(2026, 7, 15, 16, 0, tzinfo=SHANGHAI),
        datetime(2026, 8, 31, 23, 50, tzinfo=SHANGHAI),  # the last minutes of a month
    ],
    ids=lambda now: f"{now:%Y-%m-%dT%H:%M}",
)
def test_it_shows_what_the_readme_says_on_any_date(now):
    with time_machine.travel(now, tick=False):
        seed()

    this_month = now.date().replace(day=1)
    last, middle, oldest = (next_period(this_month, -n) for n in (1, 2, 3))
    assert CALLS[0] <= UsageRecord.objects.count() <= CALLS[1]

    # three past months closed and PDF-rendered: the oldest paid, the next part-paid, the last open
    issued = Bill.objects.exclude(status__in=(Bill.Status.DRAFT, Bill.Status.VOID))
    assert {b.period for b in issued} == {oldest, middle, last}
    assert all(b.pdf for b in issued)
    assert {b.status for b in issued.filter(period=oldest)} == {Bill.Status.PAID}
    for bill in issued.filter(period=middle):
        assert Decimal("0") < bill.amount_paid.amount < bill.total.amount, bill
        assert bill.status == (Bill.Status.OVERDUE if bill.due_on < now.date() else Bill.Status.PARTIALLY_PAID)
    assert {b.status for b in issued.filter(period=last)} == {Bill.Status.ISSUED}
    # Collections: today's dunning for the overdue bills, one disputed statement with an answer.
    for bill in issued.filter(period=middle, due_on__lt=now.date()):
        assert bill.notices.filter(stage__in=("overdue", "demand_15", "demand_30")).count() == 1, bill
    (disputed,) = issued.filter(confirmation=Bill.Confirmation.DISPUTED)
    assert disputed.customer.code == "BEIDOU" and disputed.period == last
    assert list(disputed.dispute_messages.values_list("side", flat=True)) == ["customer", "finance"]
    assert issued.filter(period=last, customer__code="BEIDOU").count() >= 2  # billed per project

    # a held draft: ACME's last month, because of the fine-tuned model that has no price
    (draft,) = Bill.objects.filter(status=Bill.Status.DRAFT)
    assert (draft.customer.code, draft.period) == ("ACME", last)
    assert "acme-finetune-v2" in draft.hold_reason

    # ACME's key budget fired 50, 80 and 100 % last month; its customer budget 50 %
    key_budget = Budget.objects.get(customer__code="ACME", scope=Budget.Scope.API_KEY)
    customer_budget = Budget.objects.get(customer__code="ACME", scope=Budget.Scope.CUSTOMER)
    fired = Alert.objects.filter(kind=Alert.Kind.THRESHOLD, period=last)
    assert sorted(fired.filter(budget=key_budget).values_list("threshold", flat=True)) == [50, 80, 100]
    assert sorted(fired.filter(budget=customer_budget).values_list("threshold", flat=True)) == [50]

    # invoices on the paid and part-paid bills, one reversed
    assert Invoice.objects.filter(color="red").count() == 1
    assert Invoice.objects.filter(color="blue", status="reversed").count() == 1

    assert_no_key_spends_past_its_hard_limit(now)


def assert_no_key_spends_past_its_hard_limit(now):
    """The gateway asks before each call and lets a key through while its month to date is
    below the hard limit: so in every month the key's spend without its last call is below
    the limit (that call may reach it; none comes after)."""
    budgets = Budget.objects.filter(scope=Budget.Scope.API_KEY, hard_limit=True).select_related("customer")
    assert budgets.exists()
    for budget in budgets:
        periods = UsageRecord.objects.filter(api_key_id=budget.api_key_id).values_list("period", flat=True).distinct()
        assert periods
        for period in periods:
            end = min(now, datetime.combine(next_period(period), time(0), tzinfo=SHANGHAI) - timedelta(seconds=1))
            spend, limit = budget_use(budget, now=end)
            last = UsageRecord.objects.filter(api_key_id=budget.api_key_id, period=period).latest("occurred_at", "id")
            last_cny = Decimal(0)
            if last.cost is not None:
                contract = contract_for_period(budget.customer, period)
                rate = exchange_rate_for(last.currency, period, contract=contract, exact=False)
                last_cny = cny_unrounded(
                    {last.currency: last.cost}, discount_percent=contract.discount_percent, rates={last.currency: rate}
                )
            # the bill's way rounds each project × model line: a cent either way
            assert spend - last_cny < limit + Decimal("0.01"), (period, spend, last_cny, limit)


def test_it_refuses_without_force_when_debug_is_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=StringIO())
    assert not Customer.objects.exists()


def test_it_refuses_a_scale_outside_zero_to_one(settings):
    settings.DEBUG = True

    with pytest.raises(CommandError, match="--scale"):
        call_command("seed_demo", "--scale=0", stdout=StringIO())
    assert not Customer.objects.exists()
