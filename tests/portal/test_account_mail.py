"""Issue 21 item 11: password reset and invitations are throttled and their e-mails are
sent by a worker (never inside the request), the answer is the same for a known and an
unknown address, an invitation link is dead once the invitee is deactivated, and the
invite form never tells that another customer's user or our staff have a login."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from customers import tasks
from customers.models import PortalUser
from tests.factories import UserFactory
from tests.portal.conftest import signed_in

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def queued(monkeypatch):
    """The tasks the request queued (not run): (name, args)."""
    sent = []
    for task in (tasks.mail_send, tasks.password_reset_mail):
        monkeypatch.setattr(task, "apply_async", lambda args, _n=task.name, **_o: sent.append((_n, list(args))))
    return sent


def page_without_token(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def reset(client: Client, email: str, address: str = "198.51.100.7"):
    return client.post("/portal/password-reset/", {"email": email}, REMOTE_ADDR=address)


def test_a_reset_request_sends_nothing_itself_and_answers_the_same_for_any_address(alice, queued):
    known, unknown = Client(), Client()
    known_answer = reset(known, "alice@example.com")
    unknown_answer = reset(unknown, "nobody@example.com")

    assert mail.outbox == []  # no e-mail inside the request
    assert [name for name, _args in queued] == ["customers.tasks.password_reset_mail"] * 2
    assert (known_answer.status_code, known_answer["Location"]) == (
        unknown_answer.status_code,
        unknown_answer["Location"],
    )
    assert page_without_token(known.get(known_answer["Location"])) == page_without_token(
        unknown.get(unknown_answer["Location"])
    )

    # The worker then sends to the known address only.
    for _name, args in queued:
        tasks.password_reset_mail.apply(args=args)
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert re.search(r"/portal/password-reset/[^/\s]+/[^/\s]+/", mail.outbox[0].body)


def test_at_most_three_reset_mails_an_hour_to_one_address(alice):
    answers = [reset(Client(), "alice@example.com", f"198.51.100.{n}").status_code for n in range(5)]
    assert answers == [302] * 5  # the answer does not change
    assert len(mail.outbox) == 3


def test_at_most_twenty_reset_requests_an_hour_from_one_client(alice):
    client = Client()
    answers = [reset(client, f"user{n}@example.com").status_code for n in range(21)]
    assert answers == [302] * 20 + [429]
    assert reset(client, "alice@example.com", "192.0.2.1").status_code == 302  # another client


def invite(client: Client, email: str, captured, role: str = "developer"):
    with captured(execute=True):
        return client.post("/portal/users/", {"email": email, "role": role})


def test_the_invitation_is_sent_by_a_worker_after_the_request(alice, queued, django_capture_on_commit_callbacks):
    answer = invite(signed_in(alice), "new@acme.example.cn", django_capture_on_commit_callbacks)
    assert answer.status_code == 302
    assert mail.outbox == []
    ((name, (subject, body, to)),) = queued
    assert (name, to) == ("customers.tasks.mail_send", ["new@acme.example.cn"])
    assert "/portal/invitation/" in body


def invitation_link(message) -> str:
    return re.search(r"http://testserver(/portal/invitation/\S+/)", message.body).group(1)


def test_an_invitation_link_is_dead_once_the_invitee_is_deactivated(alice, django_capture_on_commit_callbacks):
    admin = signed_in(alice)
    invite(admin, "gone@acme.example.cn", django_capture_on_commit_callbacks)
    link = invitation_link(mail.outbox[-1])
    member = PortalUser.objects.get(user__email="gone@acme.example.cn")
    assert 'name="new_password1"' in Client().get(link, follow=True).content.decode()  # alive

    assert admin.post(f"/portal/users/{member.pk}/active/", {"is_active": "0"}).status_code == 302

    visitor = Client()
    page = visitor.get(link, follow=True).content.decode()
    assert 'id="invalid-link"' in page and 'name="new_password1"' not in page
    # Posting the form to the link's set-password URL does nothing either.
    set_password_url = link.rsplit("/", 2)[0] + "/set-password/"
    visitor.post(set_password_url, {"new_password1": "a-long-new-pass-2026", "new_password2": "a-long-new-pass-2026"})
    member.user.refresh_from_db()
    assert not member.user.has_usable_password()


@pytest.mark.parametrize("who", ["other_customer_user", "staff"])
def test_the_invite_form_answers_the_same_for_an_address_with_a_login_elsewhere(
    alice, charlie, who, django_capture_on_commit_callbacks
):
    if who == "staff":
        existing = UserFactory(username="fiona", email="fiona@reseller.example.cn", is_staff=True)
    else:
        existing = charlie
        User.objects.filter(pk=charlie.pk).update(email="charlie@other.example.cn")
        existing.refresh_from_db()
    admin = signed_in(alice, "en")
    fresh = invite(admin, "fresh@acme.example.cn", django_capture_on_commit_callbacks)
    taken = invite(admin, existing.email, django_capture_on_commit_callbacks)

    assert (taken.status_code, taken["Location"]) == (fresh.status_code, fresh["Location"]) == (302, "/portal/users/")
    page = admin.get("/portal/users/").content.decode()
    assert "already has a login" not in page
    assert f"An invitation was sent to {existing.email}" in page
    member = PortalUser.objects.get(customer__code="ACME", user__email=existing.email)
    assert member.user != existing  # a login of its own, for this customer only
    assert mail.outbox[-1].to == [existing.email]


def test_inviting_ones_own_user_again_is_refused(alice, bob):
    User.objects.filter(pk=bob.pk).update(email="bob@acme.example.cn")
    page = signed_in(alice, "en").post("/portal/users/", {"email": "BOB@acme.example.cn", "role": "developer"})
    assert page.status_code == 200
    assert "already has a login" in page.content.decode()


def test_at_most_twenty_invitations_an_hour_per_customer(alice, django_capture_on_commit_callbacks):
    admin = signed_in(alice, "en")
    answers = [
        invite(admin, f"u{n}@acme.example.cn", django_capture_on_commit_callbacks).status_code for n in range(21)
    ]
    assert answers == [302] * 20 + [200]
    page = admin.post("/portal/users/", {"email": "late@acme.example.cn", "role": "developer"})
    assert "At most 20 invitations an hour" in page.content.decode()
    assert not User.objects.filter(email="late@acme.example.cn").exists()
    assert len(mail.outbox) == 20
