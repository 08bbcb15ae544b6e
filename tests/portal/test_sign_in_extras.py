"""Password reset by e-mail (in the reader's language) and login throttling (django-axes):
ten wrong passwords for a username from one address lock it for an hour, on the portal's
login and the admin's alike; the right password is refused while it is locked."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.portal.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _reset_link(message) -> str:
    (link,) = re.findall(r"http://testserver(/portal/password-reset/[^/\s]+/[^/\s]+/)", message.body)
    return link


def test_it_sends_a_reset_link_in_chinese_by_default(client, alice):
    answer = client.post("/portal/password-reset/", {"email": "alice@example.com"})

    assert answer.status_code == 302
    assert answer["Location"] == "/portal/password-reset/sent/"
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "重置客户门户密码"
    assert "选择新密码" in message.body
    assert _reset_link(message)


def test_it_writes_the_e_mail_in_english_for_an_english_reader(client, alice):
    client.post("/portal/password-reset/", {"email": "alice@example.com"}, HTTP_ACCEPT_LANGUAGE="en")

    (message,) = mail.outbox
    assert message.subject == "Reset your password for the customer portal"
    assert "Open this link to choose a new password" in message.body


def test_it_says_the_same_for_an_unknown_address_and_sends_nothing(client, alice):
    answer = client.post("/portal/password-reset/", {"email": "nobody@example.com"})

    assert answer["Location"] == "/portal/password-reset/sent/"
    assert mail.outbox == []


def test_the_link_sets_a_new_password_once(client, alice):
    client.post("/portal/password-reset/", {"email": "alice@example.com"})
    link = _reset_link(mail.outbox[0])

    form = client.get(link, follow=True)
    new = "a-new-Password-2026"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})

    assert done["Location"] == "/portal/password-reset/done/"
    alice.refresh_from_db()
    assert alice.check_password(new)
    again = client.get(link, follow=True)
    assert "此链接已失效" in again.content.decode()


def test_it_shows_a_too_short_new_password_beside_the_field(client, alice):
    client.post("/portal/password-reset/", {"email": "alice@example.com"})
    form = client.get(_reset_link(mail.outbox[0]), follow=True)

    page = client.post(form.redirect_chain[-1][0], {"new_password1": "abc", "new_password2": "abc"})

    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'id="id_new_password2".*?class="errorlist', html, re.S)
    assert "这个密码太常见了" in html


def _fail(client, url: str, username: str, times: int) -> list:
    return [client.post(url, {"username": username, "password": "wrong-password"}) for _ in range(times)]


@pytest.mark.parametrize("url", ["/portal/login/", "/admin/login/"])
def test_it_locks_a_username_out_after_ten_wrong_passwords(client, alice, url):
    answers = _fail(client, url, "alice", 30)

    assert [a.status_code for a in answers[:9]] == [200] * 9
    assert {a.status_code for a in answers[10:]} == {429}
    assert "登录失败 10 次" in answers[-1].content.decode()
    right = client.post(url, {"username": "alice", "password": PASSWORD})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_out_page_follows_the_readers_language(client, alice):
    _fail(client, "/portal/login/", "alice", 10)

    page = client.post(
        "/portal/login/", {"username": "alice", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert "failed 10 times" in page
    assert 'lang="en"' in page


def test_the_lock_lasts_an_hour(client, alice, time_machine):
    from datetime import timedelta

    from django.utils import timezone

    _fail(client, "/portal/login/", "alice", 10)
    time_machine.move_to(timezone.now() + timedelta(hours=1, minutes=1))

    answer = client.post("/portal/login/", {"username": "alice", "password": PASSWORD})

    assert answer.status_code == 302
    assert answer["Location"] == "/portal/"


def test_it_locks_only_that_username_from_that_address(client, alice, bob):
    _fail(client, "/portal/login/", "alice", 10)

    other_user = client.post("/portal/login/", {"username": "bob", "password": PASSWORD})
    other_address = client.post("/portal/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")

    assert other_user.status_code == 302
    assert other_address.status_code == 302
