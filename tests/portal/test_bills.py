"""Bills: the list and one bill show the bill API's figures; the PDF is the bill's; the
statement confirmation has the API's effect (finance sees a dispute in the admin); bad
input is shown beside the field in the reader's language."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from billing.bills import lifecycle
from billing.models import Bill, BillEvent
from common.admin_display import money_text
from tests.invoices.helpers import SELLER

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_part(acme_bill, finance_user):
    payment, _created = lifecycle.payment_record(
        bill=acme_bill,
        actor=finance_user,
        amount=Decimal("10.00"),
        received_on=date(2026, 11, 4),
        reference="CMB-0001",
        payer_name=acme_bill.customer.name,
    )
    return payment


@pytest.fixture
def signed_in(client, alice, acme_world):
    client.force_login(alice)
    return client


def test_its_list_shows_the_bill_apis_figures(signed_in, alice_client, acme_world, paid_part):
    (api,) = alice_client.get("/api/v1/bills/").json()

    html = signed_in.get("/portal/bills/").content.decode()

    row = re.search(rf'<tr data-number="{api["number"]}".*?</tr>', html, re.S).group(0)
    assert f'<td class="num total">{money_text(Decimal(api["total"]))}</td>' in row
    assert f'<td class="num paid">{money_text(Decimal(api["amount_paid"]))}</td>' in row
    assert f'<td class="num balance">{money_text(Decimal(api["balance"]))}</td>' in row
    assert api["due_on"] in row
    assert "部分付款" in row


def test_its_list_highlights_an_overdue_bill(signed_in, acme_world):
    bill = acme_world["bill"]
    Bill.objects.filter(pk=bill.pk).update(due_on=date(2026, 11, 4))  # the day before today

    html = signed_in.get("/portal/bills/").content.decode()

    assert f'<tr data-number="{bill.number}" class="overdue">' in html


def test_its_list_keeps_older_bills_behind_the_filter(signed_in, acme_world):
    bill = acme_world["bill"]
    Bill.objects.filter(pk=bill.pk).update(period=date(2025, 9, 1))

    recent = signed_in.get("/portal/bills/").content.decode()
    everything = signed_in.get("/portal/bills/", {"older": "on"}).content.decode()

    assert bill.number not in recent
    assert f'data-number="{bill.number}"' in everything


def test_a_bill_shows_the_apis_lines_payments_balance_and_our_bank_account(
    signed_in, alice_client, acme_world, paid_part
):
    number = acme_world["bill"].number
    api = alice_client.get(f"/api/v1/bills/{number}/").json()
    api_payments = alice_client.get(f"/api/v1/bills/{number}/payments/").json()

    html = signed_in.get(f"/portal/bills/{number}/").content.decode()

    amounts = re.findall(r'<td class="num amount">(.*?)</td>', html)
    assert amounts == [money_text(Decimal(line["amount"])) for line in api["lines"]]
    assert len(amounts) >= 2
    applied = re.findall(r'<td class="num applied">(.*?)</td>', html)
    assert applied == [money_text(Decimal(p["applied"])) for p in api_payments]
    for field in ("subtotal", "vat", "total", "balance"):
        assert money_text(Decimal(api[field])) in re.search(rf'id="bill-{field}">(.*?)</dd>', html).group(1)
    bank = re.search(r'id="bank-account">.*?</dl>', html, re.S).group(0)
    assert SELLER["bank_account"] in bank and SELLER["bank_name"] in bank and SELLER["name"] in bank
    assert f'href="/portal/bills/{number}/pdf/"' in html


def test_its_pdf_is_the_bills(signed_in, acme_world):
    bill = acme_world["bill"]

    answer = signed_in.get(f"/portal/bills/{bill.number}/pdf/")

    assert answer["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    assert bill.number in text
    assert f"{bill.total.amount:,.2f}" in text


def test_confirming_has_the_apis_effect(signed_in, alice, acme_world):
    bill = acme_world["bill"]

    answer = signed_in.post(f"/portal/bills/{bill.number}/confirm/", {"action": "confirm", "note": ""})

    assert answer.status_code == 302
    bill.refresh_from_db()
    assert bill.confirmation == Bill.Confirmation.CONFIRMED
    assert bill.confirmed_by == alice
    assert BillEvent.objects.filter(bill=bill, kind=BillEvent.Kind.CONFIRMED).count() == 1
    page = signed_in.get(answer["Location"]).content.decode()
    assert "对账单已确认" in page


def test_a_dispute_reaches_finance_in_the_admin(signed_in, client, acme_world, finance_user, alice_client):
    bill = acme_world["bill"]

    signed_in.post(f"/portal/bills/{bill.number}/confirm/", {"action": "dispute", "note": "十月的 claude 用量不对"})

    api = alice_client.get(f"/api/v1/bills/{bill.number}/").json()
    assert (api["confirmation"], api["confirmation_note"]) == ("disputed", "十月的 claude 用量不对")
    assert BillEvent.objects.filter(bill=bill, kind=BillEvent.Kind.DISPUTED).count() == 1
    client.force_login(finance_user)
    admin = client.get("/admin/billing/bill/", {"confirmation__exact": "disputed"}).content.decode()
    assert bill.number in admin


@pytest.mark.parametrize(
    ("language", "message"),
    [("zh-hans", "请说明问题所在，以便财务核查。"), ("en", "Say what is wrong so finance can look into it.")],
)
def test_a_dispute_without_a_note_is_shown_beside_the_note(signed_in, acme_world, language, message):
    bill = acme_world["bill"]

    page = signed_in.post(
        f"/portal/bills/{bill.number}/confirm/", {"action": "dispute", "note": "  "}, HTTP_ACCEPT_LANGUAGE=language
    )

    assert page.status_code == 400
    errors = re.search(r'id="note-errors">(.*?)</div>', page.content.decode(), re.S).group(1)
    assert message in errors
    bill.refresh_from_db()
    assert bill.confirmation == Bill.Confirmation.PENDING


def test_a_void_bill_cannot_be_confirmed(signed_in, acme_world):
    bill = acme_world["bill"]
    Bill.objects.filter(pk=bill.pk).update(status=Bill.Status.VOID)

    page = signed_in.post(f"/portal/bills/{bill.number}/confirm/", {"action": "confirm"})

    assert page.status_code == 400
    assert "只有已出账的账单才能确认" in page.content.decode()


def test_finance_of_the_customer_reads_bills_and_a_developer_is_refused(client, dora, bob, acme_world):
    number = acme_world["bill"].number
    client.force_login(dora)
    assert client.get(f"/portal/bills/{number}/").status_code == 200
    client.force_login(bob)
    refused = client.get(f"/portal/bills/{number}/")
    assert refused.status_code == 403
    assert "门户管理员" in refused.content.decode()
