"""Collections in the admin: the dunning notices list with each letter's PDF, the bill page's
notices and dispute thread inline with the link to the staff dispute page, the credits, and
the customer page's statement links."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.bills.disputes import bill_credit_grant, dispute_reply
from billing.bills.dunning import dunning_run
from billing.bills.lifecycle import bill_confirm
from tests.billing.test_bill_pdf import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def dunned(acme_bill, clerk):
    dunning_run(today=acme_bill.due_on + timedelta(days=15))
    bill_confirm(bill=acme_bill, confirmed=False, note="数量不对", actor=None)
    dispute_reply(bill=acme_bill, text="请看附件明细", actor=clerk)
    bill_credit_grant(bill=acme_bill, amount=Decimal("1.00"), reason="四舍五入差异", actor=clerk)
    return acme_bill


def test_the_notice_list_links_each_letter(clerk_client, dunned):
    html = clerk_client.get("/admin/billing/dunningnotice/").content.decode()
    assert "CS-2026-0001" in html and dunned.number in html
    link = f"/documents/bills/{dunned.number}/notices/CS-2026-0001/pdf/"
    assert f'href="{link}"' in html
    response = clerk_client.get(link)
    assert response.status_code == 200 and "CS-2026-0001" in pdf_text(response.content)
    assert clerk_client.get("/admin/billing/dunningnotice/add/").status_code == 403


def test_the_bill_page_shows_notices_thread_and_the_dispute_page(clerk_client, dunned):
    html = clerk_client.get(f"/admin/billing/bill/{dunned.pk}/change/").content.decode()
    assert "CS-2026-0001" in html
    assert "数量不对" in html and "请看附件明细" in html
    assert f'href="/staff/bills/{dunned.number}/dispute/"' in html
    credits = clerk_client.get("/admin/billing/billcredit/").content.decode()
    assert "四舍五入差异" in credits and "¥1.00" in credits


def test_the_customer_page_links_the_statement(clerk_client, dunned):
    html = clerk_client.get(f"/admin/customers/customer/{dunned.customer.pk}/change/").content.decode()
    assert f'href="/staff/statement/?customer={dunned.customer.code}"' in html
    assert f'href="/documents/customers/{dunned.customer.code}/statement/pdf/"' in html
