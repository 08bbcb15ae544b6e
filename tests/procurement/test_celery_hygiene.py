"""Celery hygiene: every task routed to the queue it is meant for and time-limited, the
beat schedule created from procurement/schedule.py once, and a command twin for each
periodic task."""

from __future__ import annotations

from io import StringIO

import pytest
from celery import current_app
from django.conf import settings
from django.core.management import call_command, get_commands
from django_celery_beat.models import PeriodicTask

from procurement.schedule import SCHEDULE, beat_schedule_sync

OUR_APPS = ("billing.", "invoices.", "customers.", "presales.", "procurement.", "gateways.")


def our_tasks() -> dict:
    current_app.loader.import_default_modules()
    return {name: task for name, task in current_app.tasks.items() if name.startswith(OUR_APPS)}


def test_it_routes_every_task_to_a_named_queue():
    tasks = our_tasks()
    assert tasks, "no tasks registered"
    assert set(tasks) == set(settings.CELERY_TASK_ROUTES)
    router = current_app.amqp.router
    for name in tasks:
        assert router.route({}, name)["queue"].name == settings.CELERY_TASK_ROUTES[name]["queue"]


def test_it_sends_budget_and_alert_tasks_to_notify():
    routes = settings.CELERY_TASK_ROUTES
    for name in (
        "billing.tasks.budgets_evaluate",
        "billing.tasks.budgets_evaluate_all",
        "billing.tasks.alert_deliver",
        "billing.tasks.alerts_retry_pending",
        "billing.tasks.anomalies_scan",
    ):
        assert routes[name] == {"queue": "notify"}, name


def test_it_limits_the_time_of_every_task():
    for name, task in our_tasks().items():
        assert task.time_limit and task.time_limit > 0, name
        assert task.soft_time_limit and task.soft_time_limit < task.time_limit, name


@pytest.mark.django_db
def test_it_creates_the_beat_schedule_once_and_keeps_edits():
    # migrate (post_migrate) has created every row already
    assert set(PeriodicTask.objects.values_list("name", "task")) >= {(e.name, e.task) for e in SCHEDULE}
    PeriodicTask.objects.filter(name="Evaluate budgets").update(enabled=False)
    PeriodicTask.objects.filter(name="Month close (月结)").delete()

    assert beat_schedule_sync() == ["Month close (月结)"]
    assert beat_schedule_sync() == []
    assert PeriodicTask.objects.filter(name__in=[e.name for e in SCHEDULE]).count() == len(SCHEDULE)
    assert PeriodicTask.objects.get(name="Evaluate budgets").enabled is False
    month_close = PeriodicTask.objects.get(name="Month close (月结)")
    assert (month_close.crontab.minute, month_close.crontab.hour, month_close.crontab.day_of_month) == ("0", "2", "1")
    assert str(month_close.crontab.timezone) == settings.BILLING_TIME_ZONE


def test_every_scheduled_task_exists_and_has_a_command_twin():
    twins = {
        "billing.tasks.month_close": "close_month",
        "billing.tasks.bills_mark_overdue": "mark_overdue",
        "billing.tasks.dunning_run": "run_dunning",
        "billing.tasks.budgets_evaluate_all": "evaluate_budgets",
        "billing.tasks.alerts_retry_pending": "deliver_alerts",
        "billing.tasks.anomalies_scan": "scan_anomalies",
        "procurement.tasks.sessions_clear": "clearsessions",
        "gateways.tasks.gateway_logs_sync_all": "sync_gateway_logs",
        "gateways.tasks.gateway_days_check_all": "check_gateway_logs",
    }
    commands = get_commands()
    tasks = our_tasks()
    for entry in SCHEDULE:
        assert entry.task in tasks, entry.task
    for task, command in twins.items():
        assert task in tasks and command in commands, (task, command)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ("evaluate_budgets", [], "0 alerts fired"),
        ("mark_overdue", ["--today", "2026-12-31"], "2026-12-31: 0 bills marked overdue"),
        ("run_dunning", ["--today", "2026-12-31"], "2026-12-31: 0 notices made, 0 sent, 0 failed"),
        ("scan_anomalies", ["--day", "2026-11-30"], "2026-11-30: 0 anomaly alerts fired"),
        ("deliver_alerts", [], "0 alert deliveries sent, 0 failed"),
    ],
)
def test_the_command_twins_run_with_nothing_to_do(command, args, expected):
    out = StringIO()
    call_command(command, *args, stdout=out)
    assert out.getvalue().strip() == expected
