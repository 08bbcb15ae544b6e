"""Which bills a credit transfer pays (CONTRACT.md, "Collections", matching in order):

1. a bill number found in the memo (case, full-width characters, spaces and hyphens
   forgiven) → that bill — unless the payer is known for another customer;
2. the payer's account or name belongs to exactly one customer and the amount equals the
   balance of one open bill, or of its oldest open bills together (by due date, then
   number) → those bills;
3. otherwise unmatched, with the reason.

Reads only: the decision is booked by ``banking.services`` through the payment service.
"""

from __future__ import annotations

import difflib
import hashlib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Func, Value
from django.db.models.functions import StrIndex, Upper
from django.utils.translation import gettext as _

from banking.models import BankTransaction, PayerAccount, account_key
from billing.bills.lifecycle import payer_name_key
from billing.models import Bill, Payment
from customers.models import Customer

DASHES = "-‐‑‒–—―−_"


def text_key(text: str) -> str:
    """Text as bill numbers are looked for in it: NFKC (full-width ＢＩＬＬ is BILL), upper
    case, without spaces and hyphens."""
    normal = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in normal if not ch.isspace() and ch not in DASHES)


def dedupe_key(*, date, amount: Decimal, direction: str, payer_account: str, memo: str, bank_reference: str) -> str:
    """The identity of a transaction across overlapping statements: its bank reference, or
    without one its date, amount, payer account and memo."""
    if bank_reference.strip():
        return "ref:" + Payment.key_of(bank_reference)
    raw = "|".join([date.isoformat(), f"{amount:.2f}", direction, account_key(payer_account), text_key(memo)])
    return "sum:" + hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class Decision:
    bills: list[Bill] = field(default_factory=list)
    reason: str = ""
    rule: str = ""  # "memo" | "payer" | ""


def _number_key(expression):
    """The database's side of ``text_key`` for bill numbers (ASCII, no spaces)."""
    return Upper(Func(expression, Value("[-_ ]"), Value(""), Value("g"), function="regexp_replace"))


def _live(bill: Bill) -> Bill:
    """A voided bill's number names the bill that replaced it."""
    seen = 0
    while bill.status == Bill.Status.VOID and seen < 20:
        successor = Bill.objects.filter(replaces=bill).select_related("customer").first()
        if successor is None:
            break
        bill, seen = successor, seen + 1
    return bill


def bills_named_in(memo: str) -> list[Bill]:
    """The issued bills whose number appears in ``memo``; a number that is part of a longer
    one found there (BILL-A-202611 inside BILL-A-202611-R1) does not count on its own."""
    key = text_key(memo)
    if "BILL" not in key:
        return []
    found = list(
        Bill.objects.exclude(status=Bill.Status.DRAFT)
        .exclude(number__isnull=True)
        .annotate(hit=StrIndex(Value(key), _number_key(F("number"))))
        .filter(hit__gt=0)
        .select_related("customer")
    )
    keys = {bill.pk: text_key(bill.number) for bill in found}
    longest = [b for b in found if not any(keys[b.pk] != k and keys[b.pk] in k for k in keys.values())]
    live: dict[int, Bill] = {}
    for bill in longest:
        bill = _live(bill)
        live[bill.pk] = bill
    return sorted(live.values(), key=_bill_order)


def _bill_order(bill: Bill):
    return (bill.due_on is None, bill.due_on, bill.number or "")


def open_bills(customer_id: int) -> list[Bill]:
    bills = Bill.objects.filter(customer_id=customer_id, status__in=Bill.OPEN_STATUSES).select_related("customer")
    return sorted((b for b in bills if b.balance.amount > 0), key=_bill_order)


class PayerIndex:
    """Which customers a payer's account or name belongs to: the customers' own bank account
    and legal name, and the accounts remembered when finance matched a transfer by hand."""

    def __init__(self):
        self.by_account: dict[str, set[int]] = defaultdict(set)
        self.by_name: dict[str, set[int]] = defaultdict(set)
        self.names: dict[int, str] = {}
        for pk, code, name, account in Customer.objects.values_list("pk", "code", "name", "bank_account"):
            if account_key(account):
                self.by_account[account_key(account)].add(pk)
            self.by_name[payer_name_key(name)].add(pk)
            self.names[pk] = code
        for key, customer_id in PayerAccount.objects.values_list("account_key", "customer_id"):
            self.by_account[key].add(customer_id)

    def customers_of(self, *, payer_account: str, payer_name: str) -> set[int]:
        key = account_key(payer_account)
        if key and self.by_account.get(key):
            return set(self.by_account[key])
        name = payer_name_key(payer_name) if payer_name.strip() else ""
        return set(self.by_name.get(name, ())) if name else set()


def decide(*, index: PayerIndex, memo: str, payer_account: str, payer_name: str, amount: Decimal) -> Decision:
    known = index.customers_of(payer_account=payer_account, payer_name=payer_name)
    named = bills_named_in(memo)
    if named:
        customers = {b.customer_id for b in named}
        if known and not customers <= known:
            bill = next(b for b in named if b.customer_id not in known)
            return Decision(
                reason=_(
                    "The memo names %(bill)s of customer %(customer)s, but the payer is known for customer %(payer)s."
                )
                % {
                    "bill": bill.number,
                    "customer": bill.customer.code,
                    "payer": ", ".join(sorted(index.names.get(pk, "?") for pk in known)),
                }
            )
        if len(customers) > 1:
            return Decision(reason=_("The memo names bills of several customers."))
        payable = [b for b in named if b.status in Bill.OPEN_STATUSES and b.balance.amount > 0]
        if not payable:
            return Decision(
                reason=_("The memo names %(bills)s, which is not open for payment (%(status)s).")
                % {
                    "bills": ", ".join(b.number for b in named),
                    "status": ", ".join(str(b.get_status_display()) for b in named),
                }
            )
        return Decision(bills=payable, rule="memo")
    if not known:
        return Decision(reason=_("No bill number in the memo, and the payer is not a known customer."))
    if len(known) > 1:
        return Decision(
            reason=_("The payer belongs to several customers (%(customers)s).")
            % {"customers": ", ".join(sorted(index.names.get(pk, "?") for pk in known))}
        )
    (customer_id,) = known
    bills = open_bills(customer_id)
    exact = next((b for b in bills if b.balance.amount == amount), None)
    if exact is not None:
        return Decision(bills=[exact], rule="payer")
    running = Decimal(0)
    for count, bill in enumerate(bills, start=1):
        running += bill.balance.amount
        if running == amount and count > 1:
            return Decision(bills=bills[:count], rule="payer")
        if running > amount:
            break
    return Decision(
        reason=_("The payer is customer %(customer)s, but the amount equals no open balance of its bills.")
        % {"customer": index.names.get(customer_id, "?")}
    )


# --- Suggestions for the unmatched list -----------------------------------------------------


@dataclass
class Suggestion:
    bill: Bill
    score: float
    why: list[str]


def suggestions_for(
    transaction: BankTransaction, *, limit: int = 5, index: PayerIndex | None = None
) -> list[Suggestion]:
    """Likely bills for an unmatched credit: the same balance, a payer known for the bill's
    customer, a payer name like the customer's, a bill number in the memo."""
    index = index or PayerIndex()
    known = index.customers_of(payer_account=transaction.payer_account, payer_name=transaction.payer_name)
    named = {b.pk for b in bills_named_in(transaction.memo)}
    payer = payer_name_key(transaction.payer_name)
    amount = transaction.amount.amount
    scored = []
    bills = Bill.objects.filter(status__in=Bill.OPEN_STATUSES).select_related("customer")
    for bill in bills:
        balance = bill.balance.amount
        if balance <= 0:
            continue
        score, why = 0.0, []
        if balance == amount:
            score += 3
            why.append(_("amount equals the balance"))
        elif balance and abs(balance - amount) / balance <= Decimal("0.02"):
            score += 1
            why.append(_("amount close to the balance"))
        if bill.customer_id in known:
            score += 2
            why.append(_("payer known for this customer"))
        if payer:
            similarity = difflib.SequenceMatcher(None, payer, payer_name_key(bill.customer.name)).ratio()
            if similarity >= 0.5:
                score += 2 * similarity
                why.append(_("payer name %(percent)s%% alike") % {"percent": int(similarity * 100)})
        if bill.pk in named:
            score += 3
            why.append(_("bill number in the memo"))
        if score > 0:
            scored.append(Suggestion(bill=bill, score=score, why=why))
    scored.sort(key=lambda s: (-s.score, _bill_order(s.bill)))
    return scored[:limit]
