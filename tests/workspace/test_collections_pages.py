"""Finance's side of collections on the staff pages: the statement of account for any
customer and range, a bill's dispute page (reply, resolve, credit; errors beside the field),
and the dashboard's dunning block."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from billing.bills.dunning import dunning_run
from billing.bills.lifecycle import bill_confirm
from billing.models import Bill, BillCredit, DisputeMessage
from tests.billing.close_helpers import NOV, close, only, set_terms, travel
from tests.billing.test_bill_pdf import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def staff(client, finance_user):
    client.force_login(finance_user)
    return client


@pytest.fixture
def bill(acme) -> Bill:
    set_terms(acme, monthly_service_fee=Decimal("1000.00"))
    with travel(2026, 12, 1):
        return only(close(acme, NOV))


@pytest.mark.parametrize("url", ["/staff/statement/", "/staff/bills/BILL-ACME-202611/dispute/"])
def test_only_finance_opens_them(client, bill, alice, presales_user, url):
    assert client.get(url).status_code == 302
    for user in (alice, presales_user):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_the_statement_page_and_its_pdf(staff, bill):
    html = staff.get(
        "/staff/statement/", {"customer": "acme", "from": "2026-12-01", "to": "2026-12-31"}
    ).content.decode()
    assert 'data-number="BILL-ACME-202611"' in html
    assert re.search(r'id="statement-closing">¥1,060.00<', html)
    link = re.search(r'id="statement-pdf" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert link == "/documents/customers/ACME/statement/pdf/?from=2026-12-01&to=2026-12-31"
    pdf = staff.get(link)
    assert pdf.status_code == 200 and "BILL-ACME-202611" in pdf_text(pdf.content)

    unknown = staff.get("/staff/statement/", {"customer": "NOPE"})
    assert unknown.status_code == 400 and 'id="errors-customer"' in unknown.content.decode()
    reversed_range = staff.get("/staff/statement/", {"customer": "ACME", "from": "2026-12-02", "to": "2026-12-01"})
    assert reversed_range.status_code == 400 and 'id="errors-to"' in reversed_range.content.decode()


def test_finance_replies_grants_a_credit_and_the_thread_shows_it(staff, bill, alice):
    bill_confirm(bill=bill, confirmed=False, note="服务费应为 900 元", actor=alice)
    url = "/staff/bills/BILL-ACME-202611/dispute/"

    assert staff.post(url, {"action": "reply", "reply-text": "我们核实一下"}).status_code == 302
    empty = staff.post(url, {"action": "credit", "credit-amount": "", "credit-reason": "x"})
    assert empty.status_code == 400 and 'id="errors-credit-amount"' in empty.content.decode()
    too_much = staff.post(url, {"action": "credit", "credit-amount": "1000.01", "credit-reason": "x"})
    assert too_much.status_code == 400 and "最多还可抵减 ¥1,000.00" in too_much.content.decode()
    assert 'id="errors-credit-amount"' in too_much.content.decode()
    assert not BillCredit.objects.exists()

    done = staff.post(url, {"action": "credit", "credit-amount": "100.00", "credit-reason": "补充协议 900 元"})
    assert done.status_code == 302
    credit = BillCredit.objects.get()
    assert (credit.amount.amount, credit.reason) == (Decimal("100.00"), "补充协议 900 元")
    bill.refresh_from_db()
    assert bill.confirmation == "pending"
    assert list(DisputeMessage.objects.values_list("kind", "side")) == [
        ("dispute", "customer"),
        ("reply", "finance"),
        ("credit", "finance"),
        ("resolved", "finance"),
    ]
    html = staff.get(url).content.decode()
    assert "补充协议 900 元" in html and "¥100.00" in html
    assert staff.post(url, {"action": "resolve", "resolve-note": "again"}).status_code == 400  # no open dispute


def test_the_dashboard_lists_the_weeks_notices_and_the_bills_per_stage(staff, bill):
    dunning_run(today=date(2027, 1, 15))  # sent now: within the last 7 days
    response = staff.get("/staff/")
    assert response.status_code == 200
    html = response.content.decode()
    block = re.search(r'<section class="card" id="dunning">.*?</section>', html, re.S).group(0)
    assert "CS-2027-0001" in block and "BILL-ACME-202611" in block
    assert 'data-stage="demand_15" data-count="1"' in block
    assert 'data-stage="demand_30" data-count="0"' in block
    assert 'href="/staff/bills/BILL-ACME-202611/dispute/"' in block


def test_the_dashboard_lists_unmatched_transfers_and_open_invoice_requests(staff, bill):
    from banking.models import BankStatement, BankTransaction
    from invoices.models import InvoiceRequest

    statement = BankStatement.objects.create(file_name="cmb.mt940", format="mt940")
    for line, (status, payer) in enumerate(
        [("unmatched", "杭州某某网络有限公司"), ("matched", "ACME"), ("unmatched", "UNKNOWN TRADING")], start=1
    ):
        BankTransaction.objects.create(
            statement=statement,
            line=line,
            date=date(2026, 12, 10),
            amount=Decimal("5300.00"),
            direction="credit",
            payer_name=payer,
            status=status,
            dedupe_key=f"dashboard-{line}",
        )
    InvoiceRequest.objects.create(customer=bill.customer, bill=bill, invoice_type="special")
    InvoiceRequest.objects.create(customer=bill.customer, bill=bill, invoice_type="ordinary", status="issued")

    html = staff.get("/staff/").content.decode()

    unmatched = html[html.index('id="unmatched"') : html.index('id="invoice-requests"')]
    assert "(2)" in unmatched and unmatched.count("data-transaction=") == 2
    assert "杭州某某网络有限公司" in unmatched and "UNKNOWN TRADING" in unmatched and ">ACME<" not in unmatched
    assert "/admin/banking/banktransaction/unmatched/" in unmatched
    requests = html[html.index('id="invoice-requests"') : html.index('id="held"')]
    assert "(1)" in requests and requests.count("data-invoice-request=") == 1 and "BILL-ACME-202611" in requests
