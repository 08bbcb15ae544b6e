"""Browser tests: Debian's Chromium (/usr/bin/chromium) driven by Playwright against
pytest-django's live server, as back-office and portal users use the pages."""

from __future__ import annotations

import os
import shutil

import playwright.sync_api as playwright_sync
import pytest

from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS

# ACME's issued October bill and the seller (tests/invoices/conftest.py); every browser test
# runs on 5 November 2026 in Shanghai, with PDFs written to a temporary MEDIA_ROOT.
from tests.invoices.conftest import _media, _november, acme_bill, seller  # noqa: F401


@pytest.fixture(autouse=True, scope="module")
def _chromium_installed():
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is not installed: run make install (it installs Debian's chromium)")


@pytest.fixture(scope="module", autouse=True)
def allow_orm_beside_playwright():
    """Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls
    from a thread with a running loop; here they are plain sync calls, so allow them for this
    module (module scope: set before the database fixtures, unset after their flush)."""
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if before is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="module")
def browser(allow_orm_beside_playwright):
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    # A Chinese-speaking user's browser, as the back office's users have.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()
