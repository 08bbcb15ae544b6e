"""Disputed statements answered: a thread between the customer and finance, the resolution
(which resumes the bill's dunning), and corrections as credits on the next bill.

A dispute opens when the customer disputes the statement (``bill_confirm``, which writes
the first message). Both sides then write in the bill's thread while it is disputed.
Finance closes it by resolving (confirmation back to ``pending``: the customer may still
confirm, and the dunning goes on from the day's stage) or by granting a credit: a
``BillCredit`` (before VAT) carried by the month close as a negative ``credit`` line on the
customer's next bill (``credit_line_drafts``), never an edit of the issued bill.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from djmoney.money import Money

from billing.bills.events import bill_event
from billing.bills.lines import LineDraft
from billing.models import Bill, BillCredit, BillEvent, BillLine, DisputeMessage
from billing.pricing.cost import ZERO
from common.admin_display import money_text
from common.errors import Conflict
from customers.access import is_finance

MESSAGE_MAX = 2000
REASON_MAX = 500


def _side(actor) -> str:
    return DisputeMessage.Side.FINANCE if actor is not None and is_finance(actor) else DisputeMessage.Side.CUSTOMER


def _text(value: str, field: str, limit: int, empty: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: [empty]})
    if len(value) > limit:
        raise ValidationError(
            {field: [_("Ensure this field has no more than %(limit)d characters.") % {"limit": limit}]}
        )
    return value


def dispute_opened(*, bill: Bill, note: str, actor=None) -> DisputeMessage:
    """The thread's first message (called by ``bill_confirm`` when the statement is disputed)."""
    return DisputeMessage.objects.create(
        bill=bill, kind=DisputeMessage.Kind.DISPUTE, side=_side(actor), author=_author(actor), text=note
    )


def _author(actor):
    return actor if getattr(actor, "pk", None) else None


def _locked_disputed(bill: Bill) -> Bill:
    bill = Bill.objects.select_for_update().get(pk=bill.pk)
    if bill.confirmation != Bill.Confirmation.DISPUTED:
        raise Conflict(_("Bill %(bill)s has no open dispute.") % {"bill": bill})
    return bill


@transaction.atomic
def dispute_reply(*, bill: Bill, text: str, actor) -> DisputeMessage:
    """A message in the open dispute of ``bill``, from the customer or from finance."""
    text = _text(text, "text", MESSAGE_MAX, _("Write a message."))
    bill = _locked_disputed(bill)
    message = DisputeMessage.objects.create(
        bill=bill, kind=DisputeMessage.Kind.REPLY, side=_side(actor), author=_author(actor), text=text
    )
    bill_event(bill, BillEvent.Kind.DISPUTE_MESSAGE, actor, side=message.side)
    return message


def _resolve(bill: Bill, note: str, actor) -> DisputeMessage:
    bill.confirmation = Bill.Confirmation.PENDING
    bill.save(update_fields=["confirmation", "updated_at"])
    message = DisputeMessage.objects.create(
        bill=bill, kind=DisputeMessage.Kind.RESOLVED, side=DisputeMessage.Side.FINANCE, author=_author(actor), text=note
    )
    bill_event(bill, BillEvent.Kind.DISPUTE_RESOLVED, actor, note=note)
    return message


@transaction.atomic
def dispute_resolve(*, bill: Bill, note: str, actor) -> DisputeMessage:
    """Finance closes the dispute with its answer; the bill's dunning resumes."""
    note = _text(note, "note", MESSAGE_MAX, _("Say how the dispute was resolved."))
    return _resolve(_locked_disputed(bill), note, actor)


def credit_granted_total(bill: Bill) -> Decimal:
    return BillCredit.objects.filter(bill=bill).aggregate(s=Sum("amount"))["s"] or ZERO


@transaction.atomic
def bill_credit_grant(*, bill: Bill, amount: Decimal, reason: str, actor) -> BillCredit:
    """Correct ``bill`` by ``amount`` (before VAT; VAT follows on the next bill) with a credit
    line on the customer's next bill. An open dispute of the bill is resolved by it."""
    reason = _text(reason, "reason", REASON_MAX, _("Give the reason for the credit; it is printed on the next bill."))
    bill = Bill.objects.select_for_update().get(pk=bill.pk)
    if bill.status in (Bill.Status.DRAFT, Bill.Status.VOID):
        raise Conflict(_("Only issued bills are corrected by a credit."))
    if amount is None or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": [_("The amount must be greater than zero, in yuan and fen.")]})
    room = bill.subtotal.amount - credit_granted_total(bill)
    if amount > room:
        raise ValidationError(
            {
                "amount": [
                    _("At most %(room)s can still be credited on bill %(bill)s (its amount before VAT).")
                    % {"room": money_text(max(room, ZERO)), "bill": bill}
                ]
            }
        )
    credit = BillCredit.objects.create(
        customer_id=bill.customer_id, bill=bill, amount=Money(amount, "CNY"), reason=reason, granted_by=_author(actor)
    )
    DisputeMessage.objects.create(
        bill=bill,
        kind=DisputeMessage.Kind.CREDIT,
        side=DisputeMessage.Side.FINANCE,
        author=_author(actor),
        text=reason,
        credit=credit,
    )
    bill_event(bill, BillEvent.Kind.CREDIT_GRANTED, actor, amount=f"{amount:.2f}", reason=reason)
    if bill.confirmation == Bill.Confirmation.DISPUTED:
        _resolve(
            bill, _("Corrected by a credit of %(amount)s on the next bill.") % {"amount": money_text(amount)}, actor
        )
    return credit


def credit_remaining(credit: BillCredit) -> Decimal:
    """What is left to carry: the amount less the credit lines on issued, live bills."""
    carried = (
        BillLine.objects.filter(credit=credit)
        .exclude(bill__status__in=(Bill.Status.DRAFT, Bill.Status.VOID))
        .aggregate(s=Sum("amount"))["s"]
        or ZERO
    )
    return credit.amount.amount + carried  # the lines are negative


def credit_line_drafts(*, customer_id: int, groups: dict[int | None, list[LineDraft]]) -> None:
    """Add the customer's credits still to carry to the bills being built (``groups``: bill
    key → its lines), oldest first: onto the bill of the corrected bill's project when there
    is one, else the customer-wide bill, else the first. A credit never takes a bill below
    zero; what does not fit waits for the next bill."""
    if not groups:
        return
    for credit in (
        BillCredit.objects.filter(customer_id=customer_id).select_related("bill").order_by("created_at", "pk")
    ):
        remaining = credit_remaining(credit)
        if remaining <= 0:
            continue
        project_id = credit.bill.project_id
        if project_id in groups:
            target = project_id
        elif None in groups:
            target = None
        else:
            target = min(groups, key=lambda key: key or 0)
        room = sum((line.amount for line in groups[target]), ZERO)
        use = min(remaining, room)
        if use <= 0:
            continue
        groups[target].append(
            LineDraft(
                BillLine.Kind.CREDIT,
                credit.bill.period,
                target,
                amount=-use,
                note=_("Correction of bill %(bill)s: %(reason)s")
                % {"bill": credit.bill.number, "reason": credit.reason},
                credit_id=credit.pk,
            )
        )


def dispute_thread(bill: Bill):
    return bill.dispute_messages.select_related("author", "credit").order_by("at", "pk")


def dispute_thread_display(bill: Bill) -> list[dict]:
    """The thread as the portal, staff and admin pages print it."""
    from common.admin_display import money_text

    return [
        {
            "at": m.at,
            "kind": m.kind,
            "kind_label": m.get_kind_display(),
            "side": m.side,
            "side_label": m.get_side_display(),
            "author": m.author.get_username() if m.author_id else "",
            "text": m.text,
            "credit": money_text(m.credit.amount) if m.credit_id else "",
        }
        for m in dispute_thread(bill)
    ]
