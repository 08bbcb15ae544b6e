"""Bill lifecycle after issue: confirmation, payments, credit, overdue, void and reissue.

Transitions lock the bill row, check the source state, write, append a BillEvent and
schedule side effects on commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from billing.bills.disputes import dispute_opened
from billing.bills.events import bill_event
from billing.bills.transitions import bill_can_become, bill_move, bill_sources
from billing.models import Bill, BillEvent, CreditEntry, Payment
from billing.periods import business_day
from common.errors import Conflict
from common.tasks import enqueue_on_commit
from customers.audit import audit_record
from customers.models import AuditEvent

# Other apps register callbacks run inside bill_void before the bill is voided (invoices
# reverses the bill's invoices with red-letter invoices). billing cannot import invoices.
BEFORE_VOID: list[Callable[..., None]] = []

PAYABLE = bill_sources(Bill.Status.PAID)


def payer_name_key(name: str) -> str:
    """A payer's name as compared with the customer's: no spaces, ASCII brackets, lower case."""
    return "".join(name.split()).replace("（", "(").replace("）", ")").lower()


def _status_after_payment(bill: Bill, today: date) -> str:
    if bill.amount_paid.amount >= bill.total.amount:
        return Bill.Status.PAID
    if bill.due_on and bill.due_on < today:
        return Bill.Status.OVERDUE
    return Bill.Status.PARTIALLY_PAID if bill.amount_paid.amount > 0 else Bill.Status.ISSUED


def payment_refusal(bill: Bill) -> str | None:
    """Why ``bill`` takes no payment (None: it does). The API, the admin's payment form and
    bank matching all ask this, so each refuses in the same words."""
    if bill.status == Bill.Status.DRAFT:
        return _("%(bill)s is a draft: it takes payments once it is issued (close the month for it first).") % {
            "bill": bill
        }
    if bill.status not in PAYABLE:
        return _("%(bill)s is %(status)s: it takes no more payments.") % {
            "bill": bill,
            "status": bill.get_status_display(),
        }
    return None


def _check_amount(amount: Decimal) -> None:
    if amount <= 0:
        raise ValidationError({"amount": [_("The amount must be greater than zero.")]})


def _check_received_on(customer, received_on: date, *, since_first_contract: bool = True) -> None:
    """A transfer is received on a past day (of the customer's contracts, for a bill's
    payment), not in the future."""
    today = business_day(timezone.now())
    if received_on > today:
        raise ValidationError(
            {"received_on": [_("The transfer cannot be received after today (%(today)s).") % {"today": today}]}
        )
    if not since_first_contract:
        return
    first = customer.contracts.order_by("starts_on").values_list("starts_on", flat=True).first()
    if first is not None and received_on < first:
        raise ValidationError(
            {
                "received_on": [
                    _("The transfer cannot be received before the customer's first contract starts (%(day)s).")
                    % {"day": first}
                ]
            }
        )


def _repeat(bill: Bill, amount: Decimal, clash: str, *, split: bool = False, **lookup) -> Payment | None:
    """The payment already booked under the same reference or idempotency key: the same
    transfer again (same bill and amount) answers it; anything else under that key is a 409
    saying ``clash``. With ``split`` (one transfer paying several bills) the reference may
    already pay other bills; only this bill's part is compared."""
    booked = Payment.objects.filter(customer=bill.customer, **lookup)
    existing = booked.filter(bill=bill).first()
    if existing is None and not split:
        existing = booked.first()
    if existing is not None and (existing.amount.amount != amount or existing.bill_id != bill.pk):
        raise Conflict(clash)
    return existing


@transaction.atomic
def payment_record(
    *,
    bill: Bill,
    amount: Decimal,
    received_on: date,
    currency: str = "CNY",
    reference: str = "",
    idempotency_key: str = "",
    payer_name: str = "",
    note: str = "",
    actor=None,
    split: bool = False,
) -> tuple[Payment, bool]:
    """Record a bank transfer against a bill. Partial payments are fine; an overpayment
    becomes customer credit used by the next bill. The same bank reference (compared after
    NFKC and case folding) or the same idempotency key twice is a no-op: the first payment
    is returned with created=False. ``split``: this is one part of a transfer that pays
    several bills (a bank statement's match), so its reference may already pay other bills.

    Bills are settled in CNY: a transfer in another currency is refused, not converted — the
    bank credits our CNY account at its own rate, and that credited CNY amount is what
    finance records."""
    _check_amount(amount)
    reference = reference.strip()
    bill = Bill.objects.select_for_update().select_related("customer").get(pk=bill.pk)
    if currency != bill.total.currency.code:
        raise ValidationError(
            {
                "currency": [
                    _("Bill %(number)s is settled in %(bill)s; record the %(bill)s amount the bank credited.")
                    % {"number": bill, "bill": bill.total.currency.code}
                ]
            }
        )
    _check_received_on(bill.customer, received_on)
    repeat = None
    if reference:
        clash = _("The bank reference %(ref)s is already recorded with another amount or bill.") % {"ref": reference}
        repeat = _repeat(bill, amount, clash, split=split, reference_key=Payment.key_of(reference))
    if repeat is None and idempotency_key:
        clash = _("The Idempotency-Key %(key)s was already used for another amount or bill.") % {"key": idempotency_key}
        repeat = _repeat(bill, amount, clash, idempotency_key=idempotency_key)
    if repeat is not None:
        return repeat, False
    refusal = payment_refusal(bill)
    if refusal:
        raise Conflict(refusal)
    applied = min(amount, bill.balance.amount)
    mismatch = bool(payer_name) and payer_name_key(payer_name) != payer_name_key(bill.customer.name)
    payment = Payment.objects.create(
        customer=bill.customer,
        bill=bill,
        amount=Money(amount, "CNY"),
        applied=Money(applied, "CNY"),
        received_on=received_on,
        reference=reference,
        idempotency_key=idempotency_key,
        payer_name=payer_name,
        payer_mismatch=mismatch,
        note=note,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    if amount > applied:
        CreditEntry.objects.create(customer=bill.customer, amount=Money(amount - applied, "CNY"), payment=payment)
    bill.amount_paid = Money(bill.amount_paid.amount + applied, "CNY")
    old = bill.status
    bill_move(bill, _status_after_payment(bill, business_day(timezone.now())))
    bill.save(update_fields=["amount_paid", "status", "updated_at"])
    bill_event(
        bill,
        BillEvent.Kind.PAYMENT,
        actor,
        amount=str(amount),
        applied=str(applied),
        reference=reference,
        status_from=old,
        status_to=bill.status,
        payer_mismatch=mismatch,
    )
    # A payment lowers the unpaid balance: the credit standing (the gateway's allowance) follows.
    enqueue_on_commit("billing.tasks.budgets_evaluate", bill.customer_id, robust=True)
    return payment, True


@transaction.atomic
def deposit_record(
    *, customer, amount: Decimal, received_on: date, reference: str, actor=None, note: str = ""
) -> tuple[Payment, bool]:
    """A deposit (押金) received by bank transfer: a payment without a bill, held as credit on
    the customer's ledger (never applied to a bill by itself). The same bank reference again
    answers the first deposit (created=False)."""
    payment, created = _unbilled_payment(
        customer=customer,
        amount=amount,
        received_on=received_on,
        reference=reference,
        method=Payment.Method.DEPOSIT,
        actor=actor,
        note=note,
    )
    if created:
        audit_record(AuditEvent.Action.DEPOSIT_RECORDED, customer, actor, amount=str(amount), reference=reference)
    return payment, created


@transaction.atomic
def credit_receive(
    *, customer, amount: Decimal, received_on: date, reference: str, payer_name: str = "", actor=None, note: str = ""
) -> tuple[Payment, bool]:
    """A transfer finance assigns to a customer without a bill: a payment without a bill whose
    whole amount becomes customer credit, used by the customer's next bill (as an overpayment's
    rest is). The same bank reference again answers the first (created=False)."""
    payment, created = _unbilled_payment(
        customer=customer,
        amount=amount,
        received_on=received_on,
        reference=reference,
        method=Payment.Method.BANK_TRANSFER,
        payer_name=payer_name,
        actor=actor,
        note=note,
    )
    if created:
        audit_record(AuditEvent.Action.CREDIT_RECEIVED, customer, actor, amount=str(amount), reference=reference)
    return payment, created


def _unbilled_payment(
    *, customer, amount: Decimal, received_on: date, reference: str, method: str, payer_name: str = "", actor, note
) -> tuple[Payment, bool]:
    _check_amount(amount)
    reference = reference.strip()
    if not reference:
        raise ValidationError({"reference": [_("Give the bank reference of the transfer.")]})
    _check_received_on(customer, received_on, since_first_contract=False)
    existing = Payment.objects.filter(customer=customer, reference_key=Payment.key_of(reference)).first()
    if existing is not None:
        if existing.method != method or existing.bill_id is not None or existing.amount.amount != amount:
            raise Conflict(
                _("The bank reference %(ref)s is already recorded with another amount or bill.") % {"ref": reference}
            )
        return existing, False
    payment = Payment.objects.create(
        customer=customer,
        bill=None,
        method=method,
        amount=Money(amount, "CNY"),
        applied=Money(0, "CNY"),
        received_on=received_on,
        reference=reference,
        payer_name=payer_name,
        note=note,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    held = method == Payment.Method.DEPOSIT  # a deposit stays held; other credit pays the next bill
    CreditEntry.objects.create(customer=customer, amount=Money(amount, "CNY"), payment=payment, held=held)
    return payment, True


def bills_mark_overdue(*, today: date) -> int:
    """Daily: issued or partly paid bills past their due date become overdue. The e-mails
    that follow are the dunning's (billing.bills.dunning: one notice per stage)."""
    marked = 0
    becoming = bill_sources(Bill.Status.OVERDUE, moving=True)
    due = Bill.objects.filter(status__in=becoming, due_on__lt=today)
    for bill_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            # Compare-and-swap: a concurrent payment or a second beat run changes nothing twice.
            updated = Bill.objects.filter(pk=bill_id, status__in=becoming).update(
                status=Bill.Status.OVERDUE, updated_at=timezone.now()
            )
            if updated != 1:
                continue
            bill = Bill.objects.get(pk=bill_id)
            bill_event(bill, BillEvent.Kind.OVERDUE, None, due_on=str(bill.due_on))
            marked += 1
    return marked


@transaction.atomic
def bill_confirm(*, bill: Bill, confirmed: bool, note: str = "", actor=None) -> Bill:
    """The customer confirms the statement (对账确认) or disputes it with a reason."""
    bill = Bill.objects.select_for_update().get(pk=bill.pk)
    if bill.status in (Bill.Status.DRAFT, Bill.Status.VOID):
        raise Conflict(_("Only issued bills can be confirmed or disputed."))
    if not confirmed and not note.strip():
        raise ValidationError({"note": [_("Say what is wrong so finance can look into it.")]})
    if bill.confirmation == Bill.Confirmation.CONFIRMED and confirmed:
        return bill
    bill.confirmation = Bill.Confirmation.CONFIRMED if confirmed else Bill.Confirmation.DISPUTED
    bill.confirmation_note = note.strip()
    bill.confirmed_at = timezone.now()
    bill.confirmed_by = actor if getattr(actor, "pk", None) else None
    bill.save(update_fields=["confirmation", "confirmation_note", "confirmed_at", "confirmed_by", "updated_at"])
    bill_event(
        bill, BillEvent.Kind.CONFIRMED if confirmed else BillEvent.Kind.DISPUTED, actor, note=bill.confirmation_note
    )
    if not confirmed:  # the dispute's thread starts with it; its dunning pauses (billing.bills.dunning)
        dispute_opened(bill=bill, note=bill.confirmation_note, actor=actor)
    return bill


@transaction.atomic
def bill_void(*, bill: Bill, reason: str, actor=None) -> Bill:
    """Void an issued bill (money rule 10, docs/money-rules.md). Its invoices are reversed first (red-letter);
    money already received moves to customer credit for the reissued bill."""
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for voiding.")]})
    bill = Bill.objects.select_for_update().get(pk=bill.pk)
    if not bill_can_become(bill.status, Bill.Status.VOID):
        raise Conflict(_("Only issued bills can be voided."))
    for callback in BEFORE_VOID:
        callback(bill=bill, reason=reason, actor=actor)
    if bill.amount_paid.amount > 0:
        CreditEntry.objects.create(customer=bill.customer, amount=bill.amount_paid, bill=bill)
    old = bill.status
    bill_move(bill, Bill.Status.VOID)
    bill.save(update_fields=["status", "updated_at"])
    bill_event(bill, BillEvent.Kind.VOID, actor, reason=reason, status_from=old)
    return bill


def bill_reissue(*, bill: Bill, actor=None, today: date | None = None):
    """Rebuild a voided bill's period from the rollups as ``…-R{n}``."""
    from billing.bills.close import month_close_customer

    bill = Bill.objects.get(pk=bill.pk)  # the caller's copy may predate the void
    if bill.status != Bill.Status.VOID:
        raise Conflict(_("Void the bill before reissuing it."))
    return month_close_customer(customer=bill.customer, period=bill.period, actor=actor, today=today, reissue=True)
