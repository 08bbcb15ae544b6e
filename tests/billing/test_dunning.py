"""Dunning (催款): the four stages on their days, each once per bill, paused by a dispute and
resumed when finance resolves it; numbered 催款函 PDFs; the notices API; the beat task.

ACME pays a monthly service fee of 1,000.00 (VAT 6 %): BILL-ACME-202611, 1,060.00, issued
2026-12-01, due 2026-12-31. Its contract suspends the keys after 45 days overdue.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from billing import tasks
from billing.bills.dunning import dunning_run, dunning_stage_on
from billing.bills.lifecycle import bill_confirm, payment_record
from billing.models import Bill, DunningNotice
from billing.pricing.money import rmb_upper
from tests.billing.close_helpers import NOV, close, customer_with_contract, only, set_terms, travel
from tests.billing.test_bill_pdf import pdf_text

DUE = date(2026, 12, 31)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def bill(acme) -> Bill:
    set_terms(acme, monthly_service_fee=Decimal("1000.00"), suspend_after_overdue_days=45)
    with travel(2026, 12, 1):
        issued = only(close(acme, NOV))
    assert (issued.number, issued.total.amount, issued.due_on) == ("BILL-ACME-202611", Decimal("1060.00"), DUE)
    return issued


def run_on(day: date) -> str:
    out = StringIO()
    call_command("run_dunning", "--today", day.isoformat(), stdout=out)
    return out.getvalue().strip()


def days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def made_on(first: date, last: date) -> dict[str, str]:
    """Run the command every day from ``first`` to ``last``: day → the notices it made."""
    made = {}
    for day in days(first, last):
        before = set(DunningNotice.objects.values_list("pk", flat=True))
        run_on(day)
        new = DunningNotice.objects.exclude(pk__in=before).order_by("pk")
        if new:
            made[day.isoformat()] = ", ".join(f"{n.stage} {n.number or ''}".strip() for n in new)
    return made


@pytest.mark.parametrize(
    ("today", "stage"),
    [
        (date(2026, 12, 27), None),
        (date(2026, 12, 28), "reminder"),
        (date(2026, 12, 31), "reminder"),
        (date(2027, 1, 1), "overdue"),
        (date(2027, 1, 14), "overdue"),
        (date(2027, 1, 15), "demand_15"),
        (date(2027, 1, 29), "demand_15"),
        (date(2027, 1, 30), "demand_30"),
        (date(2027, 6, 30), "demand_30"),
    ],
)
def test_the_stage_of_a_day(today, stage):
    assert dunning_stage_on(due_on=DUE, today=today) == stage


def test_each_stage_comes_once_on_its_day(bill):
    assert made_on(date(2026, 12, 20), date(2027, 2, 10)) == {
        "2026-12-28": "reminder",
        "2027-01-01": "overdue",
        "2027-01-15": "demand_15 CS-2027-0001",
        "2027-01-30": "demand_30 CS-2027-0002",
    }
    assert DunningNotice.objects.count() == 4
    assert len(mail.outbox) == 4
    reminder, overdue, first, final = mail.outbox
    assert reminder.to == ["ap@acme.example.cn"]
    # Chinese, then English.
    assert (
        reminder.subject == "账单 BILL-ACME-202611 将于 2026-12-31 到期 / Bill BILL-ACME-202611 falls due on 2026-12-31"
    )
    assert "¥1,060.00" in reminder.body and "falls due on 2026-12-31" in reminder.body
    assert reminder.attachments == []
    assert "BILL-ACME-202611" in overdue.subject and "is overdue" in overdue.subject
    assert "CS-2027-0001" in first.subject
    ((name, content, mimetype),) = first.attachments
    assert (name, mimetype) == ("CS-2027-0001.pdf", "application/pdf")
    text = pdf_text(content)
    flat = "".join(text.split())
    assert "催款函" in flat and "CS-2027-0001" in text
    assert "上海阿克米信息技术有限公司" in text and "BILL-ACME-202611" in text
    assert "逾期15天" in flat
    assert rmb_upper(Decimal("1060.00")) in text
    assert "暂停" not in text  # the first letter names no suspension
    # The final letter names the day credit control suspends the keys: due + 45 days + 1.
    final_text = "".join(pdf_text(final.attachments[0][1]).split())
    assert "最后通知" in final_text and "CS-2027-0002" in final_text
    assert "2027年2月15日起暂停" in final_text
    assert "suspended from 2027-02-15" in final.body
    assert DunningNotice.objects.get(stage="demand_30").suspend_on == date(2027, 2, 15)


def test_every_notice_is_kept_with_what_when_and_to_whom(bill, finance_client, alice_client):
    for day in (date(2026, 12, 28), date(2027, 1, 1), date(2027, 1, 15)):
        run_on(day)
    notice = DunningNotice.objects.get(stage="demand_15")
    assert notice.status == "sent" and notice.to == ["ap@acme.example.cn"]
    assert notice.days_overdue == 15 and notice.balance.amount == Decimal("1060.00")
    with notice.pdf.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert bill.events.filter(kind="notice_sent").count() == 3

    response = finance_client.get("/api/v1/bills/BILL-ACME-202611/notices/")
    assert response.status_code == 200
    body = response.json()
    assert [(n["stage"], n["number"], n["to"]) for n in body] == [
        ("reminder", None, ["ap@acme.example.cn"]),
        ("overdue", None, ["ap@acme.example.cn"]),
        ("demand_15", "CS-2027-0001", ["ap@acme.example.cn"]),
    ]
    assert all(set(n) == {"stage", "number", "sent_at", "to"} and n["sent_at"] for n in body)
    assert alice_client.get("/api/v1/bills/BILL-ACME-202611/notices/").json() == body
    pdf = alice_client.get("/api/v1/bills/BILL-ACME-202611/notices/CS-2027-0001/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_notices_are_scoped_like_the_bill(bill, bob_client, charlie_client):
    run_on(date(2027, 1, 15))
    assert bob_client.get("/api/v1/bills/BILL-ACME-202611/notices/").status_code == 403
    assert charlie_client.get("/api/v1/bills/BILL-ACME-202611/notices/").status_code == 404
    assert charlie_client.get("/api/v1/bills/BILL-ACME-202611/notices/CS-2027-0001/pdf/").status_code == 404


def test_a_dispute_pauses_the_dunning_until_finance_resolves_it(bill, alice, finance_client):
    run_on(date(2027, 1, 1))
    bill_confirm(bill=bill, confirmed=False, note="11 月服务费与合同不符", actor=alice)

    assert made_on(date(2027, 1, 2), date(2027, 1, 19)) == {}

    response = finance_client.post(
        "/api/v1/bills/BILL-ACME-202611/dispute/resolve/", {"note": "服务费按合同第 3 条计收"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["confirmation"] == "pending"
    # The next run sends the stage of its day; the missed day-15 letter is not doubled later.
    assert made_on(date(2027, 1, 20), date(2027, 2, 1)) == {
        "2027-01-20": "demand_15 CS-2027-0001",
        "2027-01-30": "demand_30 CS-2027-0002",
    }


def test_a_paid_bill_gets_nothing_more_and_a_part_paid_one_is_asked_for_the_rest(bill):
    run_on(date(2027, 1, 1))
    with travel(2027, 1, 10):
        payment_record(bill=bill, amount=Decimal("1000.00"), received_on=date(2027, 1, 10), reference="CMB-9")
    run_on(date(2027, 1, 15))
    letter = DunningNotice.objects.get(stage="demand_15")
    assert letter.balance.amount == Decimal("60.00")
    assert "¥60.00" in mail.outbox[-1].body
    with travel(2027, 1, 20):
        payment_record(bill=bill, amount=Decimal("60.00"), received_on=date(2027, 1, 20), reference="CMB-10")
    run_on(date(2027, 1, 30))
    assert not DunningNotice.objects.filter(stage="demand_30").exists()


def test_a_failed_send_is_retried_by_the_next_run_and_not_sent_once_paid(bill, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    def broken(self, messages):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    assert "1 failed" in run_on(date(2027, 1, 15))
    letter = DunningNotice.objects.get()
    assert (letter.status, letter.number, letter.sent_at) == ("pending", "CS-2027-0001", None)
    monkeypatch.undo()

    assert "0 notices made, 1 sent" in run_on(date(2027, 1, 16))
    letter.refresh_from_db()
    assert letter.status == "sent" and letter.sent_at is not None
    assert len(mail.outbox) == 1

    # A letter whose send failed and whose bill is paid meanwhile is withdrawn, not sent.
    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    run_on(date(2027, 1, 30))
    monkeypatch.undo()
    with travel(2027, 1, 31):
        payment_record(bill=bill, amount=Decimal("1060.00"), received_on=date(2027, 1, 31), reference="CMB-11")
    run_on(date(2027, 2, 1))
    final = DunningNotice.objects.get(stage="demand_30")
    assert final.status == "withdrawn" and final.number == "CS-2027-0002"
    assert len(mail.outbox) == 1


def test_a_customer_without_a_billing_email_keeps_the_letter_unsent(bill):
    customer = bill.customer
    customer.email, customer.billing_cc = "", []
    customer.save()
    run_on(date(2027, 1, 15))
    letter = DunningNotice.objects.get()
    assert letter.status == "no_recipient" and letter.to == [] and letter.pdf
    assert mail.outbox == []


def test_the_beat_task_is_the_commands_twin(bill, django_capture_on_commit_callbacks):
    assert tasks.dunning_run.delay("2027-01-15").get() == (
        "2027-01-15: 1 notices made, 1 sent, 0 failed (BILL-ACME-202611 demand_15 CS-2027-0001)"
    )
    assert tasks.dunning_run.delay("2027-01-15").get() == "2027-01-15: 0 notices made, 0 sent, 0 failed"
    bill.refresh_from_db()
    assert bill.status == Bill.Status.OVERDUE  # marked on the way
    assert bill.reminded_at is not None


def test_letter_numbers_are_gapless_per_year(acme):
    set_terms(acme, monthly_service_fee=Decimal("1000.00"))
    beta = customer_with_contract("BETA", monthly_service_fee=Decimal("10.00"))
    with travel(2026, 12, 1):
        only(close(acme, NOV))
        only(close(beta, NOV))
    dunning_run(today=date(2027, 1, 15))
    dunning_run(today=date(2027, 1, 30))
    numbers = sorted(DunningNotice.objects.exclude(number=None).values_list("number", flat=True))
    assert numbers == ["CS-2027-0001", "CS-2027-0002", "CS-2027-0003", "CS-2027-0004"]
