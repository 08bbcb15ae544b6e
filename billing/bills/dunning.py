"""Dunning (催款): the four stages of CONTRACT "Collections" for each issued bill not paid.

| stage | when (days after ``due_on``) | what |
|---|---|---|
| ``reminder`` | −3 … 0 | an e-mail: the bill falls due on … |
| ``overdue`` | 1 … 14 | an e-mail on the first day overdue |
| ``demand_15`` | 15 … 29 | 催款函 ``CS-{YYYY}-{NNNN}`` (PDF), by e-mail |
| ``demand_30`` | 30 … | the final 催款函, naming the suspension credit control applies |

A run on a day sends the stage whose window holds that day, once per bill (the unique
constraint on (bill, stage) is the backstop): a run missed on the exact day catches up on
the next, and a bill found 40 days overdue the first time gets the final letter only, never
three notices at once. A disputed statement (``confirmation = disputed``) pauses the bill's
dunning; once finance resolves it the next run sends the stage of that day.

Each notice is made in one transaction that locks the bill row and takes the letter's number
from the year's counter row (common.numbering: gapless, safe under concurrent runs); it is
sent afterwards, claimed by a compare-and-swap on its status so that two runs never send it
twice and a failed send is retried by the next run. A send fails when the mail backend
raises or reports nothing sent; a claim whose run died mid-send (a killed worker: no
``except`` ran) is taken back by the first run after ``CLAIM_LEASE``, longer than any run
may last (the task's time limit), so that notice is retried too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from djmoney.money import Money

from billing.bills.events import bill_event
from billing.models import Bill, BillEvent, DunningCounter, DunningNotice
from billing.periods import format_period
from billing.pricing.money import rmb_figures, rmb_upper
from common.numbering import sequence_next
from customers.selectors import contract_in_force

logger = logging.getLogger(__name__)

Stage = DunningNotice.Stage
REMINDER_DAYS_BEFORE = 3
# Longer than the dunning task's hard time limit (30 min): a claim this old has no run behind it.
CLAIM_LEASE = timedelta(hours=1)
# (stage, first day of its window in days after due_on), latest first.
STAGES = ((Stage.DEMAND_30, 30), (Stage.DEMAND_15, 15), (Stage.OVERDUE, 1), (Stage.REMINDER, -REMINDER_DAYS_BEFORE))


def dunning_stage_on(*, due_on: date, today: date) -> str | None:
    """The stage whose window holds ``today`` for a bill due on ``due_on`` (None: too early)."""
    days = (today - due_on).days
    for stage, first_day in STAGES:
        if days >= first_day:
            return stage
    return None


def _dunnable(qs):
    """Issued bills with money still owed whose statement is not disputed."""
    return qs.filter(status__in=Bill.OPEN_STATUSES, due_on__isnull=False, total__gt=F("amount_paid")).exclude(
        confirmation=Bill.Confirmation.DISPUTED
    )


def suspension_day(bill: Bill, today: date) -> date | None:
    """The first day credit control suspends the customer's keys for this bill: past
    ``due_on`` by more than ``suspend_after_overdue_days`` (billing.budgets.credit)."""
    contract = contract_in_force(customer=bill.customer_id, on=today)
    days = contract.suspend_after_overdue_days if contract else None
    return None if days is None else bill.due_on + timedelta(days=days + 1)


def dunning_notice_create(*, bill_id: int, today: date) -> DunningNotice | None:
    """Make the notice of ``today``'s stage for the bill, if it is owed one and has not had it."""
    with transaction.atomic():
        bill = Bill.objects.select_for_update().order_by().filter(pk=bill_id).first()
        if bill is None or not _dunnable(Bill.objects.filter(pk=bill_id)).exists():
            return None
        stage = dunning_stage_on(due_on=bill.due_on, today=today)
        if stage is None or DunningNotice.objects.filter(bill=bill, stage=stage).exists():
            return None
        number = None
        if stage in DunningNotice.LETTER_STAGES:
            number = f"CS-{today.year:04d}-{sequence_next(DunningCounter, year=today.year):04d}"
        return DunningNotice.objects.create(
            bill=bill,
            stage=stage,
            number=number,
            on_day=today,
            days_overdue=(today - bill.due_on).days,
            balance=Money(bill.balance.amount, "CNY"),
            suspend_on=suspension_day(bill, today) if stage == Stage.DEMAND_30 else None,
        )


def notice_context(notice: DunningNotice) -> dict:
    bill = notice.bill
    return {
        "notice": notice,
        "bill": bill,
        "seller": bill.seller,
        "buyer": bill.buyer,
        "period": format_period(bill.period),
        "balance": notice.balance.amount,
        "balance_figures": rmb_figures(notice.balance.amount),
        "balance_upper": rmb_upper(notice.balance.amount),
        "days_overdue": notice.days_overdue,
        "days_to_due": -notice.days_overdue,
        "final": notice.stage == Stage.DEMAND_30,
        "pay_by": notice.on_day + timedelta(days=7),
        "invoices": _invoice_numbers(bill),
    }


def _invoice_numbers(bill: Bill) -> list[str]:
    """The VAT invoices issued on the bill (a 催款函 names them); invoices sit above billing,
    so they are read through the relation's name, not imported."""
    related = getattr(bill, "invoices", None)
    if related is None:
        return []
    return [n for n in related.filter(color="blue").values_list("number", flat=True) if n]


def notice_render_pdf(notice: DunningNotice) -> bytes:
    """The 催款函 through the one PDF helper, stored with the notice (rendered once)."""
    if notice.pdf and notice.pdf.storage.exists(notice.pdf.name):
        with notice.pdf.open("rb") as handle:
            return handle.read()
    from common.pdf import render_pdf

    with translation.override("zh-hans"):
        data = render_pdf("pdf/demand_letter.html", notice_context(notice))
    notice.pdf.save(f"{notice.number}.pdf", ContentFile(data), save=False)
    DunningNotice.objects.filter(pk=notice.pk).update(pdf=notice.pdf.name)
    return data


def _message(notice: DunningNotice, recipients: list[str]) -> EmailMessage:
    """One e-mail in Chinese then English (the customer's finance reads either)."""
    context = notice_context(notice)
    subjects, bodies = [], []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            subjects.append(render_to_string("emails/dunning_subject.txt", context).strip())
            bodies.append(render_to_string("emails/dunning_body.txt", context).strip())
    message = EmailMessage(" / ".join(subjects), "\n\n———\n\n".join(bodies) + "\n", to=recipients)
    if notice.is_letter:
        message.attach(f"{notice.number}.pdf", notice_render_pdf(notice), "application/pdf")
    return message


def dunning_notice_send(*, notice_id: int) -> bool:
    """Send a pending notice; False when another run has it, it is done, or it is withdrawn."""
    claimed = DunningNotice.objects.filter(pk=notice_id, status=DunningNotice.Status.PENDING).update(
        status=DunningNotice.Status.SENDING, claimed_at=timezone.now()
    )
    if not claimed:
        return False
    notice = DunningNotice.objects.select_related("bill__customer").get(pk=notice_id)
    if not _dunnable(Bill.objects.filter(pk=notice.bill_id)).exists():
        # Paid or disputed since the notice was made (its send failed meanwhile): a demand
        # for money no longer owed is not sent; the row and its number stay.
        DunningNotice.objects.filter(pk=notice_id).update(status=DunningNotice.Status.WITHDRAWN)
        return False
    recipients = notice.bill.customer.billing_emails
    try:
        if not recipients:
            if notice.is_letter:  # kept for printing and post all the same
                notice_render_pdf(notice)
            DunningNotice.objects.filter(pk=notice_id).update(status=DunningNotice.Status.NO_RECIPIENT)
            bill_event(notice.bill, BillEvent.Kind.EMAIL_SKIPPED, stage=notice.stage, reason="no billing e-mail")
            return True
        if not _message(notice, recipients).send():
            raise RuntimeError(f"the mail backend sent nothing for dunning notice {notice_id}")
    except Exception:
        DunningNotice.objects.filter(pk=notice_id).update(status=DunningNotice.Status.PENDING, claimed_at=None)
        raise
    now = timezone.now()
    DunningNotice.objects.filter(pk=notice_id).update(status=DunningNotice.Status.SENT, sent_at=now, to=recipients)
    Bill.objects.filter(pk=notice.bill_id).update(reminded_at=now)
    bill_event(notice.bill, BillEvent.Kind.NOTICE_SENT, stage=notice.stage, number=notice.number or "", to=recipients)
    return True


@dataclass
class DunningRun:
    today: date
    created: list[DunningNotice] = field(default_factory=list)
    sent: int = 0
    failed: int = 0

    def line(self) -> str:
        stages = ", ".join(f"{n.bill.number} {n.stage}{' ' + n.number if n.number else ''}" for n in self.created)
        return f"{self.today}: {len(self.created)} notices made, {self.sent} sent, {self.failed} failed" + (
            f" ({stages})" if stages else ""
        )


def dunning_run(*, today: date) -> DunningRun:
    """The daily run (beat task and ``run_dunning``): make today's notices, then send every
    pending one (today's and any whose send failed before). Safe to run twice or at once."""
    run = DunningRun(today=today)
    horizon = today + timedelta(days=REMINDER_DAYS_BEFORE)
    candidates = _dunnable(Bill.objects.filter(due_on__lte=horizon)).order_by("due_on", "number")
    for bill_id in candidates.values_list("pk", flat=True):
        notice = dunning_notice_create(bill_id=bill_id, today=today)
        if notice is not None:
            run.created.append(notice)
    abandoned = DunningNotice.objects.filter(status=DunningNotice.Status.SENDING).filter(
        Q(claimed_at__lt=timezone.now() - CLAIM_LEASE) | Q(claimed_at__isnull=True)  # null: claimed before the lease
    )
    for notice_id in abandoned.values_list("pk", flat=True):
        logger.warning("dunning notice %s: its send never finished; sending it again", notice_id)
    abandoned.update(status=DunningNotice.Status.PENDING, claimed_at=None)
    pending = DunningNotice.objects.filter(status=DunningNotice.Status.PENDING).order_by("pk")
    for notice_id in pending.values_list("pk", flat=True):
        try:
            run.sent += dunning_notice_send(notice_id=notice_id)
        except Exception:  # noqa: BLE001 - one bad mailbox must not stop the others; retried next run
            logger.exception("dunning notice %s could not be sent", notice_id)
            run.failed += 1
    return run


def notices_for(bill: Bill):
    return bill.notices.order_by("created_at", "pk")


def notices_sent_since(since) -> list[DunningNotice]:
    """Notices sent since ``since`` (the staff dashboard: this week's), newest first."""
    return list(
        DunningNotice.objects.filter(sent_at__gte=since).select_related("bill__customer").order_by("-sent_at", "-pk")
    )


def open_bills_by_stage() -> list[tuple[str, str, int]]:
    """(stage, label, bills) for the bills still owed money, each counted at the latest stage
    it has reached (the staff dashboard); a stage no bill is at counts 0."""
    order = [stage for stage, _first in reversed(STAGES)]
    reached: dict[int, int] = {}
    owed = _dunnable(Bill.objects.all()) | Bill.objects.filter(
        status__in=Bill.OPEN_STATUSES, confirmation=Bill.Confirmation.DISPUTED
    )
    for bill_id, stage in DunningNotice.objects.filter(bill__in=owed).values_list("bill_id", "stage"):
        reached[bill_id] = max(reached.get(bill_id, 0), order.index(stage))
    counts = [0] * len(order)
    for index in reached.values():
        counts[index] += 1
    return [(stage, Stage(stage).label, counts[i]) for i, stage in enumerate(order)]
