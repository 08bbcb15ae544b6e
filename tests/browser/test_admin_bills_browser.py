"""The bill admin at 1280 × 800 in Chromium: the list shows total, paid, balance, due date
and PDF without scrolling sideways; the bill page records a payment and issues the invoice
from its own buttons; the payment form's picker offers open bills with their customer and
balance; the header links the staff pages, and "view site" leads there, not back here."""

from __future__ import annotations

import playwright.sync_api as playwright_sync
import pytest

from billing.models import Payment
from invoices.models import Invoice
from tests.browser.helpers import PASSWORD, sign_in
from tests.browser.test_held_draft_browser import held_draft_of
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser]
expect = playwright_sync.expect


@pytest.fixture
def held_draft(other_project, seller):
    """Another customer's October bill, held in draft (ACME's October bill is issued)."""
    return held_draft_of(other_project)


def header_right_edge(page, text: str) -> float:
    box = page.locator("#result_list thead th", has_text=text).first.bounding_box()
    assert box is not None, text
    return box["x"] + box["width"]


def test_the_bill_list_shows_its_money_and_pdf_at_1280_px(page, live_server, transactional_db, acme_bill, held_draft):
    UserFactory(username="fiona", password=PASSWORD, is_staff=True, groups=["finance"])
    sign_in(page, live_server.url, "fiona")
    page.goto(f"{live_server.url}/admin/billing/bill/")
    assert page.viewport_size["width"] == 1280
    for header in ("合计", "已付金额", "余额", "到期日", "PDF"):
        assert header_right_edge(page, header) <= 1280, header
    row = page.locator("#result_list tr", has_text=acme_bill.number)
    expect(row.locator("a", has_text="打开")).to_be_visible()
    assert row.locator("a", has_text="打开").bounding_box()["x"] < 1280


def test_the_bill_page_records_a_payment_and_issues_the_invoice(
    page, live_server, transactional_db, acme_bill, held_draft
):
    UserFactory(username="fiona", password=PASSWORD, is_staff=True, groups=["finance"])
    base = live_server.url
    sign_in(page, base, "fiona")

    # The header links the workspace and the presales pages; "view site" is the workspace.
    expect(page.locator("#user-tools a.staff-link", has_text="财务工作台")).to_have_attribute("href", "/staff/")
    expect(page.locator("#user-tools a.staff-link", has_text="售前")).to_have_attribute("href", "/staff/presales/")
    with page.expect_navigation():
        page.locator("#user-tools a", has_text="查看站点").click()
    expect(page).to_have_url(f"{base}/staff/")

    # A draft has neither button.
    page.goto(f"{base}/admin/billing/bill/{held_draft.pk}/change/")
    expect(page.locator("#record-payment")).to_have_count(0)
    expect(page.locator("#issue-invoice")).to_have_count(0)

    page.goto(f"{base}/admin/billing/bill/{acme_bill.pk}/change/")
    with page.expect_navigation():
        page.click("#record-payment")
    # The payment form arrives with the bill chosen; its picker offers open bills only.
    expect(page.locator(".field-bill .select2-selection")).to_contain_text(acme_bill.number)
    page.click(".field-bill .select2-selection")
    page.fill(".select2-search__field", "ACME")
    options = page.locator(".select2-results__option")
    expect(options.first).to_contain_text(acme_bill.number)
    expect(options.first).to_contain_text("上海阿克米")
    expect(options.first).to_contain_text(f"余额 ¥{acme_bill.balance.amount:,.2f}")
    expect(options).to_have_count(1)  # not the held draft
    page.keyboard.press("Escape")
    page.fill("#id_amount_value", "100.00")
    page.fill("#id_received_on", "2026-11-04")
    page.fill("#id_reference", "CMB-20261104-777")
    page.fill("#id_payer_name", acme_bill.customer.name)
    with page.expect_navigation():
        page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("成功添加")
    assert Payment.objects.get(reference="CMB-20261104-777").bill_id == acme_bill.pk

    page.goto(f"{base}/admin/billing/bill/{acme_bill.pk}/change/")
    with page.expect_navigation():
        page.click("#issue-invoice")
    expect(page.locator("#action-objects")).to_contain_text(acme_bill.number)
    page.select_option("#id_invoice_type", "special")
    with page.expect_navigation():
        page.click("#action-confirmation-form input[type=submit]")
    blue = Invoice.objects.get(bill=acme_bill, color=Invoice.Color.BLUE)
    expect(page.locator(".messagelist")).to_contain_text(blue.number)
