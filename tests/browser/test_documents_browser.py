"""A finance clerk opens and downloads a bill's and an invoice's PDF from the admin lists, in
Chinese and in English, through the signed-in document views (a real Chromium)."""

from __future__ import annotations

from pathlib import Path

import playwright.sync_api as playwright_sync
import pytest

from tests.browser.helpers import PASSWORD, sign_in, switch_language
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser]
expect = playwright_sync.expect


def download(page, link) -> tuple[str, bytes]:
    with page.expect_download() as info:
        link.click()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def test_a_clerk_opens_and_downloads_both_pdfs_from_the_admin(page, live_server, transactional_db, acme_bill):
    from invoices.services import invoice_issue

    (invoice,) = invoice_issue(bill=acme_bill)
    UserFactory(username="clerk", is_staff=True, groups=["finance"], password=PASSWORD)
    base = live_server.url
    sign_in(page, base, "clerk")

    for language, (open_word, download_word) in (("zh-hans", ("打开", "下载")), ("en", ("open", "download"))):
        if language == "en":
            switch_language(page, "en")
        for changelist, number in (
            ("/admin/billing/bill/", acme_bill.number),
            ("/admin/invoices/invoice/", invoice.number),
        ):
            page.goto(f"{base}{changelist}")
            row = page.locator("#result_list tbody tr", has_text=number)
            opened = row.get_by_role("link", name=open_word, exact=True)
            expect(opened).to_have_attribute("target", "_blank")
            response = page.context.request.get(f"{base}{opened.get_attribute('href')}")
            assert response.status == 200
            assert response.headers["content-type"] == "application/pdf"
            assert response.body().startswith(b"%PDF-")

            name, content = download(page, row.get_by_role("link", name=download_word, exact=True))
            assert name == f"{number}.pdf"
            assert content.startswith(b"%PDF-")
