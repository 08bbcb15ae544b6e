"""The transaction list, matching by hand (bills or a customer's credit), the remembered payer,
ignoring with a reason, who may do it, and files that are not what they say (a 400 naming
the line and field, nothing written)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from banking import parsers
from banking.models import BankStatement, BankTransaction, PayerAccount
from billing.models import Bill, BillEvent, CreditEntry, Payment
from customers.models import AuditEvent
from tests.banking.conftest import COLUMNS, csv_bytes, upload
from tests.billing.close_helpers import travel

UNKNOWN = ["2026-12-19", "5300.00", "", "杭州新客户科技有限公司", "6217 0000 1111 2222", "服务费", "R-NEW-1"]


def match(client, transaction_id: int, body: dict):
    with travel(2026, 12, 20):
        return client.post(f"/api/v1/bank-transactions/{transaction_id}/match/", body, format="json")


def test_it_lists_transactions_by_status(ledger, finance_client):
    upload(finance_client, "cmb_2026-12-15.mt940", "mt940")
    response = finance_client.get("/api/v1/bank-transactions/?status=unmatched")
    assert response.status_code == 200
    (row,) = response.json()
    assert row == {
        "id": BankTransaction.objects.get(bank_reference="CMB2612150004").pk,
        "date": "2026-12-15",
        "amount": "999.00",
        "currency": "CNY",
        "direction": "credit",
        "payer_name": "UNKNOWN TRADING CO",
        "payer_account": "955880001122334",
        "memo": "CONSULTING",
        "bank_reference": "CMB2612150004",
        "status": "unmatched",
        "reason": row["reason"],
        "payments": [],
    }
    matched = finance_client.get("/api/v1/bank-transactions/?status=matched").json()
    assert [(t["bank_reference"], t["payments"]) for t in matched] == [
        ("CMB2612150003", [{"bill": "BILL-OTHER-202611", "amount": "2120.00"}]),
        ("CMB2612150001", [{"bill": "BILL-ACME-202611", "amount": "5300.00"}]),
    ]
    assert len(finance_client.get("/api/v1/bank-transactions/").json()) == 4
    bad = finance_client.get("/api/v1/bank-transactions/?status=lost")
    assert bad.status_code == 400 and "status" in bad.json()["errors"]


def test_matching_by_hand_pays_the_bills_and_remembers_the_payer(ledger, finance_client, finance_user):
    upload(finance_client, csv_bytes([UNKNOWN]), "csv")
    unknown = BankTransaction.objects.get(bank_reference="R-NEW-1")
    assert unknown.status == "unmatched"

    response = match(finance_client, unknown.pk, {"bills": ["BILL-ACME-202610"]})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "matched"
    assert response.json()["payments"] == [{"bill": "BILL-ACME-202610", "amount": "5300.00"}]
    ledger.october.refresh_from_db()
    assert ledger.october.status == Bill.Status.PAID
    event = BillEvent.objects.get(bill=ledger.october, kind=BillEvent.Kind.PAYMENT)
    assert event.actor == finance_user and event.data["reference"] == "R-NEW-1"
    remembered = PayerAccount.objects.get()
    assert (remembered.customer, remembered.account_key) == (ledger.acme, "6217000011112222")

    # The next transfer from that account is ACME's: it pays the bill whose balance it equals.
    again = ["2026-12-19", "5300.00", "", "杭州新客户科技有限公司", "6217000011112222", "服务费", "R-NEW-2"]
    body = upload(finance_client, csv_bytes([again]), "csv").json()
    assert body["matched"] == [
        {
            "transaction": BankTransaction.objects.get(bank_reference="R-NEW-2").pk,
            "bill": "BILL-ACME-202611",
            "amount": "5300.00",
        }
    ]


def test_matching_to_a_customer_holds_the_amount_as_credit_for_its_next_bill(ledger, finance_client):
    upload(finance_client, csv_bytes([UNKNOWN]), "csv")
    unknown = BankTransaction.objects.get(bank_reference="R-NEW-1")
    response = match(finance_client, unknown.pk, {"customer": "other"})
    assert response.status_code == 200, response.json()
    assert response.json()["payments"] == [{"bill": None, "amount": "5300.00"}]
    payment = Payment.objects.get(reference="R-NEW-1")
    assert (payment.bill, payment.customer, payment.method) == (None, ledger.other, Payment.Method.BANK_TRANSFER)
    entry = CreditEntry.objects.get(payment=payment)
    assert (entry.amount.amount, entry.held) == (Decimal("5300.00"), False)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CREDIT_RECEIVED, facts__reference="R-NEW-1").exists()
    assert PayerAccount.objects.get().customer == ledger.other
    # Matched once: a second match is a conflict, nothing booked again.
    assert match(finance_client, unknown.pk, {"customer": "OTHER"}).status_code == 409
    assert Payment.objects.filter(reference="R-NEW-1").count() == 1


def test_matching_several_bills_pays_them_in_order_and_the_rest_becomes_credit(ledger, finance_client):
    row = ["2026-12-19", "11000.00", "", "", "", "两个月", "R-TWO"]
    upload(finance_client, csv_bytes([row]), "csv")
    unknown = BankTransaction.objects.get(bank_reference="R-TWO")
    response = match(finance_client, unknown.pk, {"bills": ["BILL-ACME-202611", "BILL-ACME-202610"]})
    assert response.status_code == 200, response.json()
    assert response.json()["payments"] == [
        {"bill": "BILL-ACME-202611", "amount": "5300.00"},
        {"bill": "BILL-ACME-202610", "amount": "5700.00"},
    ]
    assert CreditEntry.objects.get(payment__reference="R-TWO", payment__bill=ledger.october).amount.amount == Decimal(
        "400.00"
    )


def test_matching_refuses_bad_requests_and_changes_nothing(ledger, finance_client):
    upload(finance_client, csv_bytes([["2026-12-19", "100.00", "", "", "", "", "R-SMALL"]]), "csv")
    small = BankTransaction.objects.get(bank_reference="R-SMALL")
    cases = [
        ({}, "bills"),
        ({"bills": ["BILL-NOPE-202611"]}, "bills"),
        ({"customer": "NOPE"}, "customer"),
        ({"bills": ["BILL-ACME-202611", "BILL-OTHER-202611"]}, "bills"),
        ({"bills": ["BILL-ACME-202610", "BILL-ACME-202611"]}, "bills"),  # 100.00 is used up by October
        ({"bills": ["BILL-ACME-202611"], "customer": "ACME"}, "bills"),
    ]
    for body, field in cases:
        response = match(finance_client, small.pk, body)
        assert response.status_code == 400, (body, response.json())
        assert field in response.json()["errors"], (body, response.json())
    assert not Payment.objects.filter(reference="R-SMALL").exists()
    small.refresh_from_db()
    assert small.status == "unmatched"
    assert match(finance_client, 999999, {"customer": "ACME"}).status_code == 404


def test_ignoring_needs_a_reason_and_a_matched_transaction_cannot_be_ignored(ledger, finance_client):
    upload(finance_client, "cmb_2026-12-15.mt940", "mt940")
    unknown = BankTransaction.objects.get(bank_reference="CMB2612150004")
    url = f"/api/v1/bank-transactions/{unknown.pk}/ignore/"
    assert finance_client.post(url, {"reason": "  "}, format="json").status_code == 400
    response = finance_client.post(url, {"reason": "退回付款方"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reason"]) == ("ignored", "退回付款方")
    matched = BankTransaction.objects.get(bank_reference="CMB2612150001")
    response = finance_client.post(f"/api/v1/bank-transactions/{matched.pk}/ignore/", {"reason": "x"}, format="json")
    assert response.status_code == 409


def test_only_finance_imports_and_matches(ledger, finance_client, alice_client, client):
    upload(finance_client, "cmb_2026-12-15.mt940", "mt940")
    unknown = BankTransaction.objects.get(bank_reference="CMB2612150004")
    assert upload(alice_client, "cmb_2026-12-16.mt940", "mt940").status_code == 403
    assert alice_client.get("/api/v1/bank-transactions/").status_code == 403
    assert match(alice_client, unknown.pk, {"customer": "ACME"}).status_code == 403
    assert client.get("/api/v1/bank-transactions/").status_code == 401
    assert BankStatement.objects.count() == 1


# --- Files that are not what they say --------------------------------------------------------


def rejected(response, field: str, *words: str):
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"], body
    text = " ".join(body["errors"][field])
    for word in words:
        assert word in text, (word, text)
    assert BankStatement.objects.count() == 0
    assert BankTransaction.objects.count() == 0
    assert Payment.objects.count() == 0


GOOD = ["2026-12-19", "5300.00", "", "", "", "BILL-ACME-202611", "R-GOOD"]


def test_a_bad_amount_rejects_the_whole_file_naming_line_and_field(ledger, finance_client):
    content = csv_bytes([GOOD, ["2026-12-19", "1,234.5O", "", "", "", "", "R-BAD"]])
    rejected(upload(finance_client, content, "csv"), "amount", "4", "1,234.5O")


def test_a_date_that_does_not_exist_rejects_the_file(ledger, finance_client):
    content = csv_bytes([GOOD, ["2026-02-30", "10.00", "", "", "", "", "R-BAD"]])
    rejected(upload(finance_client, content, "csv"), "date", "4", "2026-02-30")
    mt940 = (parsers_fixture("cmb_2026-12-15.mt940")).replace(b":61:2612151215D1200", b":61:2602301215D1200")
    rejected(upload(finance_client, mt940, "mt940"), "date", "9", "260230")


def parsers_fixture(name: str) -> bytes:
    from tests.banking.conftest import FIXTURES

    return (FIXTURES / name).read_bytes()


def test_a_statement_in_usd_is_refused(ledger, finance_client):
    camt = parsers_fixture("icbc_camt053_2026-12-16.xml").replace(b'Ccy="CNY">3000.00', b'Ccy="USD">3000.00')
    rejected(upload(finance_client, camt, "camt053"), "currency", "USD")
    mt940 = parsers_fixture("cmb_2026-12-15.mt940").replace(b"CNY", b"USD")
    rejected(upload(finance_client, mt940, "mt940"), "currency", "USD")


def test_a_file_that_is_not_its_format_is_refused(ledger, finance_client):
    rejected(upload(finance_client, csv_bytes([GOOD]), "mt940"), "file", "MT940")
    rejected(upload(finance_client, csv_bytes([GOOD]), "camt053"), "file", "camt.053")
    rejected(upload(finance_client, parsers_fixture("cmb_2026-12-18.xlsx"), "csv"), "format", "xlsx")
    rejected(upload(finance_client, csv_bytes([GOOD]), "xlsx"), "file", "XLSX")
    xxe = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document>&x;</Document>'
    rejected(upload(finance_client, xxe, "camt053"), "file")


def test_a_wrong_encoding_or_a_missing_column_is_named(ledger, finance_client):
    gbk = csv_bytes([GOOD], encoding="gbk")
    rejected(upload(finance_client, gbk, "csv", encoding="utf-8"), "encoding", "utf-8")
    rejected(upload(finance_client, csv_bytes([GOOD]), "csv", **{**COLUMNS, "memo": "附言"}), "memo", "附言")
    rejected(upload(finance_client, csv_bytes([GOOD]), "csv", profile="没有这个"), "profile")


def test_too_many_lines_or_too_many_digits_are_refused(ledger, finance_client, monkeypatch):
    monkeypatch.setattr(parsers, "MAX_LINES", 3)
    rows = [[*GOOD[:6], f"R-{i}"] for i in range(5)]
    rejected(upload(finance_client, csv_bytes(rows), "csv"), "file", "3")
    monkeypatch.undo()
    rejected(
        upload(finance_client, csv_bytes([["2026-12-19", "1234567890123.00", "", "", "", "", "R"]]), "csv"), "amount"
    )


def test_a_workbook_that_unpacks_too_far_is_refused(ledger, finance_client, monkeypatch):
    monkeypatch.setattr(parsers, "MAX_XLSX_UNPACKED_BYTES", 1000)
    rejected(upload(finance_client, parsers_fixture("cmb_2026-12-18.xlsx"), "xlsx"), "file", "200 MB")


def test_a_file_over_20_mb_is_a_413(ledger, finance_client, monkeypatch):
    monkeypatch.setattr("banking.api.MAX_FILE_BYTES", 1000)
    response = upload(finance_client, csv_bytes([GOOD] * 40), "csv")
    assert response.status_code == 413
    assert set(response.json()) == {"detail", "errors"}
    assert BankStatement.objects.count() == 0


@pytest.mark.parametrize("fmt", ["csv", "mt940", "camt053", "xlsx"])
def test_an_empty_file_is_refused(ledger, finance_client, fmt):
    response = upload(finance_client, b" ", fmt)
    assert response.status_code == 400
    assert BankStatement.objects.count() == 0
