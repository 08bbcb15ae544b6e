"""Properties: any sequence of imports (overlapping or repeated) and manual matches leaves
Σ payments booked for transfers = Σ matched credits, every bill's amount paid = Σ of what
its payments applied, no transaction stored twice, and a transfer matched by itself never
pays a bill of a customer other than the payer's. Plus the normalisation of bill numbers."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banking.matching import text_key
from banking.models import BankTransaction
from banking.services import statement_import, transaction_match
from billing.models import Bill, Payment
from common.errors import DomainError
from customers.models import Customer
from tests.banking.conftest import COLUMNS, csv_bytes
from tests.billing.close_helpers import travel

PAYERS = [
    ("上海阿克米信息技术有限公司", "6225 8802 1234 5678"),
    ("别家公司", "3100 1234 5678 900"),
    ("未知公司", "9999 0000 1111"),
    ("上海阿克米信息技术有限公司", ""),
]
MEMOS = [
    "",
    "BILL-ACME-202610",
    "bill acme 202611",
    "ＢＩＬＬ－ＯＴＨＥＲ－２０２６１１",
    "服务费 BILL-ACME-202611 BILL-ACME-202610",
]
AMOUNTS = st.one_of(
    st.sampled_from([Decimal("5300.00"), Decimal("10600.00"), Decimal("2120.00")]),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("20000"), places=2),
)
TRANSFER = st.tuples(AMOUNTS, st.sampled_from(MEMOS), st.integers(0, len(PAYERS) - 1), st.booleans())
ACTION = st.one_of(
    st.none(),
    st.tuples(st.just("bills"), st.sampled_from([["BILL-ACME-202610"], ["BILL-ACME-202611", "BILL-ACME-202610"]])),
    st.tuples(st.just("bills"), st.just(["BILL-OTHER-202611"])),
    st.tuples(st.just("customer"), st.sampled_from(["ACME", "OTHER"])),
)


def _rows(transfers, offset: int = 0) -> list[list[str]]:
    rows = []
    for i, (amount, memo, payer, with_reference) in enumerate(transfers):
        name, account = PAYERS[payer]
        reference = f"P-{offset + i}" if with_reference else ""
        rows.append(["2026-12-19", f"{amount:.2f}", "", name, account, memo, reference])
    return rows


def _import(rows) -> None:
    with travel(2026, 12, 20):
        statement_import(file_name="p.csv", content=csv_bytes(rows), format="csv", columns=COLUMNS)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.lists(TRANSFER, min_size=1, max_size=5),
    second=st.lists(TRANSFER, max_size=4),
    overlap=st.integers(0, 5),
    actions=st.lists(ACTION, max_size=6),
)
def test_payments_always_equal_the_matched_credits(ledger, first, second, overlap, actions):
    with transaction.atomic():
        rows = _rows(first)
        _import(rows)
        _import(rows[: min(overlap, len(rows))] + _rows(second, offset=100))  # an overlapping statement
        _import(rows)  # and the first again
        unmatched = list(BankTransaction.objects.filter(status="unmatched").order_by("pk"))
        for txn, action in zip(unmatched, actions, strict=False):
            if action is None:
                continue
            kind, target = action
            try:
                with travel(2026, 12, 20), transaction.atomic():
                    if kind == "bills":
                        transaction_match(txn=txn, bills=[Bill.objects.get(number=n) for n in target])
                    else:
                        transaction_match(txn=txn, customer=Customer.objects.get(code=target))
            except (ValidationError, DomainError):
                pass  # refused (a bill already paid, a transfer used up): nothing booked

        matched = BankTransaction.objects.filter(status="matched")
        booked = Payment.objects.filter(pk__in=matched.values("payments")).aggregate(s=Sum("amount"))["s"] or 0
        assert booked == (matched.aggregate(s=Sum("amount"))["s"] or 0)
        # Every payment belongs to a transfer: the statements booked nothing else, nothing twice.
        assert (Payment.objects.aggregate(s=Sum("amount"))["s"] or 0) == booked
        for bill in Bill.objects.exclude(number=None):
            applied = bill.payments.aggregate(s=Sum("applied"))["s"] or Decimal(0)
            assert bill.amount_paid.amount == applied
            assert bill.amount_paid.amount <= bill.total.amount
        keys = list(BankTransaction.objects.values_list("dedupe_key", flat=True))
        assert len(keys) == len(set(keys))
        acme_account, other_account = PAYERS[0][1], PAYERS[1][1]
        for txn in matched.filter(decided_by=None, decided_at=None).prefetch_related("payments__customer"):
            customers = {p.customer.code for p in txn.payments.all()}
            if txn.payer_account == acme_account:
                assert customers == {"ACME"}
            if txn.payer_account == other_account:
                assert customers == {"OTHER"}
        transaction.set_rollback(True)


NUMBER = st.from_regex(r"BILL-[A-Z0-9]{2,8}-20[0-9]{4}(-R[1-9])?", fullmatch=True)


@given(number=NUMBER, noise=st.sampled_from(["", " ", "-", "　", "－"]), upper=st.booleans())
def test_a_bill_number_survives_case_width_spaces_and_hyphens(number, noise, upper):
    written = number.replace("-", noise) if noise else number
    written = written if upper else written.lower()
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in written)
    for form in (written, full_width, f"货款{written}服务费"):
        assert text_key(number) in text_key(form)
    assert text_key(number) not in text_key(number.replace("20", "21", 1))  # another period is another bill
