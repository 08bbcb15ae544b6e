"""Importing real statement files through the API: MT940, camt.053, a GBK CSV with Chinese
headers and an XLSX; duplicates across overlapping statements; re-import; the matching
rules, parts and overpayments, all booked through the payment service."""

from __future__ import annotations

from decimal import Decimal

from banking.models import BankStatement, BankTransaction
from billing.models import Bill, BillEvent, CreditEntry, Payment
from tests.banking.conftest import csv_bytes, upload


def txn(reference: str) -> BankTransaction:
    return BankTransaction.objects.get(bank_reference=reference)


def refresh(*bills):
    for bill in bills:
        bill.refresh_from_db()


def test_it_imports_an_mt940_statement_and_matches_by_memo_and_by_payer(ledger, finance_client):
    response = upload(finance_client, "cmb_2026-12-15.mt940", "mt940")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["transactions"] == 4
    assert body["duplicates"] == 0
    by_memo, debit, by_payer, unknown = (
        txn("CMB2612150001"),
        txn("CMB2612150002"),
        txn("CMB2612150003"),
        txn("CMB2612150004"),
    )
    assert body["matched"] == [
        {"transaction": by_memo.pk, "bill": "BILL-ACME-202611", "amount": "5300.00"},
        {"transaction": by_payer.pk, "bill": "BILL-OTHER-202611", "amount": "2120.00"},
    ]
    assert body["unmatched"] == [unknown.pk]
    assert body["statement"] == BankStatement.objects.get().pk

    # :86: read as the library reads it: ?20–?29 the memo, ?31 the account, ?32/?33 the name.
    assert by_memo.memo == "HUOKUAN bill-acme-202611NOV SERVICE"
    assert by_memo.payer_account == "6225880212345678"
    assert by_memo.payer_name == "SHANGHAI ACME INFORMATIONTECHNOLOGY CO LTD"
    assert (debit.direction, debit.status) == ("debit", "ignored")
    assert unknown.status == "unmatched" and "不是已知客户" in unknown.reason  # in the request's language

    refresh(ledger.november, ledger.other_bill, ledger.october)
    assert ledger.november.status == Bill.Status.PAID
    assert ledger.other_bill.status == Bill.Status.PAID
    assert ledger.october.amount_paid.amount == Decimal("0.00")  # the memo named November
    payment = Payment.objects.get(bill=ledger.november)
    assert (payment.reference, payment.amount.amount, str(payment.received_on)) == (
        "CMB2612150001",
        Decimal("5300.00"),
        "2026-12-15",
    )
    assert BillEvent.objects.filter(bill=ledger.november, kind=BillEvent.Kind.PAYMENT).count() == 1
    statement = BankStatement.objects.get()
    assert (statement.lines, statement.credits, statement.debits, statement.matched) == (4, 3, 1, 2)


def test_it_recognises_duplicates_across_overlapping_statements(ledger, finance_client):
    assert upload(finance_client, "cmb_2026-12-15.mt940", "mt940").status_code == 201
    response = upload(finance_client, "cmb_2026-12-16.mt940", "mt940")
    assert response.status_code == 201
    body = response.json()
    assert (body["transactions"], body["duplicates"]) == (3, 2)
    # The new transfer from ACME's account equals the October balance (November is paid).
    new = txn("CMB2612160001")
    assert body["matched"] == [{"transaction": new.pk, "bill": "BILL-ACME-202610", "amount": "5300.00"}]
    assert body["unmatched"] == []
    assert BankTransaction.objects.count() == 5
    assert Payment.objects.count() == 3


def test_it_books_nothing_twice_when_a_statement_is_imported_again(ledger, finance_client):
    upload(finance_client, "cmb_2026-12-15.mt940", "mt940")
    payments = list(Payment.objects.values_list("pk", "amount"))
    events = BillEvent.objects.filter(kind=BillEvent.Kind.PAYMENT).count()

    response = upload(finance_client, "cmb_2026-12-15.mt940", "mt940")
    assert response.status_code == 201
    body = response.json()
    assert (body["transactions"], body["duplicates"], body["matched"], body["unmatched"]) == (4, 4, [], [])
    assert list(Payment.objects.values_list("pk", "amount")) == payments
    assert BillEvent.objects.filter(kind=BillEvent.Kind.PAYMENT).count() == events
    assert BankTransaction.objects.count() == 4
    assert BankStatement.objects.count() == 2


def test_it_imports_camt053_with_a_part_payment_and_the_cross_customer_reason(ledger, finance_client):
    response = upload(finance_client, "icbc_camt053_2026-12-16.xml", "camt053")
    assert response.status_code == 201, response.json()
    body = response.json()
    part, fee, foreign = txn("ICBC20261216000123"), txn("ICBC20261216000124"), txn("ICBC20261216000125")
    # Full-width ＢＩＬＬ－ＡＣＭＥ－２０２６１１ in the memo names the November bill.
    assert body["matched"] == [{"transaction": part.pk, "bill": "BILL-ACME-202611", "amount": "3000.00"}]
    refresh(ledger.november)
    assert ledger.november.status == Bill.Status.PARTIALLY_PAID
    assert ledger.november.balance.amount == Decimal("2300.00")
    assert (fee.status, fee.memo) == ("ignored", "汇款手续费")
    # OTHER's account sends a transfer naming ACME's bill: never booked to ACME.
    assert body["unmatched"] == [foreign.pk]
    assert "BILL-ACME-202611" in foreign.reason and "ACME" in foreign.reason and "OTHER" in foreign.reason
    assert not Payment.objects.filter(reference="ICBC20261216000125").exists()
    assert (part.payer_name, part.payer_account) == ("上海阿克米信息技术有限公司", "6225 8802 1234 5678")


def test_it_imports_a_gbk_csv_export_with_a_saved_profile_paying_the_oldest_bills_together(ledger, finance_client):
    response = upload(finance_client, "icbc_2026-12-17.csv", "csv", profile="工商银行 ICBC")
    assert response.status_code == 201, response.json()
    body = response.json()
    both = txn("ICBC20261217000201")
    # No account, no bill number: the name is ACME's, 10,600.00 = October + November.
    assert body["matched"] == [
        {"transaction": both.pk, "bill": "BILL-ACME-202610", "amount": "5300.00"},
        {"transaction": both.pk, "bill": "BILL-ACME-202611", "amount": "5300.00"},
    ]
    assert body["transactions"] == 3  # the 合计 line is not a transaction
    assert body["unmatched"] == [txn("ICBC20261217000203").pk]
    assert txn("ICBC20261217000202").status == "ignored"
    assert both.memo == "转账收入 十月十一月服务费"
    refresh(ledger.october, ledger.november)
    assert ledger.october.status == ledger.november.status == Bill.Status.PAID
    # One transfer, one payment per bill, both under the bank reference.
    assert set(Payment.objects.filter(reference="ICBC20261217000201").values_list("bill__number", flat=True)) == {
        "BILL-ACME-202610",
        "BILL-ACME-202611",
    }


def test_it_imports_an_xlsx_export_with_named_columns(ledger, finance_client):
    columns = {
        "date": "交易日期",
        "amount": "收入金额",
        "debit_amount": "支出金额",
        "payer_name": "对方户名",
        "payer_account": "对方账号",
        "memo": "摘要|用途",
        "bank_reference": "流水号",
    }
    response = upload(finance_client, "cmb_2026-12-18.xlsx", "xlsx", **columns)
    assert response.status_code == 201, response.json()
    body = response.json()
    named, prepaid, expense = txn("K2612180000371"), txn("K2612180000372"), txn("K2612180000373")
    assert body["matched"] == [{"transaction": named.pk, "bill": "BILL-OTHER-202611", "amount": "2120.00"}]
    assert body["unmatched"] == [prepaid.pk]
    assert "ACME" in prepaid.reason  # the payer is known, the amount fits no balance
    assert (expense.status, expense.amount.amount, str(expense.date)) == ("ignored", Decimal("320.50"), "2026-12-18")
    assert named.memo == "网银转账 BILL OTHER 202611 服务费"


def test_it_turns_more_than_the_balance_into_customer_credit(ledger, finance_client):
    content = csv_bytes(
        [["2026-12-19", "6000.00", "", "上海阿克米信息技术有限公司", "", "付 BILL-ACME-202611", "R-OVER-1"]]
    )
    response = upload(finance_client, content, "csv")
    assert response.status_code == 201, response.json()
    assert response.json()["matched"][0]["amount"] == "6000.00"
    refresh(ledger.november)
    assert ledger.november.status == Bill.Status.PAID
    payment = Payment.objects.get(reference="R-OVER-1")
    assert (payment.amount.amount, payment.applied.amount) == (Decimal("6000.00"), Decimal("5300.00"))
    assert CreditEntry.objects.get(payment=payment).amount.amount == Decimal("700.00")


def test_it_matches_without_a_bank_reference_and_dedupes_by_date_amount_account_and_memo(ledger, finance_client):
    rows = [["2026-12-19", "2120.00", "", "别家公司", "3100 1234 5678 900", "十二月付款", ""]]
    first = upload(finance_client, csv_bytes(rows), "csv")
    assert first.status_code == 201
    assert first.json()["matched"][0]["bill"] == "BILL-OTHER-202611"
    overlap = rows + [["2026-12-19", "5300.00", "", "别家公司", "3100 1234 5678 900", "十二月付款", ""]]
    second = upload(finance_client, csv_bytes(overlap, encoding="gbk"), "csv", encoding="gbk")
    assert second.status_code == 201, second.json()
    assert (second.json()["transactions"], second.json()["duplicates"]) == (2, 1)
    assert Payment.objects.filter(bill=ledger.other_bill).count() == 1


def test_a_bill_already_paid_named_in_the_memo_stays_unmatched_with_the_reason(ledger, finance_client):
    upload(finance_client, "cmb_2026-12-15.mt940", "mt940")  # pays November
    content = csv_bytes([["2026-12-19", "5300.00", "", "", "", "BILL-ACME-202611", "R-AGAIN"]])
    body = upload(finance_client, content, "csv").json()
    again = txn("R-AGAIN")
    assert body["unmatched"] == [again.pk]
    assert "BILL-ACME-202611" in again.reason
    assert not Payment.objects.filter(reference="R-AGAIN").exists()


def test_a_reissued_bill_is_paid_when_the_memo_names_the_voided_one(ledger, finance_client):
    from billing.bills.lifecycle import bill_reissue, bill_void
    from tests.billing.close_helpers import travel

    with travel(2026, 12, 2):
        bill_void(bill=ledger.november, reason="wrong minimum")
        reissued = bill_reissue(bill=ledger.november)[0].bill
    assert reissued.number == "BILL-ACME-202611-R1"
    # The reissue's number is read as itself (not as its voided original's, a part of it)…
    content = csv_bytes([["2026-12-19", "1.00", "", "", "", "BILL-ACME-202611-R1", "R-REISSUE"]])
    body = upload(finance_client, content, "csv").json()
    assert body["matched"] == [{"transaction": txn("R-REISSUE").pk, "bill": "BILL-ACME-202611-R1", "amount": "1.00"}]
    # …and the voided number names the bill that replaced it.
    content = csv_bytes([["2026-12-19", "5299.00", "", "", "", "BILL-ACME-202611", "R-VOIDED"]])
    body = upload(finance_client, content, "csv").json()
    assert body["matched"][0]["bill"] == "BILL-ACME-202611-R1"
    reissued.refresh_from_db()
    assert reissued.status == Bill.Status.PAID


def test_a_reversal_by_the_bank_is_kept_and_ignored(ledger, finance_client):
    from tests.banking.conftest import FIXTURES

    content = (FIXTURES / "cmb_2026-12-15.mt940").read_bytes().replace(b"C999,00NTRF", b"RD999,00NTRF")
    body = upload(finance_client, content, "mt940").json()
    reversal = txn("CMB2612150004")
    assert reversal.status == "ignored" and "RC/RD" in reversal.reason
    assert body["unmatched"] == []


def test_excel_quoted_numbers_and_control_characters_are_read_as_text(ledger, finance_client):
    row = ["2026-12-19", "2120.00", "", "别家\x07公司", '="310012345678900"', "付款\x01", '="R-Q-1"']
    response = upload(finance_client, csv_bytes([row]), "csv")
    assert response.status_code == 201, response.json()
    quoted = txn("R-Q-1")
    assert (quoted.payer_name, quoted.payer_account, quoted.memo) == ("别家公司", "310012345678900", "付款")
    assert quoted.status == "matched"  # OTHER's account, OTHER's balance
