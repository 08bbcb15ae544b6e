"""Collections in the portal: the statement of account page and its PDF (the API's figures),
the bill page's dunning notices and dispute thread, and the customer's reply in it."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from billing.bills import disputes, lifecycle
from billing.bills.dunning import dunning_run
from billing.models import DisputeMessage
from common.admin_display import money_text
from tests.billing.close_helpers import travel
from tests.billing.test_bill_pdf import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def signed_in(client, alice, acme_world):
    client.force_login(alice)
    return client


@pytest.fixture
def paid_part(acme_bill, finance_user):
    with travel(2026, 11, 4):
        lifecycle.payment_record(
            bill=acme_bill,
            actor=finance_user,
            amount=Decimal("10.00"),
            received_on=date(2026, 11, 4),
            reference="CMB-7",
        )


def test_the_statement_page_shows_the_apis_figures(signed_in, alice_client, acme_world, paid_part):
    query = {"from": "2026-11-01", "to": "2026-11-30"}
    api = alice_client.get("/api/v1/customers/ACME/statement/", query).json()
    assert [e["kind"] for e in api["entries"]] == ["bill", "payment"]

    response = signed_in.get("/portal/statement/", query)

    assert response.status_code == 200
    html = response.content.decode()
    assert "对账函" in html
    for entry in api["entries"]:
        row = re.search(rf'<tr class="entry {entry["kind"]}" data-number="{entry["number"]}">.*?</tr>', html, re.S)
        assert row, entry
        assert money_text(Decimal(entry["balance"])) in row.group(0)
    closing = re.search(r'id="statement-closing">([^<]+)<', html).group(1)
    assert closing == money_text(Decimal(api["closing_balance"]))
    assert 'href="/portal/statement/pdf/?from=2026-11-01&amp;to=2026-11-30"' in html

    pdf = signed_in.get("/portal/statement/pdf/", query)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert acme_world["bill"].number in text and "CMB-7" in text


def test_a_bad_date_is_shown_beside_its_field(signed_in):
    response = signed_in.get("/portal/statement/", {"from": "2026-02-30"})
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="from-errors">[^<]*YYYY-MM-DD', html)
    assert signed_in.get("/portal/statement/pdf/", {"to": "x"}).status_code == 400


def test_the_statement_is_for_admin_and_finance_roles_only(client, bob, acme_world):
    client.force_login(bob)
    assert client.get("/portal/statement/").status_code == 403
    assert client.get("/portal/statement/pdf/").status_code == 403


def test_the_bill_page_lists_the_notices_and_the_customer_answers_the_dispute(
    signed_in, acme_world, finance_user, alice
):
    bill = acme_world["bill"]
    dunning_run(today=bill.due_on + (date(2026, 1, 16) - date(2026, 1, 1)))  # 15 days overdue
    lifecycle.bill_confirm(bill=bill, confirmed=False, note="十月的 gpt-4o 用量重复", actor=alice)
    disputes.dispute_reply(bill=bill, text="请提供调用日志", actor=finance_user)

    html = signed_in.get(f"/portal/bills/{bill.number}/").content.decode()

    notices = re.search(r'<table class="data" id="bill-notices">.*?</table>', html, re.S).group(0)
    assert 'data-stage="demand_15"' in notices and "催款函（逾期 15 天）" in notices
    assert f'href="/portal/bills/{bill.number}/notices/CS-2026-0001/pdf/"' in notices
    assert 'id="dunning-paused"' in html
    thread = re.search(r'<ol class="thread" id="dispute-thread">.*?</ol>', html, re.S).group(0)
    assert thread.index("十月的 gpt-4o 用量重复") < thread.index("请提供调用日志")
    assert 'data-side="finance"' in thread

    letter = signed_in.get(f"/portal/bills/{bill.number}/notices/CS-2026-0001/pdf/")
    assert letter.status_code == 200 and "CS-2026-0001" in pdf_text(letter.content)

    reply = signed_in.post(f"/portal/bills/{bill.number}/dispute/", {"text": "日志已发到财务邮箱"})
    assert reply.status_code == 302
    assert list(DisputeMessage.objects.filter(bill=bill).values_list("side", "text")) == [
        ("customer", "十月的 gpt-4o 用量重复"),
        ("finance", "请提供调用日志"),
        ("customer", "日志已发到财务邮箱"),
    ]
    empty = signed_in.post(f"/portal/bills/{bill.number}/dispute/", {"text": ""})
    assert empty.status_code == 400 and 'id="text-errors"' in empty.content.decode()


def test_a_reply_without_an_open_dispute_is_refused_above_the_form(signed_in, acme_world):
    bill = acme_world["bill"]
    response = signed_in.post(f"/portal/bills/{bill.number}/dispute/", {"text": "hello"})
    assert response.status_code == 400
    assert "没有未解决的异议" in response.content.decode()
    assert not DisputeMessage.objects.exists()


def test_another_customers_bill_and_letter_are_404(client, charlie, acme_world):
    bill = acme_world["bill"]
    dunning_run(today=bill.due_on + (date(2026, 1, 16) - date(2026, 1, 1)))
    client.force_login(charlie)
    assert client.post(f"/portal/bills/{bill.number}/dispute/", {"text": "x"}).status_code == 404
    assert client.get(f"/portal/bills/{bill.number}/notices/CS-2026-0001/pdf/").status_code == 404
