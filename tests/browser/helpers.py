"""Helpers for the browser tests (Playwright driving Debian's Chromium)."""

from __future__ import annotations

import playwright.sync_api as playwright_sync

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 15_000
PASSWORD = "browser-test-pw-2026"


def switch_language(page, code: str) -> None:
    with page.expect_navigation():
        page.locator(f"#language-form button[value='{code}']").click()
    playwright_sync.expect(page.locator("html")).to_have_attribute("lang", code)


def sign_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("#login-form [type=submit]")


def portal_sign_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the portal's own login form (``/portal/login/``)."""
    page.goto(f"{base_url}/portal/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("#login-form [type=submit]")
