"""A finance clerk's day in the admin, in a real browser, in Chinese and in English: record
a bank transfer against a bill, issue the bill's VAT invoice, reverse it with a red-letter
invoice, and open the bill's and the invoice's PDFs."""

from __future__ import annotations

import re
from decimal import Decimal

import playwright.sync_api as playwright_sync
import pytest

from billing.models import Bill, Payment
from invoices.models import Invoice
from tests.browser.helpers import PASSWORD, sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser]
expect = playwright_sync.expect

WORDS = {
    "zh-hans": {"added": "成功添加", "go": "执行", "issued": "已开具", "reversed": "红冲"},
    "en": {"added": "was added successfully", "go": "Go", "issued": "issued", "reversed": "reversed by"},
}


def choose_action(page, name: str, row_text: str) -> None:
    """Tick the row showing ``row_text`` on a changelist and run the action ``name``."""
    page.locator("#result_list tr", has_text=row_text).locator("input.action-select").check()
    page.select_option("select[name=action]", name)
    with page.expect_navigation():
        page.click("button[name=index]")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_clerk_records_a_payment_then_issues_and_reverses_the_invoice(
    page, live_server, transactional_db, acme_bill, language
):
    UserFactory(username="fiona", password=PASSWORD, is_staff=True, groups=["finance"])
    words = WORDS[language]
    base = live_server.url
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    sign_in(page, base, "fiona")
    expect(page.locator("html")).to_have_attribute("lang", language)

    # 收款 → 增加: the bill is found by its number in the autocomplete.
    page.goto(f"{base}/admin/billing/payment/add/")
    page.click(".field-bill .select2-selection")
    page.fill(".select2-search__field", acme_bill.number)
    page.locator(".select2-results__option", has_text=acme_bill.number).click()
    page.fill("#id_amount_value", "288.59")
    page.fill("#id_received_on", "2026-11-04")
    page.fill("#id_reference", "CMB-20261104-001")
    page.fill("#id_payer_name", acme_bill.customer.name)
    with page.expect_navigation():
        page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text(words["added"])
    payment = Payment.objects.get(reference="CMB-20261104-001")
    assert payment.amount.amount == Decimal("288.59")
    acme_bill.refresh_from_db()
    assert acme_bill.status == Bill.Status.PARTIALLY_PAID

    # The bill list shows the balance; issuing the invoice asks for the type and title.
    page.goto(f"{base}/admin/billing/bill/")
    row = page.locator("#result_list tr", has_text=acme_bill.number)
    balance = acme_bill.total.amount - Decimal("288.59")
    expect(row).to_contain_text(f"¥{balance:,.2f}")
    choose_action(page, "issue_invoice", acme_bill.number)
    expect(page.locator("#action-objects")).to_contain_text(acme_bill.number)
    page.select_option("#id_invoice_type", "special")
    with page.expect_navigation():
        page.click("#action-confirmation-form input[type=submit]")
    blue = Invoice.objects.get(bill=acme_bill, color=Invoice.Color.BLUE)
    expect(page.locator(".messagelist")).to_contain_text(blue.number)

    # Reverse it: the reason is chosen on the confirmation page, beside its field.
    page.goto(f"{base}/admin/invoices/invoice/")
    choose_action(page, "reverse_in_full", blue.number)
    with page.expect_navigation():
        page.click("#action-confirmation-form input[type=submit]")  # no reason yet
    expect(page.locator(".field-reason .errorlist")).to_be_visible()
    page.select_option("#id_reason", "2")
    with page.expect_navigation():
        page.click("#action-confirmation-form input[type=submit]")
    red = Invoice.objects.get(original=blue)
    expect(page.locator(".messagelist")).to_contain_text(red.number)
    expect(page.locator(".messagelist")).to_contain_text(words["reversed"])

    # The invoice page is a read-only document: no save button, amounts as money.
    page.goto(f"{base}/admin/invoices/invoice/{red.pk}/change/")
    expect(page.locator("input[name=_save]")).to_have_count(0)
    expect(page.locator(".field-total_cny")).to_contain_text(re.compile(r"-¥[\d,]+\.\d\d"))
