"""A finance clerk opens and downloads a bill's and an invoice's PDF from the admin, in
Chinese and in English, through the signed-in document views (a real Chromium).

Nothing travels in time here: the browser's clock is the machine's, and a session made
under a moved clock would look expired to it. The bill is last month's, closed today.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import playwright.sync_api as playwright_sync
import pytest
from django.utils import timezone

from tests.browser.test_admin_browser import (  # noqa: F401 - fixtures
    PASSWORD,
    _chromium_installed,
    allow_orm_beside_playwright,
    browser,
    page,
    switch_language,
)

pytestmark = [pytest.mark.browser]


@pytest.fixture
def documents(transactional_db, settings, tmp_path, acme):
    from billing.periods import business_day, previous_period
    from invoices.services import invoice_issue
    from tests.factories import UserFactory
    from tests.invoices.helpers import commitment_bill, seller_profile

    settings.MEDIA_ROOT = tmp_path / "media"
    seller_profile()
    bill = commitment_bill(acme, Decimal("11646.86"), period=previous_period(), today=business_day(timezone.now()))
    (invoice,) = invoice_issue(bill=bill)
    UserFactory(username="clerk", is_staff=True, groups=["finance"], password=PASSWORD)
    return bill, invoice


def download(tab, link) -> tuple[str, bytes]:
    with tab.expect_download() as info:
        link.click()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def test_a_clerk_opens_and_downloads_both_pdfs_from_the_admin(page, live_server, documents):  # noqa: F811
    bill, invoice = documents
    expect = playwright_sync.expect
    page.goto(f"{live_server.url}/admin/login/?next=/admin/billing/bill/")
    page.fill("#id_username", "clerk")
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    expect(page).to_have_url(f"{live_server.url}/admin/billing/bill/")

    for language, (open_word, download_word) in (("zh-hans", ("打开", "下载")), ("en", ("open", "download"))):
        if language == "en":
            switch_language(page, "en")
        for changelist, number in (("/admin/billing/bill/", bill.number), ("/admin/invoices/invoice/", invoice.number)):
            page.goto(f"{live_server.url}{changelist}")
            row = page.locator("#result_list tbody tr", has_text=number)
            opened = row.get_by_role("link", name=open_word, exact=True)
            expect(opened).to_have_attribute("target", "_blank")
            response = page.context.request.get(f"{live_server.url}{opened.get_attribute('href')}")
            assert response.status == 200
            assert response.headers["content-type"] == "application/pdf"
            assert response.body().startswith(b"%PDF-")

            name, content = download(page, row.get_by_role("link", name=download_word, exact=True))
            assert name == f"{number}.pdf"
            assert content.startswith(b"%PDF-")
