"""Signing in to the portal: portal users land in their own customer's portal, staff in the
admin, signed-out visitors are sent to the portal's login."""

import pytest

from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"


def test_login_page_is_the_portal_form(client, db):
    page = client.get("/portal/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="username"' in html and 'name="password"' in html and "csrfmiddlewaretoken" in html
    assert 'lang="zh-hans"' in html


def test_portal_user_signs_in_and_out(client, alice):
    answer = client.post("/portal/login/", {"username": "alice", "password": PASSWORD})
    assert answer.status_code == 302
    assert answer["Location"] == "/portal/"
    assert client.post("/portal/logout/")["Location"] == "/portal/login/"
    assert "_auth_user_id" not in client.session


def test_staff_are_sent_to_the_admin(client, finance_user):
    answer = client.post("/portal/login/", {"username": "fiona", "password": PASSWORD})
    assert answer["Location"] == "/admin/"


def test_wrong_password_shows_the_form_again_with_the_error(client, alice):
    page = client.post("/portal/login/", {"username": "alice", "password": "nope"})
    assert page.status_code == 200
    assert "请输入一个正确的" in page.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("next_url", ["/documents/bills/BILL-X/pdf/"])
def test_next_is_honoured(client, alice, next_url):
    answer = client.post(
        f"/portal/login/?next={next_url}", {"username": "alice", "password": PASSWORD, "next": next_url}
    )
    assert answer["Location"] == next_url


def test_user_without_portal_membership_or_staff_is_refused(client, db):
    UserFactory(username="stranger")
    client.post("/portal/login/", {"username": "stranger", "password": PASSWORD})
    from django.test import RequestFactory

    from portal.access import portal_view

    @portal_view()
    def page(request):  # pragma: no cover - never reached
        raise AssertionError

    request = RequestFactory().get("/portal/")
    request.user = UserFactory(username="stranger")
    request.session = client.session
    answer = page(request)
    assert answer.status_code == 403
    assert "门户管理员" in answer.content.decode()
