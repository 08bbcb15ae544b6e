"""Month close: build each customer's bill for a period from the rollups (money rules 4–10).

``month_close_customer`` is the unit of work (one Celery task per customer, or one call of
``close_month``). It is idempotent and safe to run twice or concurrently:

* it takes the customer's usage lock exclusively (ingestion takes it shared), so the usage
  it bills and the "closed" mark it leaves cannot interleave with a batch;
* issued bills are never touched again; a draft (held) bill is rebuilt in place;
* the unique constraint on live (customer, project, period) bills is the backstop.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from billing.bills.disputes import credit_line_drafts
from billing.bills.events import bill_event
from billing.bills.lines import LineDraft, build_lines
from billing.bills.transitions import bill_move
from billing.metering.rollups import ROLLUP_KEY, ROLLUP_MERGE, ROLLUP_SUMS, USAGE_LOCK_NAMESPACE
from billing.models import (
    Bill,
    BillEvent,
    BillLine,
    ClosedPeriod,
    CreditEntry,
    ExchangeRate,
    Payment,
    PriceVersion,
    SellerProfile,
    UsageRollup,
)
from billing.periods import business_day, format_period, next_period, period_start
from billing.pricing.cost import ZERO, bill_totals
from billing.pricing.money import quantize_money
from billing.pricing.selectors import contract_for_period, exchange_rate_for
from common.tasks import enqueue_on_commit
from customers.models import Contract, Customer, Project


@dataclass
class CloseOutcome:
    bill: Bill
    action: str  # "issued", "held", "unchanged"

    def line(self) -> str:
        bill = self.bill
        label = bill.number or f"draft #{bill.pk}"
        text = (
            f"{label}\t{bill.customer.code}\t{format_period(bill.period)}\t{bill.status}\t{bill.total.amount:.2f} CNY"
        )
        if self.action == "unchanged":
            text += "\t(already issued; unchanged)"
        if bill.status == Bill.Status.DRAFT:
            text += f"\tHELD: {bill.hold_reason}"
        return text


def bill_number(customer: Customer, period: date, project: Project | None, revision: int) -> str:
    """Money rule 9: BILL-{CUSTOMER}-{YYYYMM}[-{PROJECT}][-R{n}]."""
    number = f"BILL-{customer.code}-{period:%Y%m}"
    if project is not None:
        number += f"-{project.code.upper()}"
    if revision:
        number += f"-R{revision}"
    return number


def _leftovers(qs, period: date):
    """Rollups of bill periods before ``period`` that were never closed for their customer and
    have no bill of their own: late usage of a month in which the customer had nothing else to
    bill (so no close ever marked that month). A held draft of an earlier month keeps its usage."""
    closed = ClosedPeriod.objects.filter(customer_id=OuterRef("customer_id"), period=OuterRef("bill_period"))
    own_bill = Bill.objects.filter(customer_id=OuterRef("customer_id"), period=OuterRef("bill_period")).exclude(
        status=Bill.Status.VOID
    )
    return qs.filter(requests__gt=0, bill_period__lt=period).exclude(Exists(closed)).exclude(Exists(own_bill))


_REPOINTED = ", ".join(c for c in ("currency", "period", *ROLLUP_KEY, *ROLLUP_SUMS) if c != "bill_period")
REPOINT_ROLLUPS_SQL = (
    f"""
WITH moved AS (
    DELETE FROM billing_usagerollup WHERE id = ANY(%(ids)s)
    RETURNING {_REPOINTED}
)
INSERT INTO billing_usagerollup AS r ({_REPOINTED}, bill_period)
SELECT {_REPOINTED}, %(to)s
FROM moved
"""
    + ROLLUP_MERGE
)


def _sweep_leftovers(customer: Customer, period: date) -> list[date]:
    """Move leftover usage (see _leftovers) onto this period's bill: rollups and records get
    ``bill_period = period``, so the bill — and a reissue of it — is built from one bill period."""
    rows = list(_leftovers(UsageRollup.objects.filter(customer=customer), period).values_list("pk", "bill_period"))
    if not rows:
        return []
    swept = sorted({p for _pk, p in rows})
    with connection.cursor() as cursor:
        cursor.execute(REPOINT_ROLLUPS_SQL, {"ids": [pk for pk, _p in rows], "to": period})
        for old in swept:
            cursor.execute(
                "UPDATE billing_usagerecord SET bill_period = %s WHERE customer_id = %s AND bill_period = %s "
                "AND occurred_at < %s",
                [period, customer.pk, old, period_start(next_period(old))],
            )
    return swept


def seller_snapshot(on: date) -> dict:
    profile = SellerProfile.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    return profile.snapshot() if profile else {}


def buyer_snapshot(customer: Customer) -> dict:
    title = customer.invoice_titles.filter(is_default=True).first()
    return {
        "code": customer.code,
        "name": customer.name,
        "tax_id": customer.tax_id,
        "address": customer.address,
        "phone": customer.phone,
        "bank_name": customer.bank_name,
        "bank_account": customer.bank_account,
        "email": customer.email,
        "invoice_title": title.name if title else customer.name,
    }


def _save_lines(bill: Bill, drafts: list[LineDraft], *, replace: bool = True) -> None:
    if replace:  # a draft being rebuilt; a bill just created has no lines
        bill.lines.all().delete()
    BillLine.objects.bulk_create(
        BillLine(
            bill=bill,
            kind=d.kind,
            period=d.period,
            project_id=d.project_id,
            provider=d.provider,
            model=d.model,
            variant=d.variant,
            requests=d.requests,
            input_tokens=d.input_tokens,
            cached_input_tokens=d.cached_input_tokens,
            output_tokens=d.output_tokens,
            units=d.units,
            costs={k: str(v) for k, v in d.costs.items()},
            exchange_rates={k: str(v) for k, v in d.exchange_rates.items()},
            discount_percent=d.discount_percent,
            price_versions=sorted(d.price_versions),
            amount=Money(d.amount, "CNY"),
            note=d.note,
            credit_id=d.credit_id,
            position=i,
        )
        for i, d in enumerate(drafts)
    )


def _apply_totals(bill: Bill, drafts: list[LineDraft], vat_rate: Decimal) -> None:
    subtotal, vat, total = bill_totals((d.amount for d in drafts), vat_rate)
    bill.vat_rate = vat_rate
    bill.subtotal = Money(subtotal, "CNY")
    bill.vat = Money(vat, "CNY")
    bill.total = Money(total, "CNY")


def _apply_credit(bill: Bill, actor=None) -> bool:
    """Use the customer's credit (earlier overpayments) on a newly issued bill; True if any was used."""
    free = CreditEntry.objects.filter(customer=bill.customer, held=False)  # a deposit stays held
    available = free.aggregate(s=Sum("amount"))["s"] or ZERO
    use = min(available, bill.total.amount)
    if use <= 0:
        return False
    payment = Payment.objects.create(
        customer=bill.customer,
        bill=bill,
        method=Payment.Method.CREDIT,
        amount=Money(use, "CNY"),
        applied=Money(use, "CNY"),
        received_on=bill.issued_on,
        note=_("Customer credit applied"),
    )
    CreditEntry.objects.create(customer=bill.customer, amount=Money(-use, "CNY"), payment=payment, bill=bill)
    bill.amount_paid = Money(bill.amount_paid.amount + use, "CNY")
    bill_move(bill, Bill.Status.PAID if bill.amount_paid.amount >= bill.total.amount else Bill.Status.PARTIALLY_PAID)
    bill_event(bill, BillEvent.Kind.CREDIT_APPLIED, actor, amount=str(use))
    return True


def _issue(bill: Bill, contract: Contract, today: date, actor=None) -> None:
    bill.number = bill_number(bill.customer, bill.period, bill.project, bill.revision)
    bill_move(bill, Bill.Status.ISSUED)
    bill.hold_reason = ""
    bill.issued_on = today
    bill.due_on = today + timedelta(days=contract.payment_terms_days)
    bill.seller = seller_snapshot(today)
    bill.buyer = buyer_snapshot(bill.customer)
    bill.save()
    bill_event(bill, BillEvent.Kind.ISSUED, actor, number=bill.number, total=str(bill.total.amount))
    if _apply_credit(bill, actor):
        bill.save()
    elif bill.total.amount <= 0:  # e.g. a credit line took the whole bill: nothing is owed
        bill_move(bill, Bill.Status.PAID)
        bill.save(update_fields=["status", "updated_at"])


def _lock_inputs(drafts: list[LineDraft], rates_used: set[tuple[str, date]]) -> None:
    """Price versions and rates used by an issued bill can no longer change."""
    now = timezone.now()
    versions = {v for d in drafts for v in d.price_versions}
    if versions:
        PriceVersion.objects.filter(id__in=versions, locked_at__isnull=True).update(locked_at=now)
    for currency, period in rates_used:
        ExchangeRate.objects.filter(currency=currency, period=period, locked_at__isnull=True).update(locked_at=now)


def _own_period_rate(
    contract: Contract | None, period: date, drafts: list[LineDraft], rates: dict[tuple[str, date], Decimal | None]
) -> Decimal | None:
    currencies = {c for d in drafts for c in d.costs if c != "CNY"} or (
        {contract.price_currency} if contract else set()
    )
    currencies.discard("CNY")
    if not currencies:
        return None
    currency = sorted(currencies)[0]
    if (currency, period) not in rates:  # ``contract`` is the one in force in ``period``, as in build_lines
        rates[(currency, period)] = exchange_rate_for(currency, period, contract=contract, exact=True)
    return rates[(currency, period)]


def month_close_customer(
    *, customer: Customer, period: date, actor=None, today: date | None = None, reissue: bool = False
) -> list[CloseOutcome]:
    """Close ``period`` for one customer; returns one outcome per bill (none: nothing to bill)."""
    today = today or business_day(timezone.now())
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [USAGE_LOCK_NAMESPACE, customer.pk])
        if not reissue and not ClosedPeriod.objects.filter(customer=customer, period=period).exists():
            _sweep_leftovers(customer, period)
        contract = contract_for_period(customer, period)
        rates: dict[tuple[str, date], Decimal | None] = {}
        drafts, holds, rates_used = build_lines(customer, period, contracts={period: contract}, rates=rates)
        commitment = contract.minimum_monthly_commitment.amount if contract else ZERO
        fee = service_fee(contract)
        if not drafts and commitment <= 0 and fee <= 0:
            return []  # money rule 10: no usage, no commitment (and no service fee), no bill
        if contract is None:
            holds.append(_("No active contract covers %(period)s.") % {"period": format_period(period)})
        vat_rate = contract.vat_rate if contract else Decimal("0.06")

        # Which bills: one per customer, or one per project (+ one for the commitment top-up).
        groups: dict[int | None, list[LineDraft]] = defaultdict(list)
        per_project = bool(contract and contract.bill_per_project)
        for d in drafts:
            groups[d.project_id if per_project else None].append(d)
        usage_total = sum((d.amount for d in drafts), ZERO)
        if commitment > usage_total:
            top_up = LineDraft(
                BillLine.Kind.MINIMUM_COMMITMENT, period, None, amount=quantize_money(commitment - usage_total)
            )
            groups[None].append(top_up)  # money rule 7: customer-wide; its own bill when per project
        if fee > 0:
            # Money rule 12: the fee as it stands, after the commitment (it does not count toward
            # it), on the customer-wide bill (with bill_per_project the BILL-{CUSTOMER}-{YYYYMM} one).
            groups[None].append(LineDraft(BillLine.Kind.SERVICE_FEE, period, None, amount=quantize_money(fee)))
        # Credits granted on disputed bills: negative ``credit`` lines (VAT follows), never
        # an edit of the bill they correct.
        credit_line_drafts(customer_id=customer.pk, groups=groups)

        live = {
            b.project_id: b
            for b in Bill.objects.select_for_update(of=("self",))
            .order_by()
            .filter(customer=customer, period=period)
            .exclude(status=Bill.Status.VOID)
        }
        outcomes: list[CloseOutcome] = []
        for project_id, lines in sorted(groups.items(), key=lambda item: item[0] or 0):
            bill = live.pop(project_id, None)
            if bill is not None and bill.status != Bill.Status.DRAFT:
                outcomes.append(CloseOutcome(bill, "unchanged"))
                continue
            if bill is None:
                voided = Bill.objects.filter(
                    customer=customer, project_id=project_id, period=period, status=Bill.Status.VOID
                )
                previous = voided.order_by("-revision").first()
                bill = Bill(
                    customer=customer,
                    project_id=project_id,
                    period=period,
                    revision=previous.revision + 1 if previous else 0,
                    replaces=previous,
                )
            is_new = bill.pk is None
            previous_hold = None if is_new else bill.hold_reason
            bill.contract = contract
            bill.discount_percent = contract.discount_percent if contract else ZERO
            bill.exchange_rate = _own_period_rate(contract, period, lines, rates)
            _apply_totals(bill, lines, vat_rate)
            bill.hold_reason = " ".join(holds)
            bill.save()
            _save_lines(bill, lines, replace=not is_new)
            if holds:
                if previous_hold != bill.hold_reason:  # a re-run with the same cause adds nothing
                    bill_event(bill, BillEvent.Kind.HELD, actor, reasons=holds)
                outcomes.append(CloseOutcome(bill, "held"))
                continue
            _issue(bill, contract, today, actor)
            outcomes.append(CloseOutcome(bill, "issued"))
        for stale in live.values():  # drafts whose usage moved away (e.g. repriced into another project)
            if stale.status == Bill.Status.DRAFT:
                stale.delete()
        if not holds:
            ClosedPeriod.objects.bulk_create([ClosedPeriod(customer=customer, period=period)], ignore_conflicts=True)
            _lock_inputs(drafts, rates_used)
            issued = [o.bill.pk for o in outcomes if o.action == "issued"]
            for pk in issued:
                enqueue_on_commit("billing.tasks.bill_render_and_send", pk)
            if issued:  # issued bills are now unpaid balances: the credit standing follows
                enqueue_on_commit("billing.tasks.budgets_evaluate", customer.pk, robust=True)
    return outcomes


def service_fee(contract: Contract | None) -> Decimal:
    """The contract's monthly service fee in CNY (0 without one)."""
    fee = contract.monthly_service_fee if contract else None
    return fee.amount if fee is not None else ZERO


def customers_to_close(period: date) -> list[int]:
    """Customers with unbilled usage up to ``period`` or a contract with a minimum commitment
    or a monthly service fee in it."""
    with_usage = set(
        UsageRollup.objects.filter(bill_period=period, requests__gt=0).values_list("customer_id", flat=True).distinct()
    ) | set(_leftovers(UsageRollup.objects.all(), period).values_list("customer_id", flat=True).distinct())
    committed = {
        c.customer_id
        for c in Contract.objects.filter(status=Contract.Status.ACTIVE)
        .filter(Q(minimum_monthly_commitment__gt=0) | Q(monthly_service_fee__gt=0))
        .only("customer_id")
        if contract_for_period(c.customer, period) is not None
    }
    return sorted(with_usage | committed)
