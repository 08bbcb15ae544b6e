"""The finance workspace in a real browser: a clerk signs in, reads the dashboard in
Chinese and in English, and uploads a provider's costs export on the reconciliation page,
which then shows the margin the export implies (no script on these pages: CSP-clean)."""

from __future__ import annotations

from pathlib import Path

import playwright.sync_api as playwright_sync
import pytest

from tests.billing.close_helpers import truncate_usage_records
from tests.browser.helpers import PASSWORD, sign_in, switch_language
from tests.factories import UserFactory
from tests.workspace.helpers import november_usage, openai_costs

pytestmark = [pytest.mark.browser]
expect = playwright_sync.expect


@pytest.fixture
def november(transactional_db):
    truncate_usage_records()
    november_usage()
    yield
    truncate_usage_records()


def test_a_clerk_reads_the_dashboard_and_reconciles_an_upload(page, live_server, november, tmp_path: Path):
    UserFactory(username="fiona", password=PASSWORD, is_staff=True, groups=["finance"])
    base = live_server.url
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)

    # Signed out, /staff/ asks to sign in at the admin's login (the staff audience's).
    page.goto(f"{base}/staff/")
    expect(page).to_have_url(f"{base}/admin/login/?next=/staff/")
    sign_in(page, base, "fiona")
    page.goto(f"{base}/staff/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_contain_text("财务概览")
    expect(page.locator("#revenue svg")).to_be_visible()
    expect(page.locator("#revenue td[data-period='2026-11']")).to_have_text("¥132.42")
    expect(page.locator("#aging")).to_contain_text("应收账款账龄")
    expect(page.locator("#aging tr[data-customer='BEIDOU'] .total")).to_have_text("¥79.02")  # 74.55 + 6 % VAT

    switch_language(page, "en")
    expect(page.locator("h1")).to_contain_text("Finance dashboard")
    expect(page.locator("#held")).to_contain_text("No draft is held.")
    page.click("#nav-reconciliation")
    expect(page.locator("h1")).to_contain_text("Provider cost and margin")

    # Upload the Costs API answer for November: gpt-4o $9 on the 10th.
    export = tmp_path / "openai-costs-2026-11.json"
    export.write_bytes(
        openai_costs((10, "gpt-4o-2024-08-06, input", "6.0"), (10, "gpt-4o-2024-08-06, output", "3.0"), (10, "", "1"))
    )
    page.goto(f"{base}/staff/reconciliation/?period=2026-11")
    page.select_option("#id_provider", "openai")
    page.set_input_files("#id_file", str(export))
    with page.expect_navigation():
        page.click("#upload-submit")
    expect(page.locator("ul.messages")).to_contain_text("1 day × model rows imported, 1 rows not read")
    expect(page.locator("#import-errors")).to_contain_text("line_item")
    gpt = page.locator("#models tr[data-model='openai/gpt-4o']")
    expect(gpt.locator(".cost")).to_have_text("¥63.90")  # $9 × 7.1
    expect(gpt.locator(".revenue")).to_have_text("¥99.40")
    expect(gpt.locator(".margin")).to_have_text("¥35.50")
    expect(gpt.locator(".margin-percent")).to_have_text("35.71 %")
    expect(page.locator("#customers tr[data-row='ACME/openai/gpt-4o'] .cost")).to_have_text("¥15.98")

    switch_language(page, "zh-hans")
    expect(page.locator("#customers")).to_contain_text("各客户、各模型的毛利")

    # One staff shell: presales is a section of it, and signing out ends the staff session.
    page.click("#nav-presales")
    expect(page).to_have_url(f"{base}/staff/presales/")
    expect(page.locator("#nav-presales")).to_have_attribute("aria-current", "page")
    expect(page.locator("#nav-admin")).to_have_attribute("href", "/admin/")
    with page.expect_navigation():
        page.click("#sign-out")
    page.goto(f"{base}/staff/")
    expect(page).to_have_url(f"{base}/admin/login/?next=/staff/")
    assert violations == []
