"""Collections in a real browser, in Chinese: ACME's admin opens the statement of account
(对账函) from the portal's menu — its figures the API's —, fetches its PDF with the page's own
session, then answers finance in the dispute thread of a bill whose dunning has sent a
催款函, which the bill page lists."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import playwright.sync_api as playwright_sync
import pytest

from billing.bills import disputes, lifecycle
from billing.bills.dunning import dunning_run
from billing.models import DisputeMessage
from common.admin_display import money_text
from tests.billing.test_bill_pdf import pdf_text
from tests.browser.helpers import portal_sign_in
from tests.portal.conftest import (  # noqa: F401 - fixtures
    PASSWORD,
    acme_bill,
    acme_budget,
    acme_invoice,
    acme_key,
    acme_title,
    acme_usage,
    acme_world,
    gpt4o,
)

pytestmark = [pytest.mark.browser]
expect = playwright_sync.expect


@pytest.fixture
def world(transactional_db, acme_world, alice, finance_user):  # noqa: F811
    bill = acme_world["bill"]
    dunning_run(today=bill.due_on + timedelta(days=15))  # the first 催款函
    lifecycle.bill_confirm(bill=bill, confirmed=False, note="十月 claude-x 用量与我方日志不符", actor=alice)
    disputes.dispute_reply(bill=bill, text="请提供贵方日志的导出文件", actor=finance_user)
    return acme_world


def test_the_customer_reads_the_statement_and_answers_the_dispute_in_chinese(page, live_server, world, alice_client):
    base = live_server.url
    bill = world["bill"]
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": base}])
    portal_sign_in(page, base, "alice", PASSWORD)

    # The statement of account, from the menu: this month's, as the API answers it.
    with page.expect_navigation():
        page.click("nav.sections a[href='/portal/statement/']")
    expect(page.locator("h1")).to_have_text("对账函")
    page.fill("#id_from", "2026-10-01")
    page.fill("#id_to", "2026-11-30")
    with page.expect_navigation():
        page.click("#statement-filters [type=submit]")
    api = alice_client.get("/api/v1/customers/ACME/statement/", {"from": "2026-10-01", "to": "2026-11-30"}).json()
    assert api["entries"], api
    expect(page.locator("#statement-closing")).to_have_text(money_text(Decimal(api["closing_balance"])))
    expect(page.locator(f'#statement-table tr.entry[data-number="{bill.number}"]')).to_contain_text("账单")
    href = page.locator("#statement-pdf").get_attribute("href")
    pdf = page.context.request.get(base + href)  # the page's own session
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.body())
    assert "对账函" in "".join(text.split()) and bill.number in text and "对账确认回执" in text

    # The bill: its 催款函 and the dispute thread; the customer answers finance.
    page.goto(f"{base}/portal/bills/{bill.number}/")
    expect(page.locator("#bill-notices")).to_contain_text("CS-2026-0001")
    expect(page.locator("#dunning-paused")).to_be_visible()
    expect(page.locator("#dispute-thread li.message")).to_have_count(2)
    expect(page.locator("#dispute-thread li.finance")).to_contain_text("请提供贵方日志的导出文件")
    page.fill("#id_text", "导出文件已发到 finance@example.cn")
    with page.expect_navigation():
        page.click("#dispute-reply-button")
    expect(page.locator(".messages")).to_contain_text("您的回复已发送给我方财务")
    expect(page.locator("#dispute-thread li.message")).to_have_count(3)
    expect(page.locator("#dispute-thread li.message").last).to_contain_text("导出文件已发到 finance@example.cn")
    assert DisputeMessage.objects.filter(bill=bill, side="customer").count() == 2
