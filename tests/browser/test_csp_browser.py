"""The Content-Security-Policy does not break the pages: the admin (with its widgets),
Swagger UI and the portal work in a real browser with no policy violation reported."""

from __future__ import annotations

import playwright.sync_api as playwright_sync
import pytest

from tests.browser.helpers import PASSWORD, sign_in

pytestmark = [pytest.mark.browser]

# Runs before any page script, outside the page's CSP (an init script of the browser).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def violations(page) -> list[str]:
    return page.evaluate("window.__csp")


def test_pages_work_under_the_policy(page, live_server, transactional_db, django_user_model, acme_bill):
    expect = playwright_sync.expect
    page.context.add_init_script(RECORD_VIOLATIONS)
    django_user_model.objects.create_superuser("root", "root@example.cn", PASSWORD)

    response = page.goto(f"{live_server.url}/portal/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#login-form")).to_be_visible()
    assert violations(page) == []

    sign_in(page, live_server.url, "root")
    assert violations(page) == []

    # A change form with the admin's JavaScript widgets (date pickers, inlines, the
    # collapsible fieldsets): the calendar opens, so the scripts ran.
    page.goto(f"{live_server.url}/admin/customers/contract/{acme_bill.customer.contracts.first().pk}/change/")
    page.locator(".datetimeshortcuts a[id^=calendarlink]").first.click()
    expect(page.locator(".calendarbox").first).to_be_visible()
    assert violations(page) == []

    # Swagger UI renders the schema from its split start-up script.
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Procurement Center API")
    assert violations(page) == []
