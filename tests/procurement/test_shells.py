"""One staff shell and one portal shell over one base (issue 24 item 6).

- signed out, each audience goes to its own login with ``next``: staff pages (/staff/,
  /staff/presales/) to the admin's, portal pages to the portal's;
- signed in with the wrong group or role: 403 inside the audience's shell, in the reader's
  language (a refusal raised deeper in a view too);
- staff pages (workspace and presales) render the staff navigation and sign out through the
  admin's logout; presales pages no longer sit in the admin's frame;
- one stylesheet, no inline script or style in either shell (the CSP allows scripts from
  this site only)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/staff/", "/staff/reconciliation/", "/staff/statement/", "/staff/presales/"]
PORTAL_PAGES = ["/portal/", "/portal/usage/", "/portal/bills/", "/portal/users/"]


def signed_in(user, language: str = "zh-hans") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def template_names(response) -> list[str]:
    return [t.name for t in response.templates]


@pytest.mark.parametrize(
    "path", [*STAFF_PAGES, "/staff/presales/estimates/1/", "/staff/bills/BILL-X/dispute/", "/staff/?x=1&y=2"]
)
def test_a_signed_out_visitor_of_a_staff_page_goes_to_the_admin_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")
    assert client.get(response["Location"]).status_code == 200  # the admin's login page answers


def test_the_staff_login_keeps_the_whole_address_to_return_to(client):
    response = client.get("/staff/reconciliation/?period=2026-10")

    assert response["Location"] == "/admin/login/?next=/staff/reconciliation/%3Fperiod%3D2026-10"


@pytest.mark.parametrize("path", [*PORTAL_PAGES, "/portal/usage/?period=2026-10"])
def test_a_signed_out_visitor_of_a_portal_page_goes_to_the_portal_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/portal/login/?next=/portal/")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh-hans", "这些页面仅供财务人员使用"),
        ("en", "These pages are for finance staff."),
    ],
)
def test_a_presales_engineer_on_a_finance_page_gets_403_in_the_staff_shell_in_their_language(
    presales_user, language, text
):
    response = signed_in(presales_user, language).get("/staff/reconciliation/")

    assert response.status_code == 403
    html = response.content.decode()
    assert text in html and 'id="forbidden-message"' in html
    assert "staff/base.html" in template_names(response) and "shell-staff" in html
    # the shell shows what they may open: presales, not the finance pages
    assert 'id="nav-presales"' in html and 'id="nav-dashboard"' not in html


@pytest.mark.parametrize(
    ("language", "text"),
    [("zh-hans", "这些页面供售前和财务人员使用"), ("en", "These pages are for presales and finance staff.")],
)
def test_a_portal_user_on_a_presales_page_gets_403_in_the_staff_shell(alice, language, text):
    response = signed_in(alice, language).get("/staff/presales/")

    assert response.status_code == 403
    html = response.content.decode()
    assert text in html
    assert "staff/forbidden.html" in template_names(response)
    assert 'id="staff-nav"' in html and "<a " not in html.split('id="staff-nav"')[1].split("</nav>")[0]


@pytest.mark.parametrize(
    ("language", "text"),
    [("zh-hans", "您在门户中的角色无权查看此页面"), ("en", "Your role in the portal does not allow")],
)
def test_a_developer_on_an_admins_portal_page_gets_403_in_the_portal_shell(bob, language, text):
    response = signed_in(bob, language).get("/portal/users/")

    assert response.status_code == 403
    html = response.content.decode()
    assert text in html
    assert "portal/base.html" in template_names(response) and "shell-portal" in html
    assert 'id="portal-customer"' in html


def test_a_refusal_raised_inside_a_staff_page_is_answered_in_the_staff_shell(rf, finance_user):
    from django.core.exceptions import PermissionDenied

    from procurement.views import forbidden

    request = rf.get("/staff/presales/proposals/P-1/")
    request.user = finance_user
    request.resolver_match = None
    response = forbidden(request, PermissionDenied("Only presales may do this."))

    assert response.status_code == 403
    assert "Only presales may do this." in response.content.decode()
    assert "shell-staff" in response.content.decode()


def test_a_refusal_outside_the_shells_keeps_the_plain_403_page(rf, finance_user):
    from procurement.views import forbidden

    request = rf.get("/documents/bills/X/pdf/")
    request.user = finance_user
    response = forbidden(request, None)

    assert response.status_code == 403
    assert "shell-" not in response.content.decode()


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_every_staff_page_has_the_staff_navigation_and_signs_out_through_the_admin(finance_user, path):
    response = signed_in(finance_user).get(path)

    assert response.status_code == 200
    html = response.content.decode()
    names = template_names(response)
    assert "staff/base.html" in names and "base.html" in names
    for section in ("dashboard", "reconciliation", "statement", "presales", "admin"):
        assert f'id="nav-{section}"' in html, (path, section)
    assert re.search(r'<form method="post" action="/admin/logout/"[^>]*id="sign-out-form"', html)
    assert "/portal/logout/" not in html


def test_the_current_section_is_marked(finance_user):
    html = signed_in(finance_user).get("/staff/presales/").content.decode()

    assert re.search(r'id="nav-presales" aria-current="page"', html)
    assert not re.search(r'id="nav-dashboard" aria-current', html)


def test_presales_pages_are_in_the_staff_shell_not_the_admin_frame(presales_user):
    response = signed_in(presales_user).get("/staff/presales/")

    assert response.status_code == 200
    names = template_names(response)
    assert "staff/presales/base.html" in names and "staff/base.html" in names
    assert not any(name.startswith("admin/base") for name in names), names
    html = response.content.decode()
    assert "/static/admin/css/" not in html and "/static/common/site.css" in html
    assert 'id="nav-presales"' in html and 'id="nav-dashboard"' not in html  # presales is not finance
    assert "<h1>需求录入</h1>" in html or "<h1>Requirement intake</h1>" in html


def test_staff_sign_out_posts_to_the_admin_logout_and_ends_the_session(finance_user):
    client = signed_in(finance_user)
    assert client.get("/staff/").status_code == 200

    response = client.post("/admin/logout/")

    assert response.status_code == 200
    after = client.get("/staff/")
    assert after.status_code == 302 and after["Location"].startswith("/admin/login/")


def test_the_portal_shell_signs_out_through_the_portal(alice):
    html = signed_in(alice).get("/portal/").content.decode()

    assert re.search(r'<form method="post" action="/portal/logout/"[^>]*id="sign-out-form"', html)
    assert 'id="staff-nav"' not in html


@pytest.mark.parametrize(
    ("who", "path"), [("finance_user", "/staff/"), ("alice", "/portal/"), (None, "/portal/login/")]
)
def test_both_shells_use_the_one_stylesheet_and_nothing_inline(request, who, path):
    client = signed_in(request.getfixturevalue(who)) if who else Client()
    html = client.get(path).content.decode()

    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', html) == ["/static/common/site.css"]
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # scripts only as files (CSP script-src 'self')


def test_a_superuser_outside_every_group_sees_the_whole_staff_navigation(db):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    html = signed_in(root).get("/staff/").content.decode()

    for section in ("dashboard", "reconciliation", "statement", "presales", "admin"):
        assert f'id="nav-{section}"' in html
