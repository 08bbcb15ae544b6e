"""An overdue notice whose send fails is sent again by a later run: when the mail backend
raises (tested in test_dunning), when it reports nothing sent, and when the run died in the
middle of the send (a killed worker leaves the notice claimed, ``sending``, with no ``except``
to put it back). A claim younger than the lease is another run at work and is left alone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from billing.bills.dunning import CLAIM_LEASE
from billing.models import DunningNotice
from tests.billing.test_dunning import _media_in_tmp, bill, run_on  # noqa: F401

pytestmark = pytest.mark.django_db

FIRST_DAY_OVERDUE = date(2027, 1, 1)


def test_a_backend_that_sends_nothing_is_a_failed_send_retried_next_run(bill, monkeypatch):  # noqa: F811
    monkeypatch.setattr(EmailBackend, "send_messages", lambda self, messages: 0)

    assert "1 notices made, 0 sent, 1 failed" in run_on(FIRST_DAY_OVERDUE)
    notice = DunningNotice.objects.get()
    assert (notice.stage, notice.status, notice.sent_at, notice.claimed_at) == ("overdue", "pending", None, None)
    monkeypatch.undo()

    assert "0 notices made, 1 sent, 0 failed" in run_on(FIRST_DAY_OVERDUE + timedelta(days=1))
    notice.refresh_from_db()
    assert notice.status == "sent" and notice.sent_at is not None
    assert len(mail.outbox) == 1 and bill.number in mail.outbox[0].subject + mail.outbox[0].body


def _killed_mid_send(notice: DunningNotice, claimed_ago: timedelta | None) -> None:
    """What a worker killed between the claim and the answer leaves behind."""
    claimed_at = None if claimed_ago is None else timezone.now() - claimed_ago
    DunningNotice.objects.filter(pk=notice.pk).update(status="sending", claimed_at=claimed_at)


@pytest.mark.parametrize("claimed_ago", [CLAIM_LEASE + timedelta(minutes=1), timedelta(days=3), None])
def test_a_notice_whose_run_died_mid_send_is_sent_by_a_later_run(bill, monkeypatch, claimed_ago):  # noqa: F811
    monkeypatch.setattr(EmailBackend, "send_messages", lambda self, messages: 0)
    run_on(FIRST_DAY_OVERDUE)
    monkeypatch.undo()
    notice = DunningNotice.objects.get()
    _killed_mid_send(notice, claimed_ago)

    assert "0 notices made, 1 sent, 0 failed" in run_on(FIRST_DAY_OVERDUE + timedelta(days=1))
    notice.refresh_from_db()
    assert notice.status == "sent"
    assert len(mail.outbox) == 1


def test_a_fresh_claim_is_another_run_at_work_and_is_not_sent_twice(bill, monkeypatch):  # noqa: F811
    monkeypatch.setattr(EmailBackend, "send_messages", lambda self, messages: 0)
    run_on(FIRST_DAY_OVERDUE)
    monkeypatch.undo()
    notice = DunningNotice.objects.get()
    _killed_mid_send(notice, timedelta(minutes=5))

    assert "0 notices made, 0 sent, 0 failed" in run_on(FIRST_DAY_OVERDUE + timedelta(days=1))
    notice.refresh_from_db()
    assert notice.status == "sending"
    assert mail.outbox == []
