"""The customer portal in a real browser, as ACME's admin, finance and developer use it, in
Chinese and in English: the overview, usage (grouping switched, CSV downloaded), the bills,
one bill (dispute without a note, then confirm), the invoices (a request on the bill, which
is fully invoiced already, refused beside the bill field) and
the invoice titles — every figure checked against the API's answer for the same data.

With ``PORTAL_SCREENSHOTS=1`` the walk also writes the README tour's pictures
(docs/screenshots/portal-*-zh.png and -en.png).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import playwright.sync_api as playwright_sync
import pytest

from billing.models import Bill
from common.admin_display import money_text
from invoices.models import InvoiceRequest
from tests.browser.helpers import portal_sign_in, switch_language
from tests.portal.conftest import (  # noqa: F401 - fixtures
    PASSWORD,
    acme_bill,
    acme_budget,
    acme_invoice,
    acme_key,
    acme_title,
    acme_usage,
    acme_world,
    dora,
    gpt4o,
)

pytestmark = [pytest.mark.browser]
expect = playwright_sync.expect

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WORDS = {
    "zh-hans": {
        "confirmed": "对账单已确认",
        "note_needed": "请说明问题所在",
        "fully_invoiced": "已全部开票，没有可开票的金额",
        "forbidden": "无权访问",
    },
    "en": {
        "confirmed": "the statement is confirmed",
        "note_needed": "Say what is wrong",
        "fully_invoiced": "is fully invoiced: nothing is left to invoice",
        "forbidden": "Not allowed",
    },
}


def shot(page, name: str, language: str) -> None:
    if os.environ.get("PORTAL_SCREENSHOTS") != "1":
        return
    from docs.screenshots import save_png

    save_png(page.screenshot(full_page=True, type="png"), SHOTS / f"portal-{name}-{language[:2]}.png")


@pytest.fixture
def world(transactional_db, acme_world, dora, bob):  # noqa: F811
    return acme_world


def _open(page, base: str, language: str, username: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    portal_sign_in(page, base, username, PASSWORD)
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_customer_admin_walks_the_portal(page, live_server, world, alice, alice_client, language, tmp_path):
    words = WORDS[language]
    base = live_server.url
    bill = world["bill"]
    _open(page, base, language, "alice")

    # Overview: month to date, the usage summary API's total (the period's one figure).
    expect(page).to_have_url(f"{base}/portal/")
    summary = alice_client.get("/api/v1/usage-summary/").json()
    mtd = Decimal(summary["total"])
    expect(page.locator("#mtd-spend")).to_have_text(money_text(mtd))
    expect(page.locator(f"#budget-{world['budget'].pk} svg.chart")).to_be_visible()
    expect(page.locator("#daily-chart svg")).to_be_visible()
    shot(page, "home", language)

    # Usage: October by model, then by project; the CSV is the API's.
    page.goto(f"{base}/portal/usage/?period=2026-10")
    october = alice_client.get("/api/v1/usage-summary/", {"period": "2026-10"}).json()
    for row in october["rows"]:
        expect(page.locator(f'#usage-table tr[data-key="{row["key"]}"] td.cost')).to_contain_text(
            money_text(Decimal(row["cost"]))
        )
    shot(page, "usage", language)
    page.select_option("#id_group_by", "project")
    with page.expect_navigation():
        page.click("#usage-filters [type=submit]")
    by_project = alice_client.get("/api/v1/usage-summary/", {"period": "2026-10", "group_by": "project"}).json()
    expect(page.locator("#usage-table tbody tr")).to_have_count(len(by_project["rows"]))
    for row in by_project["rows"]:
        expect(page.locator(f'#usage-table tr[data-key="{row["key"]}"] td.cost')).to_contain_text(
            money_text(Decimal(row["cost"]))
        )
    with page.expect_download() as download:
        page.click("#export-csv")
    saved = tmp_path / "usage.csv"
    download.value.save_as(saved)
    api_csv = alice_client.get(
        "/api/v1/usage-summary/", {"period": "2026-10", "group_by": "project", "format": "csv", "project": ""}
    )
    assert saved.read_bytes() == api_csv.content

    # Bills → the bill: figures as the bill API's; a dispute needs a note; then confirm.
    page.click("nav.sections a[href='/portal/bills/']")
    api_bill = alice_client.get(f"/api/v1/bills/{bill.number}/").json()
    row = page.locator(f'#bills-table tr[data-number="{bill.number}"]')
    expect(row.locator("td.total")).to_have_text(money_text(Decimal(api_bill["total"])))
    expect(row.locator("td.balance")).to_have_text(money_text(Decimal(api_bill["balance"])))
    shot(page, "bills", language)
    with page.expect_navigation():
        row.locator("a").first.click()
    expect(page.locator("#bill-total")).to_contain_text(money_text(Decimal(api_bill["total"])))
    expect(page.locator("#bank-account")).to_contain_text(bill.seller["bank_account"])
    shot(page, "bill", language)
    with page.expect_navigation():
        page.click("#dispute-button")
    expect(page.locator("#note-errors")).to_contain_text(words["note_needed"])
    with page.expect_navigation():
        page.click("#confirm-button")
    expect(page.locator(".messages")).to_contain_text(words["confirmed"])
    assert alice_client.get(f"/api/v1/bills/{bill.number}/").json()["confirmation"] == "confirmed"

    # Invoices: the list as the invoice API's; an invoice request for the bill, invoiced in
    # full already, is refused beside the bill (the API's 409) and nothing is asked.
    with page.expect_navigation():
        page.click("#request-invoice")
    (api_invoice,) = alice_client.get("/api/v1/invoices/").json()
    invoice_row = page.locator(f'#invoices-table tr[data-number="{api_invoice["number"]}"]')
    expect(invoice_row.locator("td.total")).to_have_text(money_text(Decimal(api_invoice["total"])))
    expect(page.locator("#id_bill")).to_have_value(bill.number)
    shot(page, "invoices", language)
    page.select_option("#id_invoice_type", "ordinary")
    page.fill("#id_note", "portal")
    with page.expect_navigation():
        page.click("#invoice-request-form [type=submit]")
    expect(page.locator("#bill-errors")).to_contain_text(f"{bill.number} {words['fully_invoiced']}")
    assert not InvoiceRequest.objects.filter(bill=bill).exists()

    # Invoice titles: the default one is marked.
    page.click("nav.sections a[href='/portal/invoice-titles/']")
    expect(page.locator(f'#titles-table tr[data-pk="{world["title"].pk}"] #default-title')).to_be_visible()

    # The header's switcher changes the language of the same page.
    other = "en" if language == "zh-hans" else "zh-hans"
    switch_language(page, other)
    expect(page).to_have_url(f"{base}/portal/invoice-titles/")


def test_the_customers_finance_user_disputes_a_bill(page, live_server, world):
    base = live_server.url
    bill = world["bill"]
    _open(page, base, "zh-hans", "dora")

    page.goto(f"{base}/portal/bills/{bill.number}/")
    page.fill("#id_note", "十月用量与我方记录不符")
    with page.expect_navigation():
        page.click("#dispute-button")

    expect(page.locator("#confirmation-state")).to_contain_text("十月用量与我方记录不符")
    bill.refresh_from_db()
    assert bill.confirmation == Bill.Confirmation.DISPUTED


def test_the_developer_reads_usage_but_not_bills(page, live_server, world):
    base = live_server.url
    _open(page, base, "en", "bob")

    expect(page.locator("nav.sections a[href='/portal/usage/']")).to_be_visible()
    expect(page.locator("nav.sections a[href='/portal/bills/']")).to_have_count(0)
    page.goto(f"{base}/portal/usage/?period=2026-10")
    expect(page.locator("#usage-table")).to_be_visible()
    answer = page.goto(f"{base}/portal/bills/")
    assert answer.status == 403
    expect(page.locator("h1")).to_have_text(WORDS["en"]["forbidden"])
