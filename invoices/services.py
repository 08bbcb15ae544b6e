"""Issuing and reversing VAT invoices (fapiao.md is the rule book).

* ``invoice_issue`` locks the bill, checks it may be invoiced (issued, contract timing,
  statement confirmation, buyer tax id for a special invoice), invoices what remains of it
  (Σ invoices of a bill never exceeds the bill), splits by the seller's amount limit,
  freezes buyer and seller, and hands each invoice to the issuing backend.
* ``invoice_red_letter`` files a red-letter confirmation form and issues the negative
  invoice; the blue one is never edited beyond its reversal status.
* ``invoice_number_next`` takes the counter row FOR UPDATE in the issuing transaction:
  20 digits, gapless per seller and year; the unique constraint is the backstop.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from djmoney.money import Money

from billing.bills.parties import buyer_snapshot, seller_required
from billing.models import Bill, SellerProfile
from billing.periods import business_day, format_period
from billing.pricing.cost import vat_amount
from billing.pricing.money import quantize_money
from common.errors import Conflict
from common.numbering import sequence_next
from common.tasks import enqueue_on_commit
from customers.models import Contract, InvoiceTitle, InvoiceType
from invoices.events import invoice_event as _event
from invoices.models import (
    PARTIAL_RED_REASONS,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceRequest,
    RedLetterForm,
    RedReason,
)
from invoices.transitions import invoice_can_become, invoice_move, invoice_sources

ZERO = Decimal("0")
INVOICEABLE = (Bill.Status.ISSUED, Bill.Status.PARTIALLY_PAID, Bill.Status.PAID, Bill.Status.OVERDUE)


def invoice_number_next(*, seller: SellerProfile, on: date, channel: str = "1") -> str:
    """The next 20-digit number: YY + province + channel digit + 15-digit sequence."""
    sequence = sequence_next(InvoiceCounter, seller_tax_id=seller.tax_id, year=on.year)
    return f"{on.year % 100:02d}{seller.province_code:0>2}{channel}{sequence:015d}"


@dataclass
class Invoiced:
    amount: Decimal
    vat: Decimal

    @property
    def total(self) -> Decimal:
        return self.amount + self.vat


def bill_invoiced(bill: Bill) -> Invoiced:
    """Σ of the bill's invoices (blue positive, red negative): pending blue ones included (they
    may yet be issued), pending red ones not (the buyer may still reject the red-letter form;
    freeing the bill before that could leave two standing blue invoices on it)."""
    sums = (
        bill.invoices.exclude(status=Invoice.Status.FAILED)
        .exclude(color=Invoice.Color.RED, status=Invoice.Status.PENDING)
        .aggregate(a=Sum("amount"), v=Sum("vat"))
    )
    return Invoiced(sums["a"] or ZERO, sums["v"] or ZERO)


def bill_invoiceable(bill: Bill) -> Invoiced:
    done = bill_invoiced(bill)
    return Invoiced(bill.subtotal.amount - done.amount, bill.vat.amount - done.vat)


def split_amounts(amount: Decimal, vat: Decimal, limit: Decimal | None) -> list[tuple[Decimal, Decimal]]:
    """Split (amount, vat) into invoices whose amount stays within ``limit``; VAT is shared in
    proportion by largest remainder, so the sums are exact and each piece is within a fen of
    its share (rounding each piece and leaving the rest to the last one piles every piece's
    rounding onto the last: past the platform's 0.06 tolerance, or below zero)."""
    if limit is None or limit <= 0 or amount <= limit:
        return [(amount, vat)]
    count, rest = divmod(amount, limit)
    amounts = [limit] * int(count) + ([rest] if rest else [])
    return list(zip(amounts, allocate_largest_remainder(vat, amounts), strict=True))


def allocate_largest_remainder(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Share ``total`` (to the fen) across ``weights`` so the parts sum to it exactly."""
    weight_sum = sum(weights, ZERO)
    if weight_sum == 0:
        return [total] + [ZERO] * (len(weights) - 1) if weights else []
    cents = int((total * 100).to_integral_value())
    raw = [Decimal(cents) * w / weight_sum for w in weights]
    floors = [int(r) for r in raw]
    left = cents - sum(floors)
    order = sorted(range(len(raw)), key=lambda i: (raw[i] - floors[i], -i), reverse=True)
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(f) / 100 for f in floors]


def _document_text(message: str) -> str:
    """Text printed on an invoice: always Simplified Chinese, whatever the requester's language."""
    with translation.override("zh-hans"):
        return _(message)


def _line_drafts(bill: Bill, amount: Decimal, vat: Decimal, seller: SellerProfile, per_model: bool) -> list[dict]:
    base = {
        "item_name": seller.item_name,
        "tax_code": seller.tax_classification_code,
        "tax_short_name": seller.tax_classification_name,
        "tax_rate": bill.vat_rate,
    }
    period = format_period(bill.period)
    # A bill with a credit line (a correction of an earlier bill) is invoiced as one net line:
    # a negative line per model would be a discount line the buyer cannot book against a model.
    if not per_model or amount != bill.subtotal.amount or bill.lines.filter(amount__lt=0).exists():
        return [
            base
            | {
                "spec": period,
                "unit": _document_text(gettext_noop("month")),
                "quantity": Decimal(1),
                "unit_price": amount,
                "amount": amount,
                "tax": vat,
            }
        ]
    by_model: dict[str, Decimal] = {}
    for line in bill.lines.all():
        name = line.model or _document_text(
            gettext_noop("service fee") if line.kind == "service_fee" else gettext_noop("minimum commitment")
        )
        by_model[name] = by_model.get(name, ZERO) + line.amount.amount
    names = list(by_model)
    taxes = allocate_largest_remainder(vat, [by_model[n] for n in names])
    return [
        base
        | {
            "spec": name,
            "unit": _document_text(gettext_noop("month")),
            "quantity": Decimal(1),
            "unit_price": by_model[name],
            "amount": by_model[name],
            "tax": tax,
        }
        for name, tax in zip(names, taxes, strict=True)
    ]


def _check_invoiceable(bill: Bill, invoice_type: str, title: InvoiceTitle | None) -> None:
    if bill.status not in INVOICEABLE:
        raise Conflict(
            _("Bill %(bill)s is %(status)s; only issued bills are invoiced.")
            % {"bill": bill, "status": bill.get_status_display()}
        )
    contract: Contract | None = bill.contract
    if contract is not None:
        if contract.invoice_timing == Contract.InvoiceTiming.AFTER_PAYMENT and bill.status != Bill.Status.PAID:
            raise Conflict(_("The contract invoices after payment; bill %(bill)s is not paid yet.") % {"bill": bill})
        if contract.requires_confirmation and bill.confirmation != Bill.Confirmation.CONFIRMED:
            raise Conflict(
                _("The contract invoices after the customer confirms the statement; bill %(bill)s is not confirmed.")
                % {"bill": bill}
            )
    tax_id = (title.tax_id if title else bill.customer.tax_id).strip()
    if invoice_type == InvoiceType.SPECIAL and not tax_id:
        raise ValidationError(
            {"tax_id": [_("A special VAT invoice needs the buyer's tax id; add it to the customer's invoice title.")]}
        )


@transaction.atomic
def invoice_issue(
    *,
    bill: Bill,
    invoice_type: str | None = None,
    per_model: bool = False,
    title: InvoiceTitle | None = None,
    remark: str = "",
    actor=None,
    backend=None,
) -> list[Invoice]:
    """Invoice what remains of ``bill``; returns the new invoice(s) (split by the amount limit)."""
    from invoices.backends import get_backend

    bill = Bill.objects.select_for_update(of=("self",)).select_related("customer", "contract").get(pk=bill.pk)
    if invoice_type is None:
        invoice_type = bill.contract.invoice_type if bill.contract else InvoiceType.SPECIAL
    if invoice_type not in InvoiceType.values:
        raise ValidationError({"invoice_type": [_("One of: special, ordinary.")]})
    title = title or bill.customer.invoice_titles.filter(is_default=True).first()
    _check_invoiceable(bill, invoice_type, title)
    left = bill_invoiceable(bill)
    if left.total <= 0:
        raise Conflict(_("Bill %(bill)s is fully invoiced.") % {"bill": bill})
    today = business_day(timezone.now())
    seller = seller_required(today)
    backend = backend or get_backend()
    invoices = []
    for amount, vat in split_amounts(left.amount, left.vat, seller.invoice_amount_limit):
        invoice = Invoice.objects.create(
            order_number=f"INV{today:%Y%m%d}{uuid.uuid4().hex[:12].upper()}",
            bill=bill,
            customer=bill.customer,
            title=title,
            color=Invoice.Color.BLUE,
            invoice_type=invoice_type,
            status=Invoice.Status.PENDING,
            backend=backend.name,
            vat_rate=bill.vat_rate,
            amount=Money(amount, "CNY"),
            vat=Money(vat, "CNY"),
            total=Money(amount + vat, "CNY"),
            buyer=buyer_snapshot(bill.customer, title),
            seller=seller.snapshot(),
            remark=(
                remark
                or _document_text(gettext_noop("Bill %(bill)s, period %(period)s"))
                % {"bill": bill.number, "period": format_period(bill.period)}
            )[:200],
            issuer=seller.issuing_clerk,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=invoice,
                position=i,
                **{k: (Money(v, "CNY") if k in ("amount", "tax") else v) for k, v in line.items()},
            )
            for i, line in enumerate(_line_drafts(bill, amount, vat, seller, per_model))
        )
        _event(invoice, "created", actor, amount=str(amount), vat=str(vat))
        backend.submit(invoice=invoice, seller=seller, on=today)
        invoices.append(invoice)
    # Whoever issued it (the request's action, the bill's action, the API), the customer's
    # open requests for this bill are answered.
    InvoiceRequest.objects.filter(bill=bill, status=InvoiceRequest.Status.OPEN).update(
        status=InvoiceRequest.Status.ISSUED
    )
    _after_commit_render_and_send([i.pk for i in invoices if i.status == Invoice.Status.ISSUED])
    return invoices


def _after_commit_render_and_send(invoice_ids: list[int]) -> None:
    if not invoice_ids:
        return
    for pk in invoice_ids:
        enqueue_on_commit("invoices.tasks.invoice_render_and_send", pk)


@transaction.atomic
def mark_issued(*, invoice: Invoice, number: str, issued_on: date, actor=None) -> Invoice:
    """Called by a backend when the platform has issued the invoice (number and date)."""
    if not (len(number) == 20 and number.isdigit()):
        raise ValidationError({"number": [_("An invoice number has 20 digits.")]})
    # An issued invoice never changes: a second result (a repeated callback, finance typing
    # the number again) must not overwrite the first number.
    current = Invoice.objects.select_for_update().only("status").get(pk=invoice.pk)
    if not invoice_can_become(current.status, Invoice.Status.ISSUED):
        raise Conflict(
            _("Invoice %(invoice)s is %(status)s; its number cannot change.")
            % {"invoice": invoice, "status": current.get_status_display()}
        )
    if Invoice.objects.filter(number=number).exclude(pk=invoice.pk).exists():
        raise ValidationError({"number": [_("This invoice number is already recorded.")]})
    invoice.number = number
    invoice.issued_on = issued_on
    invoice.status = current.status
    invoice_move(invoice, Invoice.Status.ISSUED)
    invoice.save(update_fields=["number", "issued_on", "status", "updated_at"])
    _event(invoice, "issued", actor, number=number)
    if invoice.color == Invoice.Color.RED:
        _settle_reversal(invoice)
    return invoice


def _reversed_so_far(blue: Invoice) -> Invoiced:
    sums = blue.reversals.exclude(status=Invoice.Status.FAILED).aggregate(a=Sum("amount"), v=Sum("vat"))
    return Invoiced(-(sums["a"] or ZERO), -(sums["v"] or ZERO))


def _settle_reversal(red: Invoice) -> None:
    blue = Invoice.objects.select_for_update().get(pk=red.original_id)
    done = _reversed_so_far(blue)
    invoice_move(
        blue, Invoice.Status.REVERSED if done.total >= blue.total.amount else Invoice.Status.PARTIALLY_REVERSED
    )
    blue.save(update_fields=["status", "updated_at"])
    RedLetterForm.objects.filter(red=red).update(status=RedLetterForm.Status.RED_ISSUED)
    _event(blue, "reversed" if blue.status == Invoice.Status.REVERSED else "partially_reversed", None, red=red.number)


@transaction.atomic
def invoice_red_letter(
    *, blue: Invoice, reason: int, amount: Decimal | None = None, note: str = "", actor=None, backend=None
) -> Invoice:
    """Reverse ``blue`` in full, or in part (returns and discounts only), with a red invoice."""
    from invoices.backends import get_backend

    if reason not in RedReason.values:
        raise ValidationError(
            {"reason": [_("The reason is 1 (return), 2 (error), 3 (service stopped) or 4 (discount).")]}
        )
    blue = Invoice.objects.select_for_update().get(pk=blue.pk)
    if blue.color != Invoice.Color.BLUE or not invoice_can_become(blue.status, Invoice.Status.REVERSED):
        raise Conflict(
            _("Invoice %(number)s cannot be reversed (it is %(status)s).")
            % {"number": blue, "status": blue.get_status_display()}
        )
    if amount is not None and reason not in PARTIAL_RED_REASONS:
        raise ValidationError(
            {"amount": [_("A partial reversal is allowed only for a sales return (1) or a discount (4).")]}
        )
    done = _reversed_so_far(blue)
    left_amount, left_vat = blue.amount.amount - done.amount, blue.vat.amount - done.vat
    if left_amount + left_vat <= 0:
        raise Conflict(_("Invoice %(number)s is already fully reversed.") % {"number": blue})
    if amount is None:
        red_amount, red_vat = left_amount, left_vat
    else:
        if amount <= 0:
            raise ValidationError({"amount": [_("The amount to reverse must be greater than zero.")]})
        if amount > left_amount:
            raise Conflict(
                _("Only %(left)s (before VAT) of invoice %(number)s is left to reverse.")
                % {"left": left_amount, "number": blue}
            )
        red_amount = quantize_money(amount)
        red_vat = left_vat if red_amount == left_amount else min(vat_amount(red_amount, blue.vat_rate), left_vat)
    today = business_day(timezone.now())
    seller = seller_required(today)
    form = RedLetterForm.objects.create(
        blue=blue,
        reason=reason,
        amount=Money(red_amount, "CNY"),
        vat=Money(red_vat, "CNY"),
        status=RedLetterForm.Status.SUBMITTED,
        note=note[:300],
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    red = Invoice.objects.create(
        order_number=f"RED{today:%Y%m%d}{uuid.uuid4().hex[:12].upper()}",
        bill=blue.bill,
        customer=blue.customer,
        title=blue.title,
        color=Invoice.Color.RED,
        invoice_type=blue.invoice_type,
        status=Invoice.Status.PENDING,
        backend=(backend or get_backend()).name,
        vat_rate=blue.vat_rate,
        amount=Money(-red_amount, "CNY"),
        vat=Money(-red_vat, "CNY"),
        total=Money(-(red_amount + red_vat), "CNY"),
        buyer=blue.buyer,
        seller=blue.seller,
        remark="",  # 数电票: no remark on a red invoice
        issuer=seller.issuing_clerk,
        original=blue,
        red_reason=reason,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    blue_lines = list(blue.lines.all())
    shares = allocate_largest_remainder(red_amount, [ln.amount.amount for ln in blue_lines])
    taxes = allocate_largest_remainder(red_vat, [ln.tax.amount for ln in blue_lines])
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=red,
            position=ln.position,
            item_name=ln.item_name,
            tax_code=ln.tax_code,
            tax_short_name=ln.tax_short_name,
            spec=ln.spec,
            unit=ln.unit,
            quantity=-ln.quantity if ln.quantity is not None and share == ln.amount.amount else None,
            unit_price=ln.unit_price if share == ln.amount.amount else None,
            amount=Money(-share, "CNY"),
            tax_rate=ln.tax_rate,
            tax=Money(-tax, "CNY"),
        )
        for ln, share, tax in zip(blue_lines, shares, taxes, strict=True)
    )
    form.red = red
    form.save(update_fields=["red", "updated_at"])
    _event(red, "created", actor, original=blue.number, reason=reason, amount=str(-red_amount))
    (backend or get_backend()).submit_red(invoice=red, form=form, seller=seller, on=today)
    _after_commit_render_and_send([red.pk] if red.status == Invoice.Status.ISSUED else [])
    return red


def bill_reverse_invoices(*, bill: Bill, reason: str = "", actor=None) -> list[Invoice]:
    """Before a bill is voided: reverse every invoice still standing on it (开票有误, full)."""
    if bill.invoices.filter(status=Invoice.Status.PENDING).exists():
        raise Conflict(
            _("Bill %(bill)s has invoices pending at the platform; wait for them before voiding.") % {"bill": bill}
        )
    standing = bill.invoices.filter(color=Invoice.Color.BLUE, status__in=invoice_sources(Invoice.Status.REVERSED))
    return [invoice_red_letter(blue=blue, reason=RedReason.ERROR, note=reason, actor=actor) for blue in standing]


@transaction.atomic
def invoice_record_manual(*, invoice: Invoice, number: str, issued_on: date, platform_file=None, actor=None) -> Invoice:
    """The manual backend: finance issued the invoice on the tax bureau's platform and records
    its number, date and the platform's PDF/OFD file here."""
    if invoice.backend != "manual":
        raise Conflict(_("Only invoices of the manual backend are recorded by hand."))
    invoice = mark_issued(invoice=invoice, number=number.strip(), issued_on=issued_on, actor=actor)
    if platform_file is not None:
        invoice.platform_file.save(platform_file.name, platform_file, save=False)
        invoice.save(update_fields=["platform_file", "updated_at"])
    return invoice


@transaction.atomic
def invoice_request_create(*, bill: Bill, invoice_type: str, note: str = "", actor=None) -> InvoiceRequest:
    """A customer asks for an invoice on one of its issued bills (API and portal); finance
    issues it. The customer's default 发票抬头 at the time of asking is kept with the request.

    One open request per bill, and none on a bill with nothing left to invoice (409): a
    repeated click or a client's retry must not queue the same invoice twice. The bill row
    is locked so that two requests at once cannot both pass the check."""
    if bill.number is None:
        raise ValidationError({"bill": [_("This bill is not issued yet.")]})
    bill = Bill.objects.select_for_update().get(pk=bill.pk)
    open_request = bill.invoice_requests.filter(status=InvoiceRequest.Status.OPEN).order_by("created_at").first()
    if open_request is not None:
        raise Conflict(
            _("Invoice request no. %(id)s for %(bill)s, asked on %(day)s, is still open; finance answers it first.")
            % {"id": open_request.pk, "bill": bill.number, "day": business_day(open_request.created_at).isoformat()}
        )
    if bill_invoiceable(bill).amount <= 0:
        raise Conflict(_("%(bill)s is fully invoiced: nothing is left to invoice on it.") % {"bill": bill.number})
    return InvoiceRequest.objects.create(
        customer=bill.customer,
        bill=bill,
        invoice_type=invoice_type,
        title=bill.customer.invoice_titles.filter(is_default=True).first(),
        note=note,
        requested_by=actor if getattr(actor, "pk", None) else None,
    )
