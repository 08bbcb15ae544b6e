"""The beat's dunning task on a REAL Celery worker and Redis (the notify queue): the day's
催款函 is made, numbered, rendered and e-mailed once, and the same task again adds nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from celery.signals import task_postrun
from django.core import mail

from billing import tasks
from billing.models import DunningNotice
from tests.billing.close_helpers import NOV, close, customer_with_contract, only, travel
from tests.billing.test_close_celery_integration import real_worker, wait_for  # noqa: F401 - fixture

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_beat_task_dunns_on_a_real_worker(real_worker):  # noqa: F811
    customer = customer_with_contract("DUN", monthly_service_fee=Decimal("100.00"))
    with travel(2026, 12, 1):
        bill = only(close(customer, NOV))
    wait_for(lambda: len(mail.outbox) == 1)  # the bill's own e-mail, from the worker
    mail.outbox.clear()

    finished: list[str] = []

    def done(sender=None, retval=None, **_kwargs):
        if sender is not None and sender.name == "billing.tasks.dunning_run":
            finished.append(retval)

    # Listen before the first run: its end may come after its letter is marked sent.
    task_postrun.connect(done, weak=False)
    tasks.dunning_run.apply_async(args=["2027-01-15"])
    letter = wait_for(lambda: DunningNotice.objects.filter(bill=bill, status="sent").first())

    assert letter is not None, list(DunningNotice.objects.values_list("status", flat=True))
    assert (letter.stage, letter.number) == ("demand_15", "CS-2027-0001")
    assert wait_for(lambda: len(mail.outbox) == 1)
    assert mail.outbox[0].attachments[0][0] == "CS-2027-0001.pdf"
    assert wait_for(lambda: len(finished) == 1), finished
    finished.clear()

    try:
        tasks.dunning_run.apply_async(args=["2027-01-15"])
        tasks.dunning_run.apply_async(args=["2027-01-16"])
        assert wait_for(lambda: len(finished) == 2), finished
    finally:
        task_postrun.disconnect(done)
    assert finished == [
        "2027-01-15: 0 notices made, 0 sent, 0 failed",
        "2027-01-16: 0 notices made, 0 sent, 0 failed",
    ]
    assert DunningNotice.objects.count() == 1
    assert len(mail.outbox) == 1
