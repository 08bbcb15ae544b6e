"""The admin home as finance sees it: their apps first, the beat schedule last and read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask

pytestmark = pytest.mark.django_db


def test_it_lists_finance_apps_before_users_and_periodic_tasks(clerk_client):
    response = clerk_client.get(reverse("admin:index"))

    labels = [app["app_label"] for app in response.context["app_list"]]
    assert labels[:3] == ["customers", "billing", "invoices"]
    assert labels[-1] == "django_celery_beat"


def test_it_shows_finance_the_close_schedule_read_only(clerk_client):
    schedule = CrontabSchedule.objects.create(minute="0", hour="2", day_of_month="1")
    task = PeriodicTask.objects.create(name="close-test", task="billing.close_month", crontab=schedule)
    change = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])

    page = clerk_client.get(change)
    posted = clerk_client.post(change, {"name": "close-test", "task": "billing.close_month", "enabled": ""})

    assert page.status_code == 200
    assert 'name="name"' not in page.content.decode()  # no editable field
    assert posted.status_code == 403
    task.refresh_from_db()
    assert task.enabled is True
    assert clerk_client.get(reverse("admin:django_celery_beat_periodictask_add")).status_code == 403
    assert clerk_client.get(reverse("admin:django_celery_beat_periodictask_delete", args=[task.pk])).status_code == 403


def test_it_shows_an_alert_in_the_readers_language(clerk_client, acme):
    from datetime import date

    from billing.models import Alert

    alert = Alert.objects.create(
        customer=acme,
        kind="threshold",
        threshold=80,
        period=date(2026, 11, 1),
        amount="812.40",
        message="ACME：本月消费 ¥812.40，达到预算的 81.2%（阈值 80%）。",
        dedupe_key="t:80",
    )
    change = reverse("admin:billing_alert_change", args=[alert.pk])

    chinese = clerk_client.get(change).content.decode()
    english = clerk_client.get(change, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "ACME：2026-11 已消费 ¥812.40，超过 80% 阈值。" in chinese
    assert "ACME: ¥812.40 spent in 2026-11, past the 80% threshold." in english
    assert "修改" not in chinese.split("<h1>")[1][:40]  # a read-only page: 查看, not 修改


def test_view_site_leads_finance_and_presales_to_their_pages_not_back_to_the_admin(client, clerk, presales_user):
    for user, site_url, links in (
        (clerk, "/staff/", ["/staff/", "/staff/presales/"]),
        (presales_user, "/staff/presales/", ["/staff/presales/"]),
    ):
        client.force_login(user)
        response = client.get(reverse("admin:index"))
        assert response.context["site_url"] == site_url
        assert [url for url, _label in response.context["staff_links"]] == links
        home = client.get("/")
        assert home.status_code == 302 and home["Location"] == site_url
