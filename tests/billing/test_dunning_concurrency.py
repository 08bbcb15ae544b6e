"""Two dunning runs at once, on real transactions: every bill gets each stage once and the
催款函 numbers of the year have no gap and no duplicate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail

from billing.bills.dunning import dunning_run
from billing.models import DunningCounter, DunningNotice
from tests.billing.close_helpers import NOV, close, customer_with_contract, only, travel
from tests.billing.test_close_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_two_runs_at_once_number_the_letters_without_gaps(transactional_db):
    customers = [customer_with_contract(f"C{i}", monthly_service_fee=Decimal("100.00")) for i in range(6)]
    with travel(2026, 12, 1):
        bills = [only(close(customer, NOV)) for customer in customers]
    mail.outbox.clear()  # the bills' own e-mails, sent as the closes committed

    first, second = run_together(
        lambda: dunning_run(today=date(2027, 1, 15)), lambda: dunning_run(today=date(2027, 1, 15))
    )

    assert len(first.created) + len(second.created) == 6
    assert first.failed == second.failed == 0
    notices = DunningNotice.objects.order_by("number")
    assert sorted(notices.values_list("bill_id", flat=True)) == sorted(b.pk for b in bills)
    assert list(notices.values_list("number", flat=True)) == [f"CS-2027-{n:04d}" for n in range(1, 7)]
    assert set(notices.values_list("stage", "status")) == {("demand_15", "sent")}
    assert DunningCounter.objects.get(year=2027).last_sequence == 6
    assert len(mail.outbox) == 6  # each letter sent once, by whichever run claimed it

    # Again, both at once, a day later: nothing new; then the final letters, again gapless.
    again = run_together(lambda: dunning_run(today=date(2027, 1, 16)), lambda: dunning_run(today=date(2027, 1, 16)))
    assert [len(r.created) for r in again] == [0, 0]
    run_together(lambda: dunning_run(today=date(2027, 1, 30)), lambda: dunning_run(today=date(2027, 1, 30)))
    finals = DunningNotice.objects.filter(stage="demand_30").order_by("number")
    assert list(finals.values_list("number", flat=True)) == [f"CS-2027-{n:04d}" for n in range(7, 13)]
    assert len(mail.outbox) == 12
