"""Who walks README's "A tour", and where: each demo audience signs in as it does (staff at
the admin's login, customers at the portal's), then reads the tour's pages and every page
of its shell the navigation and the pages' own links lead to (tests.browser.language_walk)."""

from __future__ import annotations

from procurement.demo import DEMO_LOGINS
from tests.browser.language_walk import Walk

DEMO_PASSWORDS = {username: password for username, password, _who in DEMO_LOGINS}

# The tour's admin pages (README "A tour") a finance clerk opens.
ADMIN_TOUR = [
    "/admin/",
    "/admin/customers/customer/",
    "/admin/billing/bill/",
    "/admin/billing/bill/aging/",
    "/admin/billing/payment/add/",
    "/admin/invoices/invoice/",
    "/admin/billing/priceversion/",
    "/admin/billing/alert/",
    "/admin/billing/budget/",
    "/admin/billing/usagerollup/",
]
# The admin's pages of the tour and what their own links open (not the whole admin: the audit
# log and the schedules show stored codes as they are).
ADMIN_CONTENT = "#content-main, .object-tools"
STAFF = {
    "/staff/": "body",
    **dict.fromkeys(
        ("/admin/customers/customer/", "/admin/billing/", "/admin/invoices/invoice/", "/admin/banking/"), ADMIN_CONTENT
    ),
}
AUDIENCES = {
    # username: (sign-in page, start pages, link scopes: URL prefix → where its links are taken)
    "finance": ("/admin/login/", ["/staff/", "/staff/presales/", *ADMIN_TOUR], STAFF),
    "presales": ("/admin/login/", ["/staff/presales/", "/admin/"], STAFF),
    "acme-admin": ("/portal/login/", ["/portal/"], {"/portal/": "body"}),
}


def walk_as(page, base: str, username: str, password: str, language: str, allowed: set[str], limit: int = 90) -> Walk:
    sign_in, starts, scopes = AUDIENCES[username]
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    walk = Walk(language, allowed)
    walk.read(page, base + sign_in)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("#login-form [type=submit]")
    walk.crawl(page, base, starts, scopes, limit=limit)
    return walk
