"""Every URL of the portal, walked with alice (ACME admin), bob (ACME developer) and charlie
(admin of another customer), using ACME's objects for the URL's arguments.

The URLs come from the resolver, so a page added later is swept too; a URL whose arguments
the sweep cannot build fails the test (add its kwarg to ``ACME_ARGUMENTS``), a view
without ``portal_roles`` (set by ``portal_view``) must be one of the public sign-in pages,
and every page has its exact answer for each role in ``EXPECTED`` (a page missing there
fails the sweep: say what it answers).
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from billing.models import DunningNotice

pytestmark = pytest.mark.django_db

# The sign-in pages: open to everyone, no customer's object behind them.
PUBLIC = {
    "login",
    "logout",
    "password-reset",
    "password-reset-done",
    "password-reset-confirm",
    "password-reset-complete",
    "invitation",
}


# name → (method, alice's status, bob's status). A POST-only view is sent an empty form: it
# answers 400 (a confirmation without its choice), the form again with its errors (200), or
# does its work and redirects (302). Bob, a developer, is refused (403) every page whose
# roles leave developers out.
EXPECTED = {
    "home": ("GET", 200, 200),
    "usage": ("GET", 200, 200),
    "usage-export-csv": ("GET", 200, 200),
    "usage-export-xlsx": ("GET", 200, 200),
    "usage-records-csv": ("GET", 200, 200),
    "bills": ("GET", 200, 403),
    "bill": ("GET", 200, 403),
    "bill-pdf": ("GET", 200, 403),
    "bill-confirm": ("POST", 400, 403),
    "bill-dispute": ("POST", 400, 403),
    "bill-notice-pdf": ("GET", 200, 403),
    "bill-line-records-csv": ("GET", 200, 403),
    "statement": ("GET", 200, 403),
    "statement-pdf": ("GET", 200, 403),
    "invoices": ("GET", 200, 403),
    "invoice-pdf": ("GET", 200, 403),
    "invoice-titles": ("GET", 200, 403),
    "invoice-title-add": ("GET", 200, 403),
    "invoice-title-edit": ("GET", 200, 403),
    "invoice-requests": ("POST", 400, 403),
    "keys": ("GET", 200, 200),
    "key-revoke": ("GET", 200, 403),
    "budgets": ("GET", 200, 200),
    "budget-edit": ("GET", 200, 403),
    "budget-test": ("POST", 302, 403),
    "alerts": ("GET", 200, 200),
    "users": ("GET", 200, 403),
    "user-role": ("POST", 200, 403),
    "user-active": ("POST", 200, 403),
}
# Where a redirect goes (every other expected status is a page, not a redirect).
REDIRECTS = {"budget-test": "/portal/budgets/"}


def portal_patterns() -> list[URLPattern]:
    (portal,) = [p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and p.namespace == "portal"]
    return [p for p in portal.url_patterns if isinstance(p, URLPattern)]


def _kwargs(pattern: URLPattern) -> list[str]:
    return list(pattern.pattern.converters) or re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern))


@pytest.fixture
def acme_arguments(acme_world, acme_key, bob):
    """(first path segment, kwarg) → the value of one of ACME's objects."""
    alert = acme_world["budget"].alerts.order_by("pk").first()
    bill = acme_world["bill"]
    letter = DunningNotice.objects.create(
        bill=bill, stage="demand_15", number="CS-2026-0001", on_day=bill.due_on, days_overdue=15, balance=bill.balance
    )
    return {
        ("bills", "number"): bill.number,
        ("bills", "notice"): letter.number,
        ("bills", "position"): 0,
        ("invoices", "number"): acme_world["invoice"].number,
        ("invoice-titles", "pk"): acme_world["title"].pk,
        ("keys", "key_id"): acme_key.key_id,
        ("budgets", "pk"): acme_world["budget"].pk,
        ("alerts", "pk"): alert.pk,
        ("users", "pk"): bob.portal.pk,
        ("password-reset", "uidb64"): "MQ",
        ("password-reset", "token"): "set-password",
        ("invitation", "uidb64"): "MQ",
        ("invitation", "token"): "set-password",
    }


def _url(pattern: URLPattern, arguments: dict) -> str:
    names = _kwargs(pattern)
    segment = str(pattern.pattern).split("/", 1)[0]
    missing = [name for name in names if (segment, name) not in arguments]
    if missing:
        pytest.fail(f"the sweep cannot build {pattern.name!r}: add {[(segment, m) for m in missing]} to ACME_ARGUMENTS")
    return reverse(f"portal:{pattern.name}", kwargs={name: arguments[(segment, name)] for name in names})


def _roles(pattern: URLPattern):
    return getattr(pattern.callback, "portal_roles", None)


def _visit(client, url: str):
    """GET; a POST-only view (405 to GET) is sent an empty POST instead, as its form would."""
    answer = client.get(url)
    if answer.status_code == 405:
        return "POST", client.post(url, {})
    return "GET", answer


def test_it_knows_every_portal_view(acme_arguments):
    for pattern in portal_patterns():
        _url(pattern, acme_arguments)
        if _roles(pattern) is None:
            assert pattern.name in PUBLIC, f"{pattern.name} is not wrapped in portal_view"
    assert {p.name for p in portal_patterns()} - PUBLIC == set(EXPECTED)


def test_the_expected_answers_follow_the_roles():
    """Bob's column is what the view's roles say: 403 exactly where developers are left out."""
    for pattern in portal_patterns():
        if pattern.name in PUBLIC:
            continue
        _method, _alice, bob = EXPECTED[pattern.name]
        assert (bob == 403) == ("developer" not in _roles(pattern)), pattern.name


def _sweep(client, user, acme_arguments, column: int) -> None:
    client.force_login(user)
    for pattern in portal_patterns():
        if pattern.name in PUBLIC:
            continue
        url = _url(pattern, acme_arguments)
        method, answer = _visit(client, url)
        expected = EXPECTED[pattern.name]
        assert (method, answer.status_code) == (expected[0], expected[column]), url
        if answer.status_code == 302:
            assert answer["Location"] == REDIRECTS[pattern.name], url
        client.force_login(user)  # a sweep of logout-like actions must not end the walk


def test_it_serves_alice_every_page(client, alice, acme_arguments):
    _sweep(client, alice, acme_arguments, 1)


def test_it_refuses_bob_what_a_developer_may_not_see(client, bob, acme_arguments):
    _sweep(client, bob, acme_arguments, 2)


def test_it_answers_charlie_404_for_every_acme_object(client, charlie, acme_arguments):
    client.force_login(charlie)
    swept = 0
    for pattern in portal_patterns():
        if pattern.name in PUBLIC or not _kwargs(pattern):
            continue
        url = _url(pattern, acme_arguments)
        _method, answer = _visit(client, url)
        assert answer.status_code == 404, (url, answer.status_code)
        swept += 1
    assert swept >= 5


def test_it_sends_signed_out_visitors_to_the_login(client, acme_arguments):
    for pattern in portal_patterns():
        if pattern.name in PUBLIC:
            continue
        url = _url(pattern, acme_arguments)
        _method, answer = _visit(client, url)
        assert answer.status_code == 302, (url, answer.status_code)
        assert answer["Location"].startswith("/portal/login/?next="), url
