"""Issue 21 item 14: account-specific answers are never cached (one middleware), pages take
GET/HEAD/POST only, staff sessions end after an idle hour, expired sessions are cleared on
beat, and a revoked API token cannot be revived in the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from customers.models import ApiToken
from customers.services import api_token_create
from procurement.schedule import SCHEDULE
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def no_store(response) -> bool:
    parts = {p.strip() for p in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= parts


@pytest.mark.parametrize(
    "path",
    [
        "/portal/",
        "/portal/usage/",
        "/portal/usage/export.csv?period=2026-11",
        "/portal/usage/export.xlsx?period=2026-11",
        "/portal/bills/",
        "/portal/users/",
        "/portal/login/",
    ],
)
def test_portal_pages_and_exports_are_private_no_store(client, alice, acme_project, path):
    client.force_login(alice)
    response = client.get(path)
    assert response.status_code in (200, 302), response.status_code
    assert no_store(response), (path, response.get("Cache-Control"))


@pytest.mark.parametrize("path", ["/api/v1/bills/", "/api/v1/customers/ACME/", "/api/v1/usage-summary/?period=2026-11"])
def test_api_answers_are_private_no_store(alice_client, path):
    response = alice_client.get(path)
    assert response.status_code == 200, response.content
    assert no_store(response)


def test_an_api_error_is_private_no_store_too(client):
    assert no_store(client.get("/api/v1/bills/"))


def test_staff_pages_are_private_no_store(client, finance_user):
    client.force_login(finance_user)
    for path in ("/admin/", "/staff/", "/staff/presales/"):
        response = client.get(path)
        assert no_store(response), path


@pytest.mark.parametrize("method", ["put", "patch", "delete", "options"])
@pytest.mark.parametrize("path", ["/staff/", "/staff/presales/", "/admin/", "/portal/users/", "/portal/login/"])
def test_pages_answer_other_methods_with_405(client, finance_user, method, path):
    client.force_login(finance_user)
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "POST"}


def test_the_api_keeps_its_methods(alice_client):
    # DRF answers its own 405 (with the JSON error shape) for a method a view lacks
    response = alice_client.delete("/api/v1/bills/")
    assert response.status_code == 405
    assert "detail" in response.json()


def test_a_staff_session_ends_after_an_idle_hour_and_each_request_starts_it_again(finance_user):
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(finance_user)
        assert client.get("/staff/").status_code == 200
        assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.STAFF_SESSION_IDLE_SECONDS == 3600
    with time_machine.travel(start + timedelta(minutes=50), tick=False):
        assert client.get("/staff/").status_code == 200  # active: the hour starts again
    with time_machine.travel(start + timedelta(minutes=100), tick=False):
        assert client.get("/staff/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=161), tick=False):
        response = client.get("/staff/")
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/?next=/staff/")


def test_a_portal_session_lasts_a_day_not_two_weeks(alice):
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(alice)
        assert client.get("/portal/").status_code == 200
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        assert client.get("/portal/").status_code == 200  # not the staff hour
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        assert client.get("/portal/").status_code == 302
    assert settings.SESSION_COOKIE_AGE == 24 * 3600


def test_an_api_token_request_of_staff_creates_no_session(finance_client):
    before = Session.objects.count()
    assert finance_client.get("/api/v1/bills/").status_code == 200
    assert Session.objects.count() == before


def test_expired_sessions_are_cleared_by_a_beat_task():
    from procurement.tasks import sessions_clear

    assert ("procurement.tasks.sessions_clear", {"minute": "15", "hour": "4", "day_of_month": "*"}) in [
        (e.task, e.crontab) for e in SCHEDULE
    ]
    client = Client()
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=3), tick=False):
        client.force_login(UserFactory(username="old"))
    Client().force_login(UserFactory(username="new"))
    assert Session.objects.count() == 2

    sessions_clear.delay()

    assert Session.objects.count() == 1


def test_a_revoked_api_token_cannot_be_revived_in_the_admin(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    token, _secret = api_token_create(user=UserFactory(username="svc"), name="ci")
    url = f"/admin/customers/apitoken/{token.pk}/change/"
    # Not yet revoked: revoking is possible
    assert 'name="revoked_at_0"' in client.get(url).content.decode()
    client.post(url, {"revoked_at_0": "2026-12-01", "revoked_at_1": "10:00:00"})
    token.refresh_from_db()
    assert token.revoked_at is not None
    revoked_at = token.revoked_at

    page = client.get(url).content.decode()
    assert 'name="revoked_at_0"' not in page  # read-only once revoked
    client.post(url, {"revoked_at_0": "", "revoked_at_1": ""})

    assert ApiToken.objects.get(pk=token.pk).revoked_at == revoked_at
