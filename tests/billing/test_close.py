"""Month close: money rules 4–10 (docs/money-rules.md) with amounts worked out by hand, holds, idempotence,
immutability, void and reissue, the close_month command, and property tests on rounding.

Prices used (per 1M tokens): openai/gpt-4o 2.5 input, 1.25 cached, 10 output USD;
anthropic/claude-sonnet-4 3 input, 0.30 cached, 15 output USD.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from billing.bills.close import customers_to_close, month_close_customer
from billing.bills.lifecycle import bill_reissue, bill_void, payment_record
from billing.metering.partitions import ensure_partitions, forget_known
from billing.metering.reprice import usage_reprice
from billing.models import Bill, BillEvent, BillLine, ClosedPeriod, CreditEntry, ExchangeRate, Payment, UsageRollup
from common.errors import Conflict
from tests.billing.close_helpers import (
    DEC,
    JAN,
    NOV,
    claude_price,
    close,
    customer_with_contract,
    ingest,
    key_for,
    lines_of,
    only,
    price,
    project_of,
    rate,
    record,
    set_terms,
    shanghai,
    travel,
)
from tests.factories import ContractFactory

CENT = Decimal("0.01")


def exact_line_amount(costs: list[Decimal], discount: Decimal, rate_value: Decimal) -> Decimal:
    """Money rule 5 computed without any intermediate rounding."""
    with localcontext(prec=200):
        return (sum(costs, Decimal(0)) * (1 - discount / 100) * rate_value).quantize(CENT, rounding=ROUND_HALF_UP)


@pytest.fixture
def acme_usage(acme):
    """ACME (discount 8 %, USD 2026-11 at 7.1456) with November usage on two projects.

    chatbot/gpt-4o:  (800,000 × 2.5 + 200,000 × 1.25 + 300,000 × 10) / 1M = 5.25
                   + (123,457 × 2.5 + 45,679 × 10) / 1M              = 0.7654325  → Σ 6.0154325 USD
    chatbot/claude:  (333,333 × 3 + 33,333 × 15) / 1M                = 1.499994 USD
    search/claude:   (1,500,000 × 3 + 500,000 × 0.3 + 100,000 × 15) / 1M = 6.15 USD
    """
    set_terms(acme, discount_percent=Decimal("8"))
    price()
    claude_price()
    rate(NOV, "7.1456")
    chatbot = key_for(acme, "chatbot")
    search = key_for(acme, "search")
    ingest(
        record(chatbot, input=1_000_000, cached=200_000, output=300_000, at=shanghai(2026, 11, 1, 0, 0)),
        record(chatbot, input=123_457, output=45_679, at=shanghai(2026, 11, 30, 23, 59)),
        record(chatbot, model="claude-sonnet-4", input=333_333, output=33_333),
        record(search, model="claude-sonnet-4", input=2_000_000, cached=500_000, output=100_000),
        now=shanghai(2026, 12, 1, 0, 30),
    )
    return acme


# 6.0154325 × 0.92 × 7.1456 = 39.54516451424 → 39.55
GPT_CHATBOT = Decimal("39.55")
# 1.499994 × 0.92 × 7.1456 = 9.860888556288 → 9.86
CLAUDE_CHATBOT = Decimal("9.86")
# 6.15 × 0.92 × 7.1456 = 40.4298048 → 40.43
CLAUDE_SEARCH = Decimal("40.43")


# --- Money rules 4, 5, 8, 9 -----------------------------------------------------------


def test_it_bills_each_project_and_model_with_the_discount_and_the_monthly_rate(acme_usage):
    # 01:00 on 1 December in Shanghai is still 30 November in UTC: the issue date is Shanghai's.
    with travel(2026, 12, 1, 1):
        bill = only(close(acme_usage))

    assert bill.status == Bill.Status.ISSUED
    assert bill.number == "BILL-ACME-202611"
    assert bill.project is None
    assert lines_of(bill) == [
        ("usage", NOV, "chatbot", "claude-sonnet-4", 1, CLAUDE_CHATBOT),
        ("usage", NOV, "chatbot", "gpt-4o", 2, GPT_CHATBOT),
        ("usage", NOV, "search", "claude-sonnet-4", 1, CLAUDE_SEARCH),
    ]
    gpt = bill.lines.get(model="gpt-4o")
    assert (gpt.input_tokens, gpt.cached_input_tokens, gpt.output_tokens) == (1_123_457, 200_000, 345_679)
    assert gpt.costs == {"USD": "6.0154325000000000"}
    assert gpt.discount_percent == Decimal("8.00")
    assert bill.exchange_rate == Decimal("7.145600")
    # 39.55 + 9.86 + 40.43 = 89.84; VAT 89.84 × 0.06 = 5.3904 → 5.39
    assert bill.subtotal.amount == Decimal("89.84")
    assert bill.vat_rate == Decimal("0.0600")
    assert bill.vat.amount == Decimal("5.39")
    assert bill.total.amount == Decimal("95.23")
    assert bill.subtotal.amount == sum(line.amount.amount for line in bill.lines.all())
    assert bill.issued_on == date(2026, 12, 1)
    assert bill.due_on == date(2026, 12, 31)
    assert ClosedPeriod.objects.filter(customer=acme_usage, period=NOV).exists()
    assert list(bill.events.values_list("kind", flat=True)) == ["issued"]


def test_it_sets_the_due_date_from_the_payment_terms(acme_usage):
    set_terms(acme_usage, payment_terms_days=45)
    with travel(2026, 12, 2, 9):
        bill = only(close(acme_usage))

    assert bill.issued_on == date(2026, 12, 2)
    assert bill.due_on == date(2027, 1, 16)


def test_it_prefers_the_contract_fixed_exchange_rate_over_the_monthly_rate(acme_usage):
    set_terms(acme_usage, fixed_exchange_rate=Decimal("7.000000"))
    with travel(2026, 12, 1):
        bill = only(close(acme_usage))

    # 6.0154325 × 0.92 × 7 = 38.7393853 → 38.74
    assert bill.lines.get(model="gpt-4o").amount.amount == Decimal("38.74")
    assert bill.lines.get(model="gpt-4o").exchange_rates == {"USD": "7.000000"}
    assert bill.exchange_rate == Decimal("7.000000")
    # The monthly rate was not used, so it stays editable.
    assert ExchangeRate.objects.get(currency="USD", period=NOV).locked_at is None


def test_it_uses_rate_one_for_cny_price_versions_and_rounds_half_up(db):
    customer = customer_with_contract("YUAN", price_currency="CNY")
    price("qwen-max", provider="aliyun", input="10", cached=None, output="20", currency="CNY")
    key = key_for(customer)
    # 74,500 × 10 / 1M = 0.745 CNY: half up gives 0.75 (half even would give 0.74); no rate is entered.
    ingest(record(key, model="qwen-max", input=74_500), now=shanghai(2026, 11, 20))
    with travel(2026, 12, 1):
        bill = only(close(customer))

    assert bill.status == Bill.Status.ISSUED
    assert lines_of(bill) == [("usage", NOV, "chatbot", "qwen-max", 1, Decimal("0.75"))]
    assert bill.lines.get().exchange_rates == {"CNY": "1"}
    assert bill.exchange_rate is None
    # VAT 0.75 × 0.06 = 0.045 → 0.05 half up (half even: 0.04); total = subtotal + VAT.
    assert (bill.subtotal.amount, bill.vat.amount, bill.total.amount) == (
        Decimal("0.75"),
        Decimal("0.05"),
        Decimal("0.80"),
    )


# --- Money rule 10: nothing to bill ---------------------------------------------------


def test_it_issues_no_bill_for_a_period_without_usage_or_commitment(acme):
    key = key_for(acme)
    price()
    rate(NOV, "7.1456")
    ingest(record(key, at=shanghai(2026, 10, 31, 23, 59)), now=shanghai(2026, 11, 2))
    rate(date(2026, 10, 1), "7.1")
    with travel(2026, 11, 2):
        october = only(close(acme, date(2026, 10, 1)))
    with travel(2026, 12, 1):
        assert close(acme) == []

    assert list(Bill.objects.all()) == [october]
    assert not ClosedPeriod.objects.filter(period=NOV).exists()


# --- Money rule 7: minimum commitment ------------------------------------------------


def test_it_tops_up_to_the_minimum_commitment(acme):
    set_terms(acme, discount_percent=Decimal("8"), minimum_monthly_commitment=Decimal("5000.00"))
    price()
    rate(NOV, "7.1456")
    key = key_for(acme)
    ingest(
        record(key, input=1_000_000, cached=200_000, output=300_000),
        record(key, input=123_457, output=45_679),
        now=shanghai(2026, 11, 30),
    )
    with travel(2026, 12, 1):
        bill = only(close(acme))

    assert lines_of(bill) == [
        ("usage", NOV, "chatbot", "gpt-4o", 2, GPT_CHATBOT),
        ("minimum_commitment", NOV, None, "", 0, Decimal("4960.45")),  # 5000.00 − 39.55
    ]
    assert (bill.subtotal.amount, bill.vat.amount, bill.total.amount) == (
        Decimal("5000.00"),
        Decimal("300.00"),
        Decimal("5300.00"),
    )


def test_it_bills_the_commitment_alone_when_there_is_no_usage(acme):
    set_terms(acme, minimum_monthly_commitment=Decimal("1234.56"))
    with travel(2026, 12, 1):
        bill = only(close(acme))

    assert bill.number == "BILL-ACME-202611"
    assert lines_of(bill) == [("minimum_commitment", NOV, None, "", 0, Decimal("1234.56"))]
    # 1234.56 × 0.06 = 74.0736 → 74.07
    assert (bill.vat.amount, bill.total.amount) == (Decimal("74.07"), Decimal("1308.63"))


def test_it_adds_no_top_up_when_usage_reaches_the_commitment(acme_usage):
    set_terms(acme_usage, minimum_monthly_commitment=Decimal("89.84"))
    with travel(2026, 12, 1):
        bill = only(close(acme_usage))

    assert not bill.lines.filter(kind=BillLine.Kind.MINIMUM_COMMITMENT).exists()
    assert bill.subtotal.amount == Decimal("89.84")


def test_it_bills_per_project_with_the_top_up_on_its_own_bill(acme_usage):
    set_terms(acme_usage, bill_per_project=True, minimum_monthly_commitment=Decimal("100.00"))
    with travel(2026, 12, 1):
        outcomes = close(acme_usage)

    bills = {o.bill.number: o.bill for o in outcomes}
    assert sorted(bills) == ["BILL-ACME-202611", "BILL-ACME-202611-CHATBOT", "BILL-ACME-202611-SEARCH"]
    chatbot, search, top_up = (
        bills["BILL-ACME-202611-CHATBOT"],
        bills["BILL-ACME-202611-SEARCH"],
        bills["BILL-ACME-202611"],
    )
    assert chatbot.project == project_of(acme_usage, "chatbot")
    assert search.project == project_of(acme_usage, "search")
    assert top_up.project is None
    assert [line[3] for line in lines_of(chatbot)] == ["claude-sonnet-4", "gpt-4o"]
    # 9.86 + 39.55 = 49.41; VAT 2.9646 → 2.96
    assert (chatbot.subtotal.amount, chatbot.vat.amount, chatbot.total.amount) == (
        Decimal("49.41"),
        Decimal("2.96"),
        Decimal("52.37"),
    )
    # 40.43; VAT 2.4258 → 2.43
    assert (search.subtotal.amount, search.vat.amount, search.total.amount) == (
        Decimal("40.43"),
        Decimal("2.43"),
        Decimal("42.86"),
    )
    # customer-wide: 100.00 − (49.41 + 40.43) = 10.16; VAT 0.6096 → 0.61
    assert lines_of(top_up) == [("minimum_commitment", NOV, None, "", 0, Decimal("10.16"))]
    assert (top_up.vat.amount, top_up.total.amount) == (Decimal("0.61"), Decimal("10.77"))


# --- Money rule 6: late usage ---------------------------------------------------------


def test_it_puts_late_usage_on_the_next_bill_at_the_terms_of_its_own_period(acme):
    contract = set_terms(acme, discount_percent=Decimal("8"), ends_on=date(2026, 11, 30))
    ContractFactory(customer=acme, number="HT-ACME-2", starts_on=date(2026, 12, 1), discount_percent=Decimal("10"))
    price()
    claude_price()
    rate(NOV, "7.1456")
    rate(DEC, "7.2")
    key = key_for(acme)
    ingest(record(key, input=1_000_000, at=shanghai(2026, 11, 10)), now=shanghai(2026, 11, 30))
    with travel(2026, 12, 1):
        november = only(close(acme))
    assert november.lines.count() == 1
    november_total = november.total.amount

    # Arriving on 2 December: two records of 30 November (Shanghai) and one of December.
    late = ingest(
        record(key, input=1_000_000, at=shanghai(2026, 11, 30, 23, 59)),
        record(key, model="claude-sonnet-4", input=10, at=shanghai(2026, 11, 30, 12)),
        record(key, input=1_000_000, at=shanghai(2026, 12, 1, 0, 10)),
        now=shanghai(2026, 12, 2),
    )
    assert late.accepted == 3
    assert set(
        UsageRollup.objects.filter(period=NOV, day__gte=date(2026, 11, 30)).values_list("bill_period", flat=True)
    ) == {DEC}

    with travel(2026, 12, 3):  # the November bill never changes
        assert close(acme)[0].action == "unchanged"
    november.refresh_from_db()
    assert november.total.amount == november_total
    assert november.lines.count() == 1

    with travel(2027, 1, 1):
        december = only(close(acme, DEC))
    assert december.number == "BILL-ACME-202612"
    assert december.contract != contract
    assert lines_of(december) == [
        # 2.5 × 0.90 × 7.2 = 16.2
        ("usage", DEC, "chatbot", "gpt-4o", 1, Decimal("16.20")),
        # 10 × 3 / 1M = 0.00003 USD × 0.92 × 7.1456 = 0.000197… → 0.00, kept
        ("adjustment", NOV, "chatbot", "claude-sonnet-4", 1, Decimal("0.00")),
        # 2.5 × 0.92 × 7.1456 = 16.43488 → 16.43 (November's discount and rate)
        ("adjustment", NOV, "chatbot", "gpt-4o", 1, Decimal("16.43")),
    ]
    adjustment = december.lines.get(kind=BillLine.Kind.ADJUSTMENT, model="gpt-4o")
    assert adjustment.discount_percent == Decimal("8.00")
    assert adjustment.exchange_rates == {"USD": "7.145600"}
    assert december.exchange_rate == Decimal("7.200000")
    # 32.63; VAT 1.9578 → 1.96
    assert (december.subtotal.amount, december.vat.amount, december.total.amount) == (
        Decimal("32.63"),
        Decimal("1.96"),
        Decimal("34.59"),
    )


def test_it_bills_late_usage_of_a_month_in_which_the_customer_had_nothing_to_bill(acme):
    price()
    rate(NOV, "7.1456")
    rate(DEC, "7.2")
    key = key_for(acme)
    with travel(2026, 12, 1):
        assert close(acme) == []  # nothing to bill for November, so nothing is closed
    late = ingest(record(key, input=1_000_000, at=shanghai(2026, 11, 20)), now=shanghai(2026, 12, 2))
    assert late.accepted == 1
    assert customers_to_close(DEC) == [acme.pk]

    with travel(2027, 1, 1):
        december = only(close(acme, DEC))
    # 2.5 USD × 7.1456 (November's rate) = 17.864 → 17.86
    assert lines_of(december) == [("adjustment", NOV, "chatbot", "gpt-4o", 1, Decimal("17.86"))]
    assert set(ClosedPeriod.objects.filter(customer=acme).values_list("period", flat=True)) == {DEC}
    assert set(UsageRollup.objects.filter(customer=acme).values_list("bill_period", flat=True)) == {DEC}
    with travel(2027, 2, 1):  # swept once: January's close finds nothing left
        assert close(acme, JAN) == []
        bill_void(bill=december, reason="test")
        (reissued,) = bill_reissue(bill=december)
    assert reissued.bill.number == "BILL-ACME-202612-R1"
    assert lines_of(reissued.bill) == lines_of(december)


# --- Money rule 4: holds --------------------------------------------------------------


def test_it_holds_unpriced_usage_in_draft_until_it_is_repriced(acme):
    set_terms(acme, discount_percent=Decimal("8"))
    gpt = price()
    rate(NOV, "7.1456")
    key = key_for(acme)
    result = ingest(
        record(key, input=1_000_000),
        record(key, model="mystery-1", input=1_000_000, output=500_000),
        now=shanghai(2026, 11, 30),
    )
    assert result.unpriced == 1

    with travel(2026, 12, 1):
        outcome = close(acme)[0]
    draft = outcome.bill
    assert outcome.action == "held"
    assert draft.status == Bill.Status.DRAFT
    assert draft.number is None
    assert "mystery-1" in draft.hold_reason
    assert "HELD" in outcome.line() and "mystery-1" in outcome.line()
    assert not ClosedPeriod.objects.filter(customer=acme, period=NOV).exists()
    gpt.refresh_from_db()
    assert gpt.locked_at is None  # nothing issued yet

    price("mystery-1", provider="acme-ai", input="1", cached=None, output="2")
    assert usage_reprice(period=NOV) == {"repriced": 1, "unpriced": 0}
    with travel(2026, 12, 2):
        bill = only(close(acme))

    assert bill.pk == draft.pk
    assert bill.status == Bill.Status.ISSUED
    assert bill.hold_reason == ""
    assert bill.number == "BILL-ACME-202611"
    assert bill.issued_on == date(2026, 12, 2)
    assert lines_of(bill) == [
        # (1,000,000 × 1 + 500,000 × 2) / 1M = 2 USD × 0.92 × 7.1456 = 13.147904
        ("usage", NOV, "chatbot", "mystery-1", 1, Decimal("13.15")),
        # 2.5 × 0.92 × 7.1456 = 16.43488
        ("usage", NOV, "chatbot", "gpt-4o", 1, Decimal("16.43")),
    ]
    assert bill.lines.get(model="mystery-1").provider == "acme-ai"
    assert list(bill.events.values_list("kind", flat=True)) == ["held", "issued"]
    gpt.refresh_from_db()
    assert gpt.locked_at is not None


def test_it_holds_a_bill_without_the_exchange_rate_of_its_period(acme):
    price()
    rate(date(2026, 10, 1), "7.1")  # the rate of another period does not serve a close
    key = key_for(acme)
    ingest(record(key, input=1_000_000), now=shanghai(2026, 11, 30))

    with travel(2026, 12, 1):
        draft = only(close(acme))
    assert draft.status == Bill.Status.DRAFT
    assert "USD" in draft.hold_reason
    assert "2026-11" in draft.hold_reason
    assert draft.number is None

    rate(NOV, "7.2")
    with travel(2026, 12, 1, 9):
        bill = only(close(acme))
    assert bill.pk == draft.pk
    assert bill.status == Bill.Status.ISSUED
    # 2.5 × 7.2 = 18
    assert lines_of(bill) == [("usage", NOV, "chatbot", "gpt-4o", 1, Decimal("18.00"))]
    assert ExchangeRate.objects.get(period=NOV).locked_at is not None
    assert ExchangeRate.objects.get(period=date(2026, 10, 1)).locked_at is None


# --- Idempotence and immutability -----------------------------------------------------


def _snapshot(bill: Bill) -> tuple:
    bill.refresh_from_db()
    return (
        bill.pk,
        bill.number,
        bill.status,
        bill.subtotal.amount,
        bill.vat.amount,
        bill.total.amount,
        bill.issued_on,
        bill.due_on,
        lines_of(bill),
    )


def test_it_changes_nothing_when_closed_twice(acme_usage):
    with travel(2026, 12, 1):
        first = only(close(acme_usage))
    before = _snapshot(first)

    with travel(2026, 12, 5):
        again = close(acme_usage)

    assert len(again) == 1
    assert again[0].action == "unchanged"
    assert "unchanged" in again[0].line()
    assert _snapshot(again[0].bill) == before
    assert Bill.objects.count() == 1
    assert BillEvent.objects.filter(kind="issued").count() == 1


def test_it_never_changes_an_issued_bill_when_prices_or_rates_move(acme_usage, finance_client):
    with travel(2026, 12, 1):
        bill = only(close(acme_usage))
    before = _snapshot(bill)

    # The rate and the price versions used are locked …
    response = finance_client.post(
        "/api/v1/exchange-rates/", {"currency": "USD", "period": "2026-11", "rate": "7.3"}, format="json"
    )
    assert response.status_code == 409
    assert ExchangeRate.objects.get(period=NOV).rate == Decimal("7.145600")
    response = finance_client.post(
        "/api/v1/prices/",
        {
            "provider": "openai",
            "model": "gpt-4o",
            "effective_from": "2026-01-01",
            "currency": "USD",
            "input_per_mtok": "1",
            "output_per_mtok": "1",
        },
        format="json",
    )
    assert response.status_code == 409
    # … a new version is fine, and closing again still changes nothing.
    price(input="1", cached=None, output="1", effective_from=date(2026, 11, 20))
    with travel(2026, 12, 2):
        assert close(acme_usage)[0].action == "unchanged"
    assert _snapshot(bill) == before


# --- Void and reissue -----------------------------------------------------------------


def test_it_voids_and_reissues_with_a_revision_number(acme_usage, finance_user):
    with travel(2026, 12, 1):
        original = only(close(acme_usage))
    with pytest.raises(ValidationError) as excinfo:
        bill_void(bill=original, reason="  ", actor=finance_user)
    assert "reason" in excinfo.value.message_dict

    with travel(2026, 12, 3):
        voided = bill_void(bill=original, reason="wrong project mapping", actor=finance_user)
        assert voided.status == Bill.Status.VOID
        with pytest.raises(Conflict):
            bill_void(bill=voided, reason="again", actor=finance_user)
        reissued = only(bill_reissue(bill=voided, actor=finance_user))

    assert reissued.number == "BILL-ACME-202611-R1"
    assert reissued.replaces == original
    assert reissued.revision == 1
    assert reissued.status == Bill.Status.ISSUED
    assert reissued.issued_on == date(2026, 12, 3)
    assert reissued.total.amount == Decimal("95.23")
    assert lines_of(reissued) == lines_of(original)
    event = original.events.get(kind="void")
    assert (event.actor, event.data["reason"]) == (finance_user, "wrong project mapping")

    with travel(2026, 12, 4):
        voided_again = bill_void(bill=reissued, reason="again wrong", actor=finance_user)
        second = only(bill_reissue(bill=voided_again, actor=finance_user))
    assert second.number == "BILL-ACME-202611-R2"
    assert second.replaces == reissued


def test_it_moves_money_paid_on_a_voided_bill_to_credit_for_the_reissue(acme_usage, finance_user):
    with travel(2026, 12, 1):
        original = only(close(acme_usage))
    with travel(2026, 12, 2):
        payment_record(bill=original, amount=Decimal("50.00"), received_on=date(2026, 12, 2), reference="B-1")
        voided = bill_void(bill=original, reason="discount was wrong", actor=finance_user)

    credit = CreditEntry.objects.get(bill=original)
    assert credit.amount.amount == Decimal("50.00")

    with travel(2026, 12, 2):
        reissued = only(bill_reissue(bill=voided, actor=finance_user))
    used = Payment.objects.get(bill=reissued)
    assert used.method == Payment.Method.CREDIT
    assert used.amount.amount == Decimal("50.00")
    assert reissued.amount_paid.amount == Decimal("50.00")
    assert reissued.status == Bill.Status.PARTIALLY_PAID
    assert reissued.balance.amount == Decimal("45.23")
    assert sum(e.amount.amount for e in CreditEntry.objects.filter(customer=acme_usage)) == Decimal("0.00")


def test_it_refuses_to_reissue_a_bill_that_is_not_void(acme_usage):
    with travel(2026, 12, 1):
        bill = only(close(acme_usage))
        with pytest.raises(Conflict):
            bill_reissue(bill=bill)


# --- close_month ----------------------------------------------------------------------


def run_close_month(*args: str) -> tuple[int, list[str]]:
    out = StringIO()
    try:
        call_command("close_month", *args, stdout=out)
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return code, out.getvalue().splitlines()


def test_it_refuses_to_close_a_period_that_has_not_ended(acme_usage):
    # 23:30 on 30 November in Shanghai: November has not ended there (it has in no zone west of it).
    with travel(2026, 11, 30, 23, 30):
        assert run_close_month("2026-11")[0] == 2
        assert run_close_month("2026-11", "--customer", "ACME")[0] == 2
        assert run_close_month("2026-12", "--customer", "ACME")[0] == 2
        assert run_close_month("not-a-month")[0] == 2
    assert not Bill.objects.exists()

    with travel(2026, 12, 1, 0, 5):
        code, lines = run_close_month()  # default: the previous month
    assert code == 0
    assert len(lines) == 1
    assert lines[0].startswith("BILL-ACME-202611\tACME\t2026-11\tissued\t95.23 CNY")


def test_it_prints_one_line_per_bill_and_says_unchanged_the_second_time(acme_usage):
    other = customer_with_contract("BETA")
    ingest(record(key_for(other, "main"), input=1_000_000), now=shanghai(2026, 11, 30))  # 2.5 × 7.1456 = 17.864
    with travel(2026, 12, 1):
        code, lines = run_close_month("2026-11")
        assert code == 0
        assert lines == [
            "BILL-ACME-202611\tACME\t2026-11\tissued\t95.23 CNY",
            # 17.86 + VAT 1.0716 → 1.07
            "BILL-BETA-202611\tBETA\t2026-11\tissued\t18.93 CNY",
        ]
        code, again = run_close_month("2026-11")
    assert code == 0
    assert len(again) == 2
    assert all(line.endswith("(already issued; unchanged)") for line in again)
    assert Bill.objects.count() == 2


def test_it_exits_3_with_the_reason_when_a_bill_is_held(acme_usage):
    other = customer_with_contract("BETA")
    ingest(record(key_for(other, "main"), model="mystery-2", input=10), now=shanghai(2026, 11, 30))
    with travel(2026, 12, 1):
        code, lines = run_close_month("2026-11")
        assert code == 3
        assert len(lines) == 2
        assert lines[0].startswith("BILL-ACME-202611\t")
        assert "\tdraft\t" in lines[1] and "HELD" in lines[1] and "mystery-2" in lines[1]

        code, lines = run_close_month("2026-11", "--customer", "ACME")
    assert code == 0
    assert len(lines) == 1


def test_it_reports_nothing_to_bill(acme):
    with travel(2026, 12, 1):
        code, lines = run_close_month("2026-11", "--customer", "acme")
    assert code == 0
    assert lines == ["2026-11: nothing to bill"]


# --- Property tests on rounding -------------------------------------------------------

# One record per cost: input tokens at 100 per 1M and output tokens at 0.00000001 per 1M
# give a cost of exactly (input × 10^10 + output) × 10^-14, any 14-decimal amount.
COST_UNIT = Decimal("1E-14")
costs_strategy = st.lists(
    st.integers(min_value=0, max_value=10**20 - 1).map(lambda n: n * COST_UNIT), min_size=1, max_size=3
)
discount_strategy = st.integers(min_value=0, max_value=10_000).map(lambda n: Decimal(n) / 100)
rate_strategy = st.integers(min_value=1, max_value=50_000_000).map(lambda n: Decimal(n) / 1_000_000)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    costs=costs_strategy,
    discount=discount_strategy,
    rate_value=rate_strategy,
    vat_rate=st.sampled_from(
        [Decimal("0"), Decimal("0.01"), Decimal("0.03"), Decimal("0.06"), Decimal("0.09"), Decimal("0.13")]
    ),
)
# A ¥63,314.79 line: rounding the product to 28 digits first gave 63,314.80.
@example(
    costs=[Decimal("8932.72520899989566")],
    discount=Decimal("1.07"),
    rate_value=Decimal("7.164621"),
    vat_rate=Decimal("0.06"),
)
def test_it_rounds_each_line_once_from_the_exact_product(costs, discount, rate_value, vat_rate):
    forget_known()
    ensure_partitions([NOV])
    with transaction.atomic():
        customer = customer_with_contract("PROP", discount_percent=discount, vat_rate=vat_rate)
        price("exact-model", provider="lab", input="100", cached=None, output="0.00000001")
        price("other-model", provider="lab", input="100", cached=None, output="0.00000001")
        rate(NOV, str(rate_value))
        key = key_for(customer)
        records = []
        for i, cost in enumerate(costs):
            units = int(cost / COST_UNIT)
            for model in ("exact-model", "other-model"):
                records.append(
                    record(
                        key,
                        model=model,
                        input=units // 10**10,
                        output=units % 10**10,
                        at=shanghai(2026, 11, 1 + i, 12),
                        request_id=f"prop-{model}-{i}",
                    )
                )
        ingest(*records, now=shanghai(2026, 11, 30))
        bill = only(month_close_customer(customer=customer, period=NOV, today=date(2026, 12, 1)))

        expected_line = exact_line_amount(costs, discount, rate_value)
        amounts = [line.amount.amount for line in bill.lines.all()]
        assert amounts == [expected_line, expected_line]
        assert bill.subtotal.amount == sum(amounts)
        with localcontext(prec=200):
            expected_vat = (bill.subtotal.amount * vat_rate).quantize(CENT, rounding=ROUND_HALF_UP)
        assert bill.vat.amount == expected_vat
        assert bill.total.amount == bill.subtotal.amount + bill.vat.amount
        transaction.set_rollback(True)
    forget_known()


def test_the_sweep_of_late_usage_keeps_each_variant_and_its_unit_sums(acme):  # issue 20
    """A leftover rollup row moved onto a later bill period keeps its variant and every sum."""
    price()
    rate(NOV, "7.1456")
    rate(DEC, "7.2")
    key = key_for(acme)
    with travel(2026, 12, 1):
        assert close(acme) == []
    plain = record(key, input=1000, at=shanghai(2026, 11, 20))
    # (web searches would leave it unpriced: this version has no search price)
    searched = dict(
        record(key, input=1000, output=50, at=shanghai(2026, 11, 20)),
        output_reasoning_tokens=30,
        cache_write_tokens=100,
    )
    priority = dict(record(key, input=1000, at=shanghai(2026, 11, 20)), service_tier="priority")
    assert ingest(plain, searched, priority, now=shanghai(2026, 12, 2)).unpriced == 1

    with travel(2027, 1, 1):
        close(acme, DEC)

    rows = {r.variant: r for r in UsageRollup.objects.filter(customer=acme)}
    assert sorted(rows) == ["priority", "standard"]
    assert {r.bill_period for r in rows.values()} == {DEC}
    standard = rows["standard"]
    assert (standard.requests, standard.output_reasoning_tokens, standard.cache_write_tokens) == (2, 30, 100)
    assert (rows["priority"].requests, rows["priority"].price_version_id) == (1, None)
