"""Writes: importing a statement (store, recognise duplicates, match, book), matching or
ignoring a transaction by hand. Money is booked only by the payment service
(``billing.bills.lifecycle``), so parts, overpayments (customer credit), repeated
references and bill events behave as every payment does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from banking.matching import Decision, PayerIndex, decide, dedupe_key
from banking.models import BankStatement, BankTransaction, PayerAccount, account_key
from banking.parsers import StatementLine, parse_statement
from billing.bills.lifecycle import credit_receive, payment_record
from billing.models import Bill, Payment
from common.errors import Conflict, DomainError, refusal_text
from customers.models import Customer

# One import at a time: two overlapping statements uploaded together still store each
# transaction once (the unique dedupe key would otherwise fail the second as a whole).
IMPORT_LOCK = 0x42414E4B  # "BANK"


@dataclass
class ImportResult:
    statement: BankStatement
    lines: int = 0
    duplicates: int = 0
    transactions: list[BankTransaction] = field(default_factory=list)
    matched: list[tuple[BankTransaction, Payment]] = field(default_factory=list)
    unmatched: list[BankTransaction] = field(default_factory=list)
    duplicate_lines: list[StatementLine] = field(default_factory=list)


class _Preview(Exception):
    pass


def statement_import(
    *,
    file_name: str,
    content: bytes,
    format: str,
    columns: dict[str, str] | None = None,
    encoding: str | None = None,
    actor=None,
    preview: bool = False,
) -> ImportResult:
    """Read the whole file (a bad line: ``StatementError``, nothing written), store each
    transaction not seen before, and match and book the credits. ``preview``: the same, rolled
    back — what the import would do, with nothing kept."""
    parsed = parse_statement(format=format, content=content, columns=columns, encoding=encoding)
    result = None
    try:
        with transaction.atomic():
            result = _import(parsed, file_name=file_name, content=content, format=format, actor=actor, preview=preview)
            if preview:
                raise _Preview
    except _Preview:
        pass
    return result


def _import(parsed, *, file_name, content, format, actor, preview) -> ImportResult:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])
    statement = BankStatement(
        file_name=file_name[:255],
        format=format,
        account=parsed.account,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    if not preview:
        # Stored under a name of ours: the uploaded one is kept as text (``file_name``).
        statement.file.save(f"statement-{uuid.uuid4().hex}.{format}", ContentFile(content), save=False)
    statement.save()
    result = ImportResult(statement=statement, lines=len(parsed.lines))
    keys = [_key_of(line) for line in parsed.lines]
    seen = set(BankTransaction.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    index = PayerIndex()
    for line, key in zip(parsed.lines, keys, strict=True):
        if key in seen:
            result.duplicates += 1
            result.duplicate_lines.append(line)
            continue
        seen.add(key)
        txn = BankTransaction.objects.create(
            statement=statement,
            line=line.line,
            date=line.date,
            amount=Money(line.amount, "CNY"),
            direction=line.direction,
            payer_name=line.payer_name,
            payer_account=line.payer_account,
            memo=line.memo,
            bank_reference=line.bank_reference,
            dedupe_key=key,
        )
        result.transactions.append(txn)
        if line.direction == BankTransaction.Direction.DEBIT or line.reversal:
            txn.status = BankTransaction.Status.IGNORED
            txn.reason = (
                _("A reversal by the bank (RC/RD): not a customer's payment.")
                if line.reversal
                else _("A debit (money out): only credits are matched.")
            )
            txn.save(update_fields=["status", "reason"])
            continue
        decision = decide(
            index=index, memo=txn.memo, payer_account=txn.payer_account, payer_name=txn.payer_name, amount=line.amount
        )
        payments = _book_decision(txn, decision, actor)
        if payments:
            result.matched.extend((txn, p) for p in payments)
        else:
            result.unmatched.append(txn)
    statement.lines = result.lines
    statement.duplicates = result.duplicates
    statement.credits = sum(1 for t in result.transactions if t.direction == BankTransaction.Direction.CREDIT)
    statement.debits = len(result.transactions) - statement.credits
    statement.matched = len({t.pk for t, _p in result.matched})
    statement.save()
    return result


def _key_of(line: StatementLine) -> str:
    return dedupe_key(
        date=line.date,
        amount=line.amount,
        direction=line.direction,
        payer_account=line.payer_account,
        memo=line.memo,
        bank_reference=line.bank_reference,
    )


def _book_decision(txn: BankTransaction, decision: Decision, actor) -> list[Payment]:
    if not decision.bills:
        txn.reason = decision.reason[:500]
        txn.save(update_fields=["reason"])
        return []
    try:
        with transaction.atomic():  # a refused part undoes the parts booked before it
            payments = _book(txn, decision.bills, actor)
    except (ValidationError, DomainError) as exc:
        txn.reason = _("Not booked: %(error)s") % {"error": refusal_text(exc)}
        txn.reason = txn.reason[:500]
        txn.save(update_fields=["reason"])
        return []
    return payments


def _book(txn: BankTransaction, bills: list[Bill], actor, *, customer: Customer | None = None) -> list[Payment]:
    """Pay ``bills`` in order with the transfer: each up to its balance, the last with the
    rest (more than its balance becomes customer credit, as any overpayment does)."""
    remaining = txn.amount.amount
    payments = []
    for position, bill in enumerate(bills):
        bill = Bill.objects.get(pk=bill.pk)
        last = position == len(bills) - 1
        part = remaining if last else min(remaining, bill.balance.amount)
        if part <= 0:
            raise ValidationError(
                {
                    "bills": [
                        _("The transfer of %(amount)s is used up before bill %(bill)s.")
                        % {"amount": txn.amount.amount, "bill": bill.number}
                    ]
                }
            )
        payment, _created = payment_record(
            bill=bill,
            amount=part,
            received_on=txn.date,
            reference=txn.bank_reference,
            idempotency_key=f"bank-transaction:{txn.pk}:{bill.pk}",
            payer_name=txn.payer_name,
            note=_("Bank statement #%(statement)s, line %(line)s") % {"statement": txn.statement_id, "line": txn.line},
            actor=actor,
            split=len(bills) > 1,
        )
        remaining -= part
        payments.append(payment)
    txn.payments.add(*payments)
    txn.status = BankTransaction.Status.MATCHED
    txn.customer_id = bills[0].customer_id
    txn.reason = ""
    txn.save(update_fields=["status", "customer", "reason"])
    return payments


def _locked(txn: BankTransaction) -> BankTransaction:
    txn = BankTransaction.objects.select_for_update().select_related("statement").get(pk=txn.pk)
    if txn.status == BankTransaction.Status.MATCHED:
        raise Conflict(_("This transaction is already matched."))
    if txn.direction == BankTransaction.Direction.DEBIT:
        raise Conflict(_("A debit (money out) is not matched to bills."))
    return txn


def _remember_payer(txn: BankTransaction, customer: Customer, actor) -> None:
    """The next transfer from this account is the customer's (matching rule 2, docs/money-rules.md)."""
    if not account_key(txn.payer_account):
        return
    remembered = PayerAccount.objects.filter(account_key=account_key(txn.payer_account)).first()
    if remembered is None:
        remembered = PayerAccount(account=txn.payer_account, created_by=actor if getattr(actor, "pk", None) else None)
    remembered.customer = customer
    remembered.payer_name = txn.payer_name
    remembered.save()


@transaction.atomic
def transaction_match(
    *, txn: BankTransaction, bills: list[Bill] | None = None, customer: Customer | None = None, actor=None
) -> BankTransaction:
    """Finance matches a transfer by hand: to bills (paid in the order given, the rest as
    credit), or to a customer (the whole amount held as credit for its next bill). The payer's
    account is remembered for the customer."""
    txn = _locked(txn)
    if bills:
        customers = {b.customer_id for b in bills}
        if len(customers) > 1:
            raise ValidationError({"bills": [_("The bills must belong to one customer.")]})
        _book(txn, bills, actor)
        customer = bills[0].customer
    elif customer is not None:
        reference = txn.bank_reference or f"BANK-TXN-{txn.pk}"
        payment, _created = credit_receive(
            customer=customer,
            amount=txn.amount.amount,
            received_on=txn.date,
            reference=reference,
            payer_name=txn.payer_name,
            actor=actor,
            note=_("Bank statement #%(statement)s, line %(line)s") % {"statement": txn.statement_id, "line": txn.line},
        )
        txn.payments.add(payment)
        txn.status = BankTransaction.Status.MATCHED
        txn.customer = customer
        txn.reason = ""
    else:
        raise ValidationError({"bills": [_("Give the bills or the customer.")]})
    txn.decided_by = actor if getattr(actor, "pk", None) else None
    txn.decided_at = timezone.now()
    txn.save()
    _remember_payer(txn, customer, actor)
    return txn


@transaction.atomic
def transaction_ignore(*, txn: BankTransaction, reason: str, actor=None) -> BankTransaction:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": [_("Say why the transaction is ignored.")]})
    txn = BankTransaction.objects.select_for_update().get(pk=txn.pk)
    if txn.status == BankTransaction.Status.MATCHED:
        raise Conflict(_("This transaction is already matched; it cannot be ignored."))
    txn.status = BankTransaction.Status.IGNORED
    txn.reason = reason[:500]
    txn.decided_by = actor if getattr(actor, "pk", None) else None
    txn.decided_at = timezone.now()
    txn.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    return txn


def matched_total() -> Decimal:
    """Σ of the credits matched (the amounts the payment service booked for them)."""
    from django.db.models import Sum

    total = BankTransaction.objects.filter(status=BankTransaction.Status.MATCHED).aggregate(s=Sum("amount"))["s"]
    return total or Decimal(0)
