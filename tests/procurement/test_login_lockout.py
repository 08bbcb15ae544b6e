"""Issue 21 item 7: django-axes behind the TLS proxy. The client's address comes from the
proxy's X-Forwarded-For (TRUSTED_PROXY_COUNT hops), a lock-out holds one username from one
client address only, and an admin action unlocks a user at once."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from procurement.security import client_address
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PROXY = "10.0.0.2"  # the TLS proxy, the only address the app server sees
ATTACKER = "203.0.113.5"
OFFICE = "198.51.100.7"
PASSWORD = "Correct-Horse-9"


@pytest.fixture(autouse=True)
def _behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


@pytest.fixture
def fiona(db):
    user = UserFactory(username="fiona", is_staff=True, groups=["finance"])
    user.set_password(PASSWORD)
    user.save()
    return user


def login(username: str, password: str, forwarded_for: str, client: Client | None = None):
    client = client or Client()
    return client.post(
        "/portal/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def fail_ten_times(username: str, forwarded_for: str) -> None:
    answers = [login(username, "wrong", forwarded_for).status_code for _ in range(10)]
    assert answers == [200] * 9 + [429]  # the tenth failure locks


def test_ten_wrong_passwords_lock_that_username_from_that_client_only(fiona):
    fail_ten_times("fiona", ATTACKER)

    assert login("fiona", PASSWORD, ATTACKER).status_code == 429  # locked: even the right password
    # The same user from the office, behind the same proxy: not locked
    assert login("fiona", PASSWORD, OFFICE).status_code == 302


def test_another_user_at_the_locked_address_is_not_locked(fiona):
    other = UserFactory(username="root", is_staff=True, is_superuser=True)
    other.set_password(PASSWORD)
    other.save()
    fail_ten_times("fiona", ATTACKER)

    assert login("root", PASSWORD, ATTACKER).status_code == 302


def test_what_a_client_writes_into_the_header_does_not_escape_the_lock_out(fiona):
    fail_ten_times("fiona", ATTACKER)

    # The client sends its own X-Forwarded-For; the proxy appends the real address.
    assert login("fiona", PASSWORD, f"{OFFICE}, {ATTACKER}").status_code == 429
    assert login("fiona", PASSWORD, f"1.2.3.4, 5.6.7.8, {ATTACKER}").status_code == 429


def test_the_admin_action_unlocks_a_user_at_once(fiona):
    fail_ten_times("fiona", ATTACKER)
    fail_ten_times("fiona", OFFICE)
    admin = Client()
    admin.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))

    response = admin.post(
        "/admin/auth/user/",
        {"action": "unlock_sign_in", "_selected_action": [fiona.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "Users unlocked: 1 (failed-login records removed: 2)" in response.content.decode()
    assert login("fiona", PASSWORD, ATTACKER).status_code == 302
    assert login("fiona", PASSWORD, OFFICE).status_code == 302


def test_the_client_address_rule(settings):
    factory = RequestFactory()

    def address(count: int, forwarded: str | None, remote: str = PROXY) -> str | None:
        settings.TRUSTED_PROXY_COUNT = count
        extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
        return client_address(factory.get("/", REMOTE_ADDR=remote, **extra))

    assert address(1, ATTACKER) == ATTACKER
    assert address(1, f"9.9.9.9, {ATTACKER}") == ATTACKER
    assert address(2, f"9.9.9.9, {ATTACKER}, 10.0.0.9") == ATTACKER
    assert address(2, ATTACKER) == PROXY  # fewer hops than proxies: not through them
    assert address(1, None) == PROXY  # a check from inside the network
    assert address(1, "not-an-address") == PROXY
    assert address(0, ATTACKER) == PROXY  # no trusted proxy: the header is ignored
