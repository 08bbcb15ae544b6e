"""Screenshots of the portal's keys, budgets, alerts and users pages for README's tour.

    .venv/bin/python -m docs.screenshots_portal_manage [--base-url http://127.0.0.1:8000]

Against a server with the demo data (``make run``), as ACME's portal administrator, in
Chinese and in English: ``portal-keys-{zh,en}.png`` is the page that shows a new key's
secret once (the key, named "README tour", is revoked right after), then the budgets, the
alerts feed and the users. Written to docs/screenshots/ with docs.screenshots' PNG rules.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from docs.screenshots import CHROMIUM, CHROMIUM_ARGS, OUT_DIR, TIMEOUT_MS, VIEWPORT, save_png, say
from procurement.demo import DEMO_LOGINS

LANGUAGES = {"zh": "zh-hans", "en": "en"}


def shoot(page, base: str, out: Path, suffix: str) -> None:
    def shot(name: str) -> None:
        save_png(page.screenshot(full_page=True, type="png"), out / f"portal-{name}-{suffix}.png")

    page.goto(f"{base}/portal/keys/")
    page.select_option("#id_project", index=0)
    page.fill("#id_name", "README tour")
    with page.expect_navigation():
        page.click("#key-form [type=submit]")
    key_id = page.locator("#key-id").inner_text()
    shot("keys")
    page.goto(f"{base}/portal/keys/{key_id}/revoke/")
    with page.expect_navigation():
        page.click("#confirm-revoke")
    for name in ("budgets", "alerts", "users"):
        page.goto(f"{base}/portal/{name}/", wait_until="networkidle")
        shot(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docs.screenshots_portal_manage")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    base = args.base_url.rstrip("/")
    username, password = next((u, p) for u, p, _who in DEMO_LOGINS if u == "acme-admin")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", device_scale_factor=1)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            page.goto(f"{base}/portal/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", password)
            with page.expect_navigation():
                page.click("#login-form [type=submit]")
            for suffix, code in LANGUAGES.items():
                button = page.locator(f"#language-form button[value='{code}']")
                if button.is_enabled():
                    with page.expect_navigation():
                        button.click()
                shoot(page, base, args.out, suffix)
        finally:
            browser.close()
    say("portal pages done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
