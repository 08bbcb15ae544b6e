"""Money rule 11 (docs/money-rules.md) under random histories, and the arithmetic of splitting and allocating VAT
(fapiao.md: per line |税额 − 金额 × 税率| ≤ 0.06, per invoice Σ errors ≤ 1.27)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.errors import Conflict
from invoices.models import Invoice
from invoices.services import (
    allocate_largest_remainder,
    bill_invoiceable,
    invoice_issue,
    invoice_red_letter,
    split_amounts,
)
from tests.invoices.helpers import commitment_bill, seller_profile

CENT = Decimal("0.01")
RATES = st.sampled_from([Decimal("0.06"), Decimal("0.03"), Decimal("0.01"), Decimal("0.13")])


def fen(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(low: str, high: str):
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=2)


@given(amount=money("0.01", "99999999.99"), limit=money("0.01", "10000000.00"), rate=RATES)
@settings(max_examples=300, deadline=None)
def test_it_splits_by_the_amount_limit_into_pieces_that_sum_exactly(amount, limit, rate):
    vat = fen(amount * rate)
    if amount / limit > 2000:
        limit = fen(amount / 2000) + CENT  # keep the number of pieces sane

    pieces = split_amounts(amount, vat, limit)

    assert sum(a for a, _ in pieces) == amount
    assert sum(v for _, v in pieces) == vat
    assert all(Decimal(0) < a <= limit for a, _ in pieces)
    assert all(v >= 0 for _, v in pieces)
    # Each piece is an invoice the platform accepts.
    assert all(abs(v - a * rate) <= Decimal("0.06") for a, v in pieces)


@given(
    weights=st.lists(money("0.00", "1000000.00"), min_size=1, max_size=30).filter(lambda ws: sum(ws) > 0),
    rate=RATES,
)
@settings(max_examples=300, deadline=None)
def test_it_allocates_the_bill_vat_across_lines_within_the_platform_tolerances(weights, rate):
    subtotal = sum(weights)
    vat = fen(subtotal * rate)

    taxes = allocate_largest_remainder(vat, weights)

    assert sum(taxes) == vat
    assert all(t >= 0 and t == fen(t) for t in taxes)
    errors = [abs(t - w * rate) for t, w in zip(taxes, weights, strict=True)]
    assert max(errors) <= Decimal("0.06")
    assert sum(errors) <= Decimal("1.27")


def test_it_keeps_the_last_piece_within_the_tolerance_with_a_9999_99_limit():
    # 万元版-style limit: every piece's VAT 599.9994 rounds up to 600.00; rounding each piece
    # and leaving the rest to the last one gave the last piece (2.00, 0.00), 0.12 off.
    pieces = split_amounts(Decimal("2000000.00"), Decimal("120000.00"), Decimal("9999.99"))

    assert len(pieces) == 201
    assert pieces[-1] == (Decimal("2.00"), Decimal("0.12"))
    assert sorted({v for _, v in pieces[:-1]}) == [Decimal("599.99"), Decimal("600.00")]
    assert sum(v for _, v in pieces) == Decimal("120000.00")


STEP = st.one_of(
    st.tuples(st.just("issue"), st.just(0), st.just(0), st.just(Decimal(0))),
    st.tuples(
        st.just("partial"),
        st.sampled_from([1, 4]),
        st.integers(0, 50),
        st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1.2"), places=3),
    ),
    st.tuples(st.just("full"), st.sampled_from([1, 2, 3, 4]), st.integers(0, 50), st.just(Decimal(0))),
)


def check_invariants(bill, originals: dict[int, tuple]) -> None:
    invoices = list(Invoice.objects.filter(bill=bill))
    amount = sum((i.amount.amount for i in invoices), Decimal(0))
    vat = sum((i.vat.amount for i in invoices), Decimal(0))
    total = sum((i.total.amount for i in invoices), Decimal(0))
    # Money rule 11: never more than the bill, at any time; and never below zero.
    assert Decimal(0) <= amount <= bill.subtotal.amount
    assert Decimal(0) <= vat <= bill.vat.amount
    assert Decimal(0) <= total <= bill.total.amount
    assert bill_invoiceable(bill).amount == bill.subtotal.amount - amount
    assert bill_invoiceable(bill).vat == bill.vat.amount - vat
    for invoice in invoices:
        assert invoice.total.amount == invoice.amount.amount + invoice.vat.amount
        if invoice.color == Invoice.Color.RED:
            assert invoice.amount.amount <= 0 and invoice.vat.amount <= 0
            continue
        # The blue invoice never changes; its status follows what its red invoices took back.
        assert (invoice.number, invoice.amount.amount, invoice.vat.amount) == originals[invoice.pk]
        reds = [r for r in invoices if r.original_id == invoice.pk]
        taken = -sum((r.total.amount for r in reds), Decimal(0))
        taken_amount = -sum((r.amount.amount for r in reds), Decimal(0))
        taken_vat = -sum((r.vat.amount for r in reds), Decimal(0))
        assert 0 <= taken_amount <= invoice.amount.amount and 0 <= taken_vat <= invoice.vat.amount
        expected = (
            Invoice.Status.ISSUED
            if not reds
            else Invoice.Status.REVERSED
            if taken == invoice.total.amount
            else Invoice.Status.PARTIALLY_REVERSED
        )
        assert invoice.status == expected


@pytest.mark.django_db
@given(bill_amount=money("0.01", "50000.00"), steps=st.lists(STEP, min_size=1, max_size=8))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_it_never_invoices_more_than_the_bill_whatever_is_issued_and_reversed(acme, bill_amount, steps):
    with transaction.atomic():
        seller_profile()
        bill = commitment_bill(acme, bill_amount)
        originals: dict[int, tuple] = {}
        for action, reason, index, fraction in steps:
            standing = list(
                Invoice.objects.filter(
                    bill=bill,
                    color=Invoice.Color.BLUE,
                    status__in=(Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_REVERSED),
                ).order_by("pk")
            )
            if action == "issue":
                left = bill_invoiceable(bill)
                if left.amount + left.vat <= 0:
                    with pytest.raises(Conflict):
                        invoice_issue(bill=bill)
                else:
                    new = invoice_issue(bill=bill)
                    # Invoiceable again for exactly what was reversed, no more.
                    assert sum(i.amount.amount for i in new) == left.amount
                    assert sum(i.vat.amount for i in new) == left.vat
                    originals.update({i.pk: (i.number, i.amount.amount, i.vat.amount) for i in new})
            elif standing:
                blue = standing[index % len(standing)]
                reds = Invoice.objects.filter(original=blue)
                left_amount = blue.amount.amount + sum((r.amount.amount for r in reds), Decimal(0))
                left_vat = blue.vat.amount + sum((r.vat.amount for r in reds), Decimal(0))
                if action == "full":
                    red = invoice_red_letter(blue=blue, reason=reason)
                    assert (red.amount.amount, red.vat.amount) == (-left_amount, -left_vat)
                else:
                    amount = max(fen(blue.amount.amount * fraction), CENT)
                    if amount > left_amount:
                        with pytest.raises(Conflict):
                            invoice_red_letter(blue=blue, reason=reason, amount=amount)
                    else:
                        red = invoice_red_letter(blue=blue, reason=reason, amount=amount)
                        expected_vat = left_vat if amount == left_amount else min(fen(amount * blue.vat_rate), left_vat)
                        assert (red.amount.amount, red.vat.amount) == (-amount, -expected_vat)
            check_invariants(bill, originals)
        transaction.set_rollback(True)
